/* SPDX-License-Identifier: BSD-2-Clause */
/* The stop signals every long-running command handles: SIGINT, SIGTERM and SIGHUP. */
#ifndef PERFBPF_SIGNALS_H
#define PERFBPF_SIGNALS_H

/* Sends the stop signals to handler, without SA_RESTART (a blocked poll or write returns EINTR);
 * flags adds sigaction flags (SA_RESETHAND: a second signal ends perfbpf at once). */
void signals__on_stop(void (*handler)(int), int flags);

#endif
