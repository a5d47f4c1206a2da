#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian packages perfbpf builds and tests with, when any is missing (as root).
# --bench: also what `make bench` runs (bpftrace, GNU time, strace).
set -euo pipefail

pkgs=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjson-c-dev libcmocka-dev
      systemtap-sdt-dev pkg-config valgrind binutils libc6-dev libmicrohttpd-dev
      prometheus python3-prometheus-client curl libcurl4-openssl-dev protobuf-compiler
      libclang-rt-14-dev libcap2-bin python3 python3-dev openssl libyaml-dev libgnutls28-dev
      libcrypt-dev libcap-dev libjs-chart.js chromium)
# `make bench` compares perfbpf with bpftrace, reads CPU time and peak RSS with GNU time and
# times the loading of BPF programs with strace
[ "${1:-}" = --bench ] && pkgs+=(bpftrace time strace)
# the OTLP test receiver runs on Node.js (the OpenTelemetry project's JavaScript decoder); the
# Node binding is built against Debian's Node headers (package nodejs: /usr/include/node)
[ -e /usr/include/node/node_api.h ] && command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# the npm packages of the tests, pinned by their package-lock.json: the OTLP test receiver's
# (tests/otlp) and the Node engines' (tests/node: backtest-kit, OpenTelemetry JS)
node_deps() {
	local root d
	root="$(cd "$(dirname "$0")/.." && pwd)"
	for d in "$root/tests/otlp" "$root/tests/node"; do
		[ -e "$d/node_modules/.package-lock.json" ] && [ "$d/node_modules/.package-lock.json" -nt "$d/package-lock.json" ] && continue
		echo "perfbpf: installing the npm packages of ${d#"$root"/}" >&2
		(cd "$d" && npm ci --silent --no-audit --no-fund >/dev/null)
	done
}

if [ ${#missing[@]} -eq 0 ]; then
	node_deps
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "perfbpf: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "perfbpf: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
node_deps
