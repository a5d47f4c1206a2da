#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make valgrind`: perfbpf run --repeat on the demo engine (with --html), perfbpf gate on its summary, perfbpf
# run --otlp (JSON, gzip, a 503 retried, ops as spans, sampling with the slow-threshold rule) to
# the test receiver, run --otlp and --otlp-metrics (delta, explicit buckets) over gRPC (a retry)
# with --trace, then perfbpf monitor (serving /metrics over TLS with basic auth, scraped once and
# refused once, writing both reports, OTLP metrics over HTTP) on another demo run, under
# valgrind; any error or leak fails.
set -euo pipefail
out=${1:-build}
log=$(mktemp)
vg=(valgrind --suppressions=tests/valgrind.supp --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=no)
trap 'rm -f "$log" "$log".*' EXIT

"${vg[@]}" --log-file="$log" \
	"$out/perfbpf" run -q --repeat 2 -j "$log.json" --html "$log.html" -- "$out/backtest" --bars 20000 --quiet
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log"
grep -q 'id="perfbpf-data"' "$log.html"
"${vg[@]}" --log-file="$log.gate" "$out/perfbpf" gate --stat p99,mean --resamples 2000 \
	-j "$log.gate.json" -m "$log.gate.md" "$log.json" "$log.json"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log.gate"
grep -q '"verdict":"pass"' "$log.gate.json"
"${vg[@]}" --log-file="$log.report" "$out/perfbpf" report "$log.json" --html "$log.report.html"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log.report"
grep -q 'id="perfbpf-data"' "$log.report.html"

node tests/otlp/receiver.js --out "$log.otlp.jsonl" --mode fail:1:503:1 >"$log.port" &
receiver=$!
for _ in $(seq 100); do grep -q '^port ' "$log.port" && break; sleep 0.1; done
rport=$(sed -n 's/^port //p' "$log.port")
"${vg[@]}" --log-file="$log.otlp" "$out/perfbpf" run -q -j "$log.otlp.json" \
	--otlp-endpoint "http://127.0.0.1:$rport" --otlp-protocol http/json --otlp-compression gzip \
	--otlp-ops --sample 0.5 --slow-threshold 1ms -- "$out/backtest" --bars 2000 --threads 2 --quiet
kill "$receiver"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log.otlp"
grep -q '"status":503' "$log.otlp.jsonl"
grep -q '"exported":[1-9]' "$log.otlp.json"

# OTLP spans and metrics over gRPC (UNAVAILABLE once, then retried) and the trace file
node tests/otlp/receiver.js --out "$log.grpc.jsonl" --grpc 1 --mode fail:1:14 >"$log.gport" &
receiver=$!
for _ in $(seq 100); do grep -q '^port ' "$log.gport" && break; sleep 0.1; done
rport=$(sed -n 's/^port //p' "$log.gport")
"${vg[@]}" --log-file="$log.grpc" "$out/perfbpf" run -q -j "$log.grpc.json" --trace "$log.trace.json" \
	--otlp --otlp-protocol grpc --otlp-endpoint "http://127.0.0.1:$rport" --otlp-compression gzip \
	--otlp-metrics --otlp-metrics-interval 100ms --otlp-metrics-temporality delta \
	--otlp-metrics-histogram explicit -- "$out/backtest" --bars 2000 --tick-sleep-us 100 --quiet
kill "$receiver"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log.grpc"
grep -q '"status":14' "$log.grpc.jsonl"
grep -q '"exported":[1-9]' "$log.grpc.json"
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["otlp_metrics"]["exported"] > 0' \
	"$log.grpc.json"
grep -q '"traceEvents"' "$log.trace.json"

port=$((30000 + $$ % 20000))
"$out/backtest" --wait-attach 60 --bars 20000 --tick-sleep-us 200 --quiet &
engine=$!
node tests/otlp/receiver.js --out "$log.mon.jsonl" >"$log.mport" &
receiver=$!
for _ in $(seq 100); do grep -q '^port ' "$log.mport" && break; sleep 0.1; done
rport=$(sed -n 's/^port //p' "$log.mport")
# the endpoint over TLS with basic auth (--web-config): a self-signed certificate, a bcrypt hash
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$log.key" -out "$log.crt" -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
hash=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("pw", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1024)))')
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  vg: %s\n' \
	"$log.crt" "$log.key" "$hash" > "$log.web.yml"
chmod 600 "$log.web.yml"
"${vg[@]}" --log-file="$log.mon" "$out/perfbpf" monitor -q --pid "$engine" \
	--listen "127.0.0.1:$port" --web-config "$log.web.yml" -j "$log.mon.json" -m "$log.mon.md" \
	--otlp-metrics --otlp-endpoint "http://127.0.0.1:$rport" --otlp-metrics-interval 500ms &
mon=$!
tls=(--cacert "$log.crt" -u vg:pw)
for _ in $(seq 100); do curl -sf "${tls[@]}" "https://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.2; done
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$log.crt" "https://127.0.0.1:$port/metrics")" = 401 ]
# to a file first: `curl | grep -q` fails under pipefail when grep stops reading early (curl
# exit 23, seen once in CI)
curl -sf "${tls[@]}" "https://127.0.0.1:$port/metrics" -o "$log.metrics"
grep -q '^perfbpf_events_total ' "$log.metrics"
wait $engine
wait $mon
kill "$receiver"
grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log.mon"
grep -q '"mode":"kernel_histograms"' "$log.mon.json"
python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["otlp_metrics"]["exported"] > 0' \
	"$log.mon.json"
