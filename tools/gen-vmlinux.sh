#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Regenerates vmlinux/<arch>/vmlinux.h from the running kernel's BTF (committed for reproducible
# builds; CO-RE relocates field offsets at load time, so any BTF kernel works with it).
set -euo pipefail
arch=${1:-$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')}
mkdir -p "vmlinux/$arch"
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "vmlinux/$arch/vmlinux.h.tmp"
mv "vmlinux/$arch/vmlinux.h.tmp" "vmlinux/$arch/vmlinux.h"
echo "wrote vmlinux/$arch/vmlinux.h"
