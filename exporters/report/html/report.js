// SPDX-License-Identifier: BSD-2-Clause
// perfbpf's HTML report: draws the JSON summary inside the page (#perfbpf-data) with Chart.js,
// which is inlined before this script. Nothing is fetched. When done, it writes what it drew
// into #perfbpf-selfcheck (chart sizes and painted pixels, the numbers of the metrics table,
// errors, resources loaded), which perfbpf's browser test reads.
'use strict';
(function () {
	const errors = [];
	window.addEventListener('error', (e) => errors.push(String(e.message || e)));
	const t0 = performance.now();
	const D = JSON.parse(document.getElementById('perfbpf-data').textContent);
	const app = document.getElementById('app');
	const charts = {};
	Chart.defaults.animation = false;
	Chart.defaults.responsive = false;
	Chart.defaults.devicePixelRatio = 1;
	Chart.defaults.font.size = 12;

	// --- helpers --------------------------------------------------------------------------
	const el = (tag, attrs, ...kids) => {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (k === 'class') e.className = v;
			else if (k === 'text') e.textContent = v;
			else e.setAttribute(k, v);
		}
		for (const k of kids) if (k != null) e.append(k);
		return e;
	};
	const fmt = (ns) => {
		if (ns == null || !isFinite(ns)) return '–';
		const a = Math.abs(ns);
		if (a < 1e3) return `${Math.round(ns)} ns`;
		if (a < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
		if (a < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
		return `${(ns / 1e9).toPrecision(3)} s`;
	};
	const count = (n) => Number(n).toLocaleString('en-US');
	const palette = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#dc2626', '#0891b2', '#ca8a04',
		'#db2777', '#4b5563', '#65a30d'];
	const color = (i) => palette[i % palette.length];
	const canvas = (id, w, h) => el('canvas', { id, width: String(w), height: String(h) });
	const section = (title, ...kids) => app.append(el('h2', { text: title }), ...kids);
	const keyOf = (r) => JSON.stringify([r.kind, r.metric, r.symbol ?? '', r.strategy ?? '']);

	if (D.gate) { // perfbpf gate --html: the comparison, not a summary
		renderGate(D.gate);
		finish('#gate-table');
		return;
	}

	// --- header -----------------------------------------------------------------------------
	const start = D.start_unix_ns ? new Date(D.start_unix_ns / 1e6).toISOString() : '';
	app.append(el('h1', { text: 'perfbpf report' }),
		el('p', { class: 'sub', text: window.PERFBPF_TITLE || D.command || '' }),
		el('div', { class: 'facts' },
			...[['started', start], ['traced for', fmt(D.trace_ns)], ['events', count(D.events)],
				['dropped', count(D.dropped)], ['stop', D.stop_reason || ''],
				['statistics', D.stats || 'seed'], ['perfbpf', D.perfbpf_version || '']]
				.map(([k, v]) => el('div', {}, el('span', { text: k }), v))));
	if (D.dropped > 0)
		app.append(el('p', { class: 'warn', text: `${count(D.dropped)} events were dropped: see Data quality.` }));

	const rollups = (D.metric_rollups || []).slice().sort((a, b) => b.total_ns - a.total_ns);
	const keys = D.metrics || [];

	// --- bottleneck chart -------------------------------------------------------------------
	section('Where the time went',
		el('p', { class: 'note', text: 'Total and self time per metric (self: a span minus its child spans), largest first.' }),
		el('div', { class: 'card' }, canvas('chart-bottleneck', 1160, Math.max(160, 26 * Math.min(rollups.length, 30) + 60))));
	{
		const top = rollups.slice(0, 30);
		charts.bottleneck = new Chart(document.getElementById('chart-bottleneck'), {
			type: 'bar',
			data: {
				labels: top.map((r) => `${r.metric} (${r.kind})`),
				datasets: [
					{ label: 'total', data: top.map((r) => r.total_ns / 1e6), backgroundColor: '#2563eb' },
					{ label: 'self', data: top.map((r) => r.self_total_ns / 1e6), backgroundColor: '#93c5fd' },
				],
			},
			options: {
				indexAxis: 'y',
				scales: { x: { title: { display: true, text: 'ms' } } },
				plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.raw * 1e6)}` } } },
			},
		});
	}

	// --- metrics table ----------------------------------------------------------------------
	const cols = [['kind', (r) => r.kind], ['metric', (r) => r.metric], ['count', (r) => r.count, count],
		['total', (r) => r.total_ns, fmt], ['self', (r) => r.self_total_ns, fmt], ['mean', (r) => r.mean_ns, fmt],
		['p50', (r) => r.p50_ns, fmt], ['p95', (r) => r.p95_ns, fmt], ['p99', (r) => r.p99_ns, fmt],
		['max', (r) => r.max_ns, fmt]];
	const table = (id, rows, withKey) => {
		const c = withKey ? [cols[0], cols[1], ['symbol', (r) => r.symbol], ['strategy', (r) => r.strategy], ...cols.slice(2)] : cols;
		const tb = el('tbody');
		for (const r of rows) {
			const tr = el('tr', { 'data-key': keyOf(r) });
			for (const [name, get, f] of c) {
				const v = get(r);
				const td = el('td', { 'data-col': name, text: f ? f(v) : (v ?? '') });
				if (f) td.setAttribute('data-v', String(v));
				tr.append(td);
			}
			if (r.approximate) tr.lastChild.append(el('span', { class: 'approx', text: ' ≈' }));
			tb.append(tr);
		}
		return el('div', { class: 'tablewrap' },
			el('table', { id }, el('thead', {}, el('tr', {}, ...c.map(([n]) => el('th', { text: n })))), tb));
	};
	section('Metrics',
		el('p', { class: 'note', text: 'All symbols and strategies together. Click a row to see its distribution. ≈: percentiles from the histogram (within ' +
			`${((D.percentile_rel_error_approx || 0) * 100).toFixed(1)}%).` }),
		table('metrics-table', rollups, false));
	section('By symbol and strategy', table('keys-table', keys.slice().sort((a, b) => b.total_ns - a.total_ns), true));

	// --- distributions ----------------------------------------------------------------------
	// histogram bins of a row: from every run's rows (exact samples or the histogram, binned
	// alike: [lower ns, count]), else the row's own
	const binsOf = (r, keyed) => {
		const m = new Map();
		const match = (x) => x.kind === r.kind && x.metric === r.metric &&
			(!keyed || (x.symbol === r.symbol && x.strategy === r.strategy));
		const add = (h) => { for (const [lo, n] of h || []) m.set(lo, (m.get(lo) || 0) + n); };
		let found = false;
		for (const run of D.runs || [])
			for (const x of (keyed ? run.metrics : run.metrics) || [])
				if (match(x) && x.histogram) { add(x.histogram); found = true; }
		if (!found) for (const x of keys) if (match(x) && x.histogram) add(x.histogram);
		return [...m.entries()].sort((a, b) => a[0] - b[0]);
	};
	const pcts = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];
	const nines = (p) => Math.min(6, -Math.log10(Math.max(1e-6, 1 - p / 100)));
	const rankValue = (bins, total, p) => {
		const rank = Math.max(1, Math.ceil((total * p) / 100));
		let seen = 0;
		for (const [lo, n] of bins) { seen += n; if (seen >= rank) return lo; }
		return bins.length ? bins[bins.length - 1][0] : 0;
	};
	const pick = el('select', { id: 'pick' });
	rollups.forEach((r, i) => pick.append(el('option', { value: `m${i}`, text: `${r.metric} (${r.kind}) — all` })));
	keys.forEach((r, i) => pick.append(el('option', { value: `k${i}`, text: `${r.metric} (${r.kind}) — ${r.symbol || '∅'} / ${r.strategy || '∅'}` })));
	const distNote = el('p', { class: 'note' });
	section('Latency distribution',
		el('div', { class: 'controls' }, el('label', { text: 'metric ' }), pick), distNote,
		el('div', { class: 'row2' },
			el('div', { class: 'card' }, canvas('chart-histogram', 560, 320)),
			el('div', { class: 'card' }, canvas('chart-percentiles', 560, 320))));
	const drawDist = () => {
		const v = pick.value || 'm0';
		const r = v[0] === 'm' ? rollups[+v.slice(1)] : keys[+v.slice(1)];
		if (!r) return;
		const bins = binsOf(r, v[0] === 'k');
		const total = bins.reduce((s, [, n]) => s + n, 0);
		distNote.textContent = `${r.metric} (${r.kind}): ${count(r.count)} events, p50 ${fmt(r.p50_ns)}, p95 ${fmt(r.p95_ns)}, p99 ${fmt(r.p99_ns)}` +
			(r.approximate ? ' — percentiles from the histogram (approximate)' : ' — p50/p95/p99 exact') +
			(total ? '; the curves from the 0.4% histogram' : '; no histogram in this summary (monitor, or --repeat without runs)');
		for (const c of ['histogram', 'percentiles']) if (charts[c]) charts[c].destroy();
		charts.histogram = new Chart(document.getElementById('chart-histogram'), {
			type: 'line',
			data: { datasets: [{ label: 'events per bucket', data: bins.map(([lo, n]) => ({ x: Math.max(lo, 1), y: n })),
				stepped: 'before', borderColor: '#2563eb', backgroundColor: 'rgba(37,99,235,0.25)', fill: true,
				pointRadius: bins.length < 40 ? 3 : 0 }] },
			options: {
				parsing: false,
				scales: { x: { type: 'logarithmic', title: { display: true, text: 'duration (ns, log)' }, ticks: { callback: (v) => fmt(v) } },
					y: { title: { display: true, text: 'events' }, beginAtZero: true } },
				plugins: { tooltip: { callbacks: { label: (c) => `${fmt(c.raw.x)}: ${count(c.raw.y)}` } } },
			},
		});
		const curve = total ? pcts.map((p) => ({ x: nines(p), y: Math.max(1, rankValue(bins, total, p)), p })) : [];
		const marks = [[50, r.p50_ns], [95, r.p95_ns], [99, r.p99_ns]].map(([p, ns]) => ({ x: nines(p), y: Math.max(1, ns), p }));
		charts.percentiles = new Chart(document.getElementById('chart-percentiles'), {
			type: 'line',
			data: { datasets: [
				{ label: 'percentile (histogram)', data: curve, borderColor: '#ea580c', pointRadius: 2, tension: 0 },
				{ label: 'p50 / p95 / p99 (summary)', data: marks, showLine: false, pointRadius: 6, pointStyle: 'rectRot', backgroundColor: '#16a34a' },
			] },
			options: {
				parsing: false,
				scales: { x: { type: 'linear', min: 0, max: 6, title: { display: true, text: 'percentile' },
					ticks: { stepSize: 1, callback: (v) => `${(100 - 100 * Math.pow(10, -v)).toFixed(Math.max(0, v - 2))}%` } },
				y: { type: 'logarithmic', title: { display: true, text: 'duration (log)' }, ticks: { callback: (v) => fmt(v) } } },
				plugins: { tooltip: { callbacks: { label: (c) => `p${c.raw.p}: ${fmt(c.raw.y)}` } } },
			},
		});
	};
	// first shown: the metric with the most events (its shape says the most)
	if (rollups.length)
		pick.value = `m${rollups.reduce((b, r, i) => (r.count > rollups[b].count ? i : b), 0)}`;
	pick.addEventListener('change', drawDist);
	for (const id of ['metrics-table', 'keys-table'])
		document.getElementById(id).addEventListener('click', (e) => {
			const tr = e.target.closest('tr[data-key]');
			if (!tr) return;
			const list = id === 'metrics-table' ? rollups : keys;
			const i = list.findIndex((r) => keyOf(r) === tr.dataset.key);
			if (i < 0) return;
			pick.value = `${id === 'metrics-table' ? 'm' : 'k'}${i}`;
			drawDist();
		});
	drawDist();

	// --- attribution ------------------------------------------------------------------------
	const attributed = rollups.filter((r) => r.kind === 'span' && r.oncpu_total_ns != null);
	if (attributed.length) {
		section('Where span time went: on CPU, waiting for a CPU, blocked',
			el('p', { class: 'note', text: 'From the scheduler (--attribution): the three add up to each span\'s duration.' }),
			el('div', { class: 'card' }, canvas('chart-attribution', 1160, Math.max(140, 26 * attributed.length + 60))));
		charts.attribution = new Chart(document.getElementById('chart-attribution'), {
			type: 'bar',
			data: { labels: attributed.map((r) => r.metric), datasets: [
				{ label: 'on CPU', data: attributed.map((r) => r.oncpu_total_ns / 1e6), backgroundColor: '#16a34a' },
				{ label: 'run queue', data: attributed.map((r) => r.runq_total_ns / 1e6), backgroundColor: '#ca8a04' },
				{ label: 'blocked', data: attributed.map((r) => r.blocked_total_ns / 1e6), backgroundColor: '#dc2626' },
			] },
			options: { indexAxis: 'y', scales: { x: { stacked: true, title: { display: true, text: 'ms' } }, y: { stacked: true } },
				plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.raw * 1e6)}` } } } },
		});
	}

	// --- timeline ---------------------------------------------------------------------------
	const T = D.timeline;
	if (T && T.events && T.events.length) {
		const ev = T.events; // [lane, depth, kind, start, dur, name]
		let end = 0;
		for (const e of ev) end = Math.max(end, e[3] + e[4]);
		const maxBars = 4000;
		let view = [0, end];
		const info = el('span', { class: 'note' });
		const btn = (text, f) => { const b = el('button', { text }); b.addEventListener('click', f); return b; };
		const zoom = (k) => { const mid = (view[0] + view[1]) / 2, half = Math.max(1e3, (view[1] - view[0]) * k / 2); view = [Math.max(0, mid - half), Math.min(end, mid + half)]; drawTimeline(); };
		const pan = (k) => { const w = view[1] - view[0]; let a = Math.min(Math.max(0, view[0] + k * w), Math.max(0, end - w)); view = [a, a + w]; drawTimeline(); };
		section('Span timeline',
			el('p', { class: 'note', text: `The first ${count(T.captured)} of ${count(T.seen)} events to end, by thread (lanes) and nesting depth; ` +
				`ops in a row of their own. Zoom with the wheel or the buttons, drag to pan; at most ${maxBars} bars (the longest) are drawn at once.` }),
			el('div', { class: 'controls' }, btn('zoom in', () => zoom(0.5)), btn('zoom out', () => zoom(2)),
				btn('◀', () => pan(-0.5)), btn('▶', () => pan(0.5)), btn('all', () => { view = [0, end]; drawTimeline(); }), info),
			el('div', { class: 'card' }, canvas('chart-timeline', 1160, 420)));
		const laneName = (l, d) => `pid ${T.lanes[l][0]} tid ${T.lanes[l][1]}${d ? ' · ' + d : ''}`;
		const drawTimeline = () => {
			let shown = ev.filter((e) => e[3] + e[4] >= view[0] && e[3] <= view[1]);
			const more = shown.length > maxBars;
			if (more) { // the longest: the structure of the window (by power of two of duration)
				const cnt = new Array(64).fill(0), bucket = (e) => Math.min(63, Math.floor(Math.log2(e[4] + 1)));
				for (const e of shown) cnt[bucket(e)]++;
				let b = 63, acc = 0;
				while (b > 0 && acc + cnt[b] < maxBars) acc += cnt[b--];
				let room = maxBars - acc;
				shown = shown.filter((e) => { const k = bucket(e); return k > b || (k === b && room-- > 0); });
			}
			// a lane per thread, a row per span depth, and one for its ops
			const rowOf = (e) => `${e[0]}:${e[2] ? e[1] : 'ops'}`;
			const rows = [...new Set(shown.map(rowOf))].sort((a, b) => {
				const [la, da] = a.split(':'), [lb, db] = b.split(':');
				return la - lb || (da === 'ops') - (db === 'ops') || da - db;
			});
			const label = (k) => { const [l, d] = k.split(':'); return d === 'ops' ? `${laneName(+l, 0)} · ops` : laneName(+l, +d); };
			// a colour each for the 12 names with the most time in view, the rest grey
			const time = new Map();
			for (const e of shown) time.set(e[5], (time.get(e[5]) || 0) + e[4]);
			const names = [...time.keys()].sort((a, b) => time.get(b) - time.get(a));
			const datasets = names.slice(0, 12).map((n, i) => ({
				label: T.names[n], backgroundColor: color(i), borderSkipped: false, barPercentage: 0.9,
				data: shown.filter((e) => e[5] === n).map((e) => ({ x: [e[3] / 1e3, (e[3] + Math.max(e[4], 1)) / 1e3], y: label(rowOf(e)), e })),
			}));
			if (names.length > 12)
				datasets.push({ label: 'other', backgroundColor: '#9ca3af', data: shown.filter((e) => !names.slice(0, 12).includes(e[5]))
					.map((e) => ({ x: [e[3] / 1e3, (e[3] + Math.max(e[4], 1)) / 1e3], y: label(rowOf(e)), e })) });
			info.textContent = `${fmt(view[0])} – ${fmt(view[1])}: ${count(shown.length)} events` +
				(more ? ' drawn (the longest; zoom in for the rest)' : '');
			if (charts.timeline) charts.timeline.destroy();
			charts.timeline = new Chart(document.getElementById('chart-timeline'), {
				type: 'bar',
				data: { labels: rows.map(label), datasets },
				options: {
					indexAxis: 'y', grouped: false,
					scales: { x: { type: 'linear', min: view[0] / 1e3, max: view[1] / 1e3, title: { display: true, text: 'µs since the first event' } },
						y: { stacked: true } },
					plugins: { tooltip: { callbacks: { label: (c) => `${T.names[c.raw.e[5]]} (${c.raw.e[2] ? 'span' : 'op'}): ${fmt(c.raw.e[4])}` } } },
				},
			});
		};
		const cv = document.getElementById('chart-timeline');
		cv.addEventListener('wheel', (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 0.7 : 1.4); }, { passive: false });
		let drag = null;
		cv.addEventListener('mousedown', (e) => { drag = { x: e.clientX, view: view.slice() }; });
		window.addEventListener('mouseup', () => { drag = null; });
		cv.addEventListener('mousemove', (e) => {
			if (!drag) return;
			const w = drag.view[1] - drag.view[0], dx = ((drag.x - e.clientX) / cv.width) * w;
			const a = Math.min(Math.max(0, drag.view[0] + dx), Math.max(0, end - w));
			view = [a, a + w];
			drawTimeline();
		});
		drawTimeline();
		// how long a zoom takes at this size (the self-check's timeline_redraw_ms)
		const z0 = performance.now();
		zoom(0.5);
		zoom(2);
		window.perfbpfRedrawMs = (performance.now() - z0) / 2;
	}

	// --- data quality -----------------------------------------------------------------------
	{
		const rows = [['events aggregated', count(D.events)], ['events dropped', count(D.dropped)]];
		for (const [k, v] of Object.entries(D.losses || {})) rows.push([k.replace(/_/g, ' '), count(v), v > 0]);
		if (D.perfbpf_cpu_seconds != null) rows.push(['perfbpf CPU time', `${D.perfbpf_cpu_seconds} s`]);
		if (D.perfbpf_peak_rss_bytes) rows.push(['perfbpf peak memory', `${(D.perfbpf_peak_rss_bytes / 1048576).toFixed(1)} MiB`]);
		for (const [name, o] of [['span export (OTLP)', D.otlp], ['metrics export (OTLP)', D.otlp_metrics]])
			if (o) rows.push([name, `${count(o.exported)} exported, ${count(o.undelivered)} not delivered`, o.undelivered > 0]);
		section('Data quality', el('div', { class: 'card' }, el('table', { id: 'quality-table' }, el('tbody', {},
			...rows.map(([k, v, bad]) => el('tr', {}, el('td', { text: k }), el('td', { class: bad ? 'warn' : '', text: v })))))));
	}

	finish('#metrics-table');

	// --- perfbpf gate -----------------------------------------------------------------------
	function renderGate(G) {
		const pct = (x) => (x == null ? '–' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
		app.append(el('h1', { text: `perfbpf gate: ${G.verdict === 'fail' ? 'FAIL' : 'pass'}` }),
			el('p', { class: G.verdict === 'fail' ? 'warn' : 'sub',
				text: `${G.regressions} regression(s), ${G.improvements} improvement(s), ${G.unclear} unclear; ` +
					`${G.compared} comparisons of ${(G.stats || []).join(', ')} (${G.across} run), ` +
					`max regression ${(G.max_regression * 100).toFixed(1)}%, alpha ${G.alpha}` }),
			el('div', { class: 'facts' },
				el('div', {}, el('span', { text: 'base' }), `${G.base.path} (${G.base.runs} runs)`),
				el('div', {}, el('span', { text: 'head' }), `${G.head.path} (${G.head.runs} runs)`)));
		for (const w of G.warnings || []) app.append(el('p', { class: 'warn', text: w }));
		const cmps = G.comparisons || [];
		const tb = el('tbody');
		for (const c of cmps) {
			const cells = [['level', c.level], ['kind', c.kind], ['metric', c.metric],
				['key', c.level === 'key' ? `${c.symbol || '∅'} / ${c.strategy || '∅'}` : ''], ['stat', c.stat],
				['base', c.base_ns, fmt], ['head', c.head_ns, fmt], ['change', c.change, pct],
				['interval', c.ratio_low == null ? '' : `${pct(c.ratio_low - 1)} … ${pct(c.ratio_high - 1)}`],
				['verdict', c.verdict || c.presence]];
			const tr = el('tr', {});
			for (const [col, v, f] of cells) {
				const td = el('td', { 'data-col': col, text: f ? f(v) : (v ?? '') });
				if (f && v != null) td.setAttribute('data-v', String(v));
				if (col === 'verdict' && (v === 'regression' || v === 'unclear')) td.className = 'warn';
				tr.append(td);
			}
			tb.append(tr);
		}
		section('Comparisons (worst first)', el('div', { class: 'tablewrap' }, el('table', { id: 'gate-table' },
			el('thead', {}, el('tr', {}, ...['level', 'kind', 'metric', 'symbol / strategy', 'stat', 'base', 'head', 'change',
				'interval of the change', 'verdict'].map((n) => el('th', { text: n })))), tb)));
		const moved = cmps.filter((c) => c.base_histogram && c.head_histogram);
		if (!moved.length) return;
		section('What moved: base and head distributions',
			el('p', { class: 'note', text: 'Each key that regressed or is unclear: the share of its events per bucket, every run of each side together.' }));
		moved.forEach((c, i) => {
			const id = `chart-gate-${i}`;
			app.append(el('div', { class: 'card' },
				el('p', { class: 'note', text: `${c.metric}${c.level === 'key' ? ` (${c.symbol || '∅'} / ${c.strategy || '∅'})` : ''} ${c.stat}: ` +
					`base ${fmt(c.base_ns)}, head ${fmt(c.head_ns)} (${pct(c.change)}; interval ${pct(c.ratio_low - 1)} … ${pct(c.ratio_high - 1)}): ${c.verdict}` }),
				canvas(id, 1160, 300)));
			const side = (h, label, col) => {
				const total = h.reduce((s, [, n]) => s + n, 0) || 1;
				return { label, data: h.map(([lo, n]) => ({ x: Math.max(lo, 1), y: n / total })), stepped: 'before',
					borderColor: col, backgroundColor: col + '33', fill: true, pointRadius: h.length < 40 ? 3 : 0 };
			};
			charts[id] = new Chart(document.getElementById(id), {
				type: 'line',
				data: { datasets: [side(c.base_histogram, 'base', '#2563eb'), side(c.head_histogram, 'head', '#dc2626')] },
				options: { parsing: false,
					scales: { x: { type: 'logarithmic', title: { display: true, text: 'duration (log)' }, ticks: { callback: (v) => fmt(v) } },
						y: { title: { display: true, text: 'share of events' }, beginAtZero: true } } },
			});
		});
	}

	// --- self-check for the browser test ----------------------------------------------------
	function finish(tableSel) {
		const check = { charts: {}, table: [], errors, resources: performance.getEntriesByType('resource').length };
		for (const c of document.querySelectorAll('canvas')) {
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			let painted = 0;
			for (let i = 3; i < d.length; i += 4) if (d[i]) painted++;
			check.charts[c.id] = { width: c.width, height: c.height, painted };
		}
		for (const tr of document.querySelectorAll(`${tableSel} tbody tr`)) {
			const row = {};
			for (const td of tr.children) row[td.dataset.col] = td.dataset.v != null ? Number(td.dataset.v) : td.textContent;
			check.table.push(row);
		}
		check.load_ms = Math.round(performance.now() - t0);
		if (window.perfbpfRedrawMs != null) check.timeline_redraw_ms = Math.round(window.perfbpfRedrawMs);
		document.body.append(el('pre', { id: 'perfbpf-selfcheck', text: JSON.stringify(check) }));
		document.body.dataset.ready = '1';
	}
})();
