/* SPDX-License-Identifier: BSD-2-Clause */
/* The HTML report's assets, built into perfbpf so that a report opens offline with nothing
 * fetched: Chart.js (Debian's libjs-chart.js, MIT licence header kept in the file) and the page's
 * own script and style (this directory). Each is followed by a NUL. Paths come from the
 * Makefile (CHARTJS_FILE, REPORT_JS_FILE, REPORT_CSS_FILE). */
	.section .rodata
	.global html_asset_chartjs, html_asset_report_js, html_asset_report_css
	.type html_asset_chartjs, @object
html_asset_chartjs:
	.incbin CHARTJS_FILE
	.byte 0
	.type html_asset_report_js, @object
html_asset_report_js:
	.incbin REPORT_JS_FILE
	.byte 0
	.type html_asset_report_css, @object
html_asset_report_css:
	.incbin REPORT_CSS_FILE
	.byte 0
	.section .note.GNU-stack,"",@progbits
