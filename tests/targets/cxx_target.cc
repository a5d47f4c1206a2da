// SPDX-License-Identifier: BSD-2-Clause
/* Integration-test target: a C++ engine (the header must work in C++): COUNT iterations of a
 * span "cxx.tick" around an op "cxx.op" whose symbol is a std::string, three symbols in turn. */
#include <perfbpf/probe.h>

#include <cstdlib>
#include <string>

int main(int argc, char **argv)
{
	unsigned count = argc > 1 ? (unsigned)std::atoi(argv[1]) : 100;
	const std::string syms[3] = { "AAA", "BBB", "CCC" };

	for (unsigned i = 0; i < count; i++) {
		const std::string &s = syms[i % 3];

		PERFBPF_SPAN_BEGIN("cxx.tick", s.c_str(), "cxx");
		PERFBPF_OP("cxx.op", s.c_str(), "cxx", i);
		PERFBPF_SPAN_END("cxx.tick");
	}
	return 0;
}
