# SPDX-License-Identifier: BSD-2-Clause
# Helpers shared by the benchmark scripts (sourced).

# median of the numbers on stdin (whitespace separated)
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ratio a/b as "1.23x"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "-"}'; }

# Starts "$@" in the background and returns once it has exec'd (so /proc/PID/exe is the
# program, not this shell); its pid is in $started.
start_exec() {
	local want
	want=$(readlink -f "$1")
	"$@" &
	started=$!
	for _ in $(seq 500); do
		[ "$(readlink "/proc/$started/exe" 2>/dev/null)" = "$want" ] && return 0
		sleep 0.01
	done
	echo "bench: $1 did not start" >&2
	return 1
}
