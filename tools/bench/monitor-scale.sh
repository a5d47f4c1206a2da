#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# perfbpf monitor at host scale: memory and scrape cost against the number of keys.
#   tools/bench/monitor-scale.sh BUILD [RUNS]
# For N = 1,000, 10,000 and 65,536 distinct keys (tests/probe_target keys N: three ops per key,
# then it lingers), `perfbpf monitor --pid` with its defaults; once every event is aggregated:
# the monitor's resident memory, and the kernel memory of its BPF maps (memlock in fdinfo),
# per-CPU maps apart. Then, at 10,000 keys, RUNS scrapes of /metrics in each exposition (text:
# classic histograms; protobuf: native histograms): size, series per key, median time.
set -euo pipefail
out=${1:-build}
runs=${2:-5}
base_port=${PORT:-19464}
possible=$(awk -F- '{print $NF + 1}' /sys/devices/system/cpu/possible)
proto='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited'
. "$(dirname "$0")/lib.sh"

events() {
	curl -s --max-time 60 "127.0.0.1:$port/metrics" | awk '$1 == "perfbpf_events_total" {print $2}'
}

# kernel memory of pid's BPF maps: "all per_cpu" (bytes)
map_memory() {
	local all=0 pcpu=0 f t m
	for f in /proc/"$1"/fdinfo/*; do
		m=$(awk '/^memlock:/ {print $2}' "$f" 2>/dev/null) || continue
		t=$(awk '/^map_type:/ {print $2}' "$f" 2>/dev/null)
		[ -n "$m" ] && [ -n "$t" ] || continue
		all=$((all + m))
		case $t in 5 | 6 | 10 | 21) pcpu=$((pcpu + m)) ;; esac
	done
	echo "$all $pcpu"
}

measure() { # N -> "rss_kib maps_bytes percpu_bytes"
	local n=$1 eng mon want=$((3 * $1)) got=""
	port=$((base_port + n % 1000 + n / 1000))
	"$out/tests/probe_target" --wait-attach --linger 600000 keys "$n" > /dev/null &
	eng=$!
	"$out/perfbpf" monitor -q --pid "$eng" --listen "127.0.0.1:$port" &
	mon=$!
	for _ in $(seq 300); do
		got=$(events 2> /dev/null || true)
		[ "$got" = "$want" ] && break
		sleep 0.2
	done
	if [ "$got" != "$want" ]; then
		echo "bench: $n keys: the monitor saw ${got:-no} events, not $want" >&2
		kill "$eng" "$mon" 2> /dev/null || true
		return 1
	fi
	echo "$(awk '/^VmRSS:/ {print $2}' /proc/$mon/status) $(map_memory "$mon")"
	if [ "$n" = 10000 ]; then
		scrapes "$n" > "$scrape_out"
	fi
	kill "$mon"
	wait "$mon" 2> /dev/null || true
	kill "$eng" 2> /dev/null || true
	wait "$eng" 2> /dev/null || true
}

scrapes() { # N: one table row per exposition
	local n=$1 accept name t s series
	for name in text protobuf; do
		accept='text/plain'
		[ $name = protobuf ] && accept=$proto
		t=""
		for _ in $(seq "$runs"); do
			t="$t $(curl -s -H "Accept: $accept" -o /dev/null -w '%{time_total}' "127.0.0.1:$port/metrics")"
		done
		s=$(curl -s -H "Accept: $accept" "127.0.0.1:$port/metrics" | wc -c)
		series=$(curl -s -H "Accept: text/plain" "127.0.0.1:$port/metrics" |
			awk '/^perfbpf_operation_/ {n++} END {print n}')
		if [ $name = protobuf ]; then
			series=$((2 * n)) # one native histogram per key and family
		fi
		awk -v name=$name -v n="$n" -v series="$series" -v s="$s" -v t="$(echo "$t" | median)" \
			'BEGIN {printf "| %s | %d | %.1f | %.1f | %.0f |\n", name, n, series / n, s / 1048576, t * 1000}'
	done
}

scrape_out=$(mktemp)
declare -A rss maps pcpu
for n in 1000 10000 65536; do
	read -r r m p < <(measure "$n")
	rss[$n]=$r maps[$n]=$m pcpu[$n]=$p
done

echo "| keys | monitor RSS (MiB) | BPF maps (MiB) | of which per-CPU maps (KiB, $possible CPUs) |"
echo "|---|---|---|---|"
for n in 1000 10000 65536; do
	printf '| %s | %.1f | %.1f | %.0f |\n' "$n" "$(awk -v r="${rss[$n]}" 'BEGIN {print r / 1024}')" \
		"$(awk -v m="${maps[$n]}" 'BEGIN {print m / 1048576}')" "$(awk -v p="${pcpu[$n]}" 'BEGIN {print p / 1024}')"
done
per_key=$(awk -v a="${rss[1000]}" -v b="${rss[65536]}" 'BEGIN {printf "%.0f", (b - a) * 1024 / 64536}')
base=$(awk -v a="${rss[1000]}" -v k="$per_key" 'BEGIN {printf "%.1f", (a * 1024 - 1000 * k) / 1048576}')
kfix=$(awk -v m="${maps[10000]}" -v p="${pcpu[10000]}" 'BEGIN {printf "%.1f", (m - p) / 1048576}')
kcpu=$(awk -v p="${pcpu[10000]}" -v c="$possible" 'BEGIN {printf "%.1f", p / c / 1024}')
echo
echo "Per key (userspace, from the slope between 1,000 and 65,536 keys): **$per_key bytes**; fixed:"
echo "~$base MiB of userspace and $kfix MiB of BPF maps (the 16 MiB ring buffer and the per-thread"
echo "span stacks), plus $kcpu KiB of per-CPU maps per CPU. The kernel holds nothing per key: the"
echo "engine's batches are aggregated in userspace."
echo
awk -v k="$per_key" -v b="$base" -v f="$kfix" -v c="$kcpu" 'BEGIN {
	printf "Model for a 128-CPU host with 10,000 keys: %.0f MiB userspace + %.1f MiB kernel = **%.0f MiB**", \
		b + 10000 * k / 1048576, f + 128 * c / 1024, b + 10000 * k / 1048576 + f + 128 * c / 1024
	printf " (goal: 256 MiB); with 65,536 keys: %.0f MiB.\n", b + 65536 * k / 1048576 + f + 128 * c / 1024 }'
echo
echo "Scrapes at 10,000 keys (median of $runs, curl on the same host):"
echo
echo "| exposition | keys | series per key | size (MiB) | time (ms) |"
echo "|---|---|---|---|---|"
cat "$scrape_out"
rm -f "$scrape_out"
