// SPDX-License-Identifier: BSD-2-Clause
/* Stop-signal set-up (see signals.h). */
#include "user/lib/signals.h"

#include <signal.h>

void signals__on_stop(void (*handler)(int), int flags)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}
