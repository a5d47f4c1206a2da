#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian packages perfbpf builds and tests with, when any is missing (as root).
set -euo pipefail

pkgs=(make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libjson-c-dev libcmocka-dev
      systemtap-sdt-dev pkg-config valgrind binutils libc6-dev libmicrohttpd-dev
      prometheus python3-prometheus-client curl)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "perfbpf: missing packages: ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "perfbpf: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
