// SPDX-License-Identifier: BSD-2-Clause
/* perfbpf entry point: dispatches to attach, run, monitor, list and gate. */
#include <stdio.h>

#include "user/cli/options.h"
#include "user/cmd/gate.h"
#include "user/cmd/list.h"
#include "user/cmd/monitor.h"
#include "user/cmd/attach.h"
#include "user/cmd/report.h"
#include "user/cmd/run.h"
#include "user/lib/util.h"

int main(int argc, char **argv)
{
	struct cli_opts o;
	int rc = options__parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	switch (o.cmd) {
	case CMD_ATTACH:
		rc = attach__main(&o);
		break;
	case CMD_RUN:
		rc = run__main(&o);
		break;
	case CMD_MONITOR:
		rc = monitor__run(&o);
		break;
	case CMD_GATE:
		rc = gate__run(&o);
		break;
	case CMD_LIST:
		rc = list__run(&o, stdout);
		break;
	case CMD_REPORT:
		rc = report__run(&o);
		break;
	case CMD_NONE:
		rc = EXIT_USAGE;
		break;
	}
	options__free(&o);
	return rc;
}
