// SPDX-License-Identifier: BSD-2-Clause
/* Integration-test target without perfbpf probes: sleeps for the given seconds. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sleep(argc > 1 ? (unsigned)atoi(argv[1]) : 5);
	return 0;
}
