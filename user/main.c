// SPDX-License-Identifier: BSD-2-Clause
/* perfbpf entry point: dispatches to attach, run, monitor, list and gate. */
#include <stdio.h>

#include "gate.h"
#include "list.h"
#include "monitor.h"
#include "options.h"
#include "session.h"
#include "util.h"

int main(int argc, char **argv)
{
	struct cli_opts o;
	int rc = options__parse(argc, argv, &o);

	if (rc >= 0)
		return rc;
	switch (o.cmd) {
	case CMD_ATTACH:
		return session__attach(&o);
	case CMD_RUN:
		return session__run(&o);
	case CMD_MONITOR:
		return monitor__run(&o);
	case CMD_GATE:
		return gate__run(&o);
	case CMD_LIST:
		return list__run(&o, stdout);
	case CMD_NONE:
		break;
	}
	return EXIT_USAGE;
}
