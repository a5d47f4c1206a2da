#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs perfbpf (as root): the binary, the probe headers, the Python package (for Debian's
# python3), the Node package, and the perfbpf-monitor service with its configuration (an existing
# /etc/perfbpf/monitor.conf is kept).
# Usage: tools/install.sh BUILD_DIR [PREFIX]   (PREFIX defaults to /usr/local)
set -euo pipefail
out=${1:-build}
prefix=${2:-/usr/local}
# the binary for root and the perfbpf group only, with the capabilities tracing needs (the
# pattern of the kernel's perf-security guide); perfbpf then acts for the user who runs it
getent group perfbpf >/dev/null || groupadd --system perfbpf
install -D -m 0750 -o root -g perfbpf "$out/perfbpf" "$prefix/bin/perfbpf"
setcap cap_bpf,cap_perfmon,cap_sys_ptrace+ep "$prefix/bin/perfbpf" ||
	echo "perfbpf: could not set file capabilities (filesystem without xattrs?); only root may run it" >&2
for h in include/perfbpf/*.h; do
	install -D -m 0644 "$h" "$prefix/include/perfbpf/$(basename "$h")"
done
# the Python package where Debian's python3 looks for local packages
pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pydir="$prefix/lib/python$pyver/dist-packages/perfbpf"
for f in "$out"/bindings/python/perfbpf/*.py "$out"/bindings/python/perfbpf/*.so \
	"$out"/bindings/python/perfbpf/_hook/*.py; do
	install -D -m 0644 "$f" "$pydir/${f#"$out"/bindings/python/perfbpf/}"
done
# the Node package where a global npm install puts packages (require('perfbpf') with
# NODE_PATH=$prefix/lib/node_modules, or `npm install $prefix/lib/node_modules/perfbpf`)
for f in "$out"/bindings/node/*.js "$out"/bindings/node/*.d.ts "$out"/bindings/node/package.json \
	"$out"/bindings/node/perfbpf.node; do
	install -D -m 0644 "$f" "$prefix/lib/node_modules/perfbpf/$(basename "$f")"
done
install -D -m 0644 README.md "$prefix/share/doc/perfbpf/README.md"
install -D -m 0644 tools/systemd/perfbpf-monitor.service /etc/systemd/system/perfbpf-monitor.service
if [ "$prefix" != /usr/local ]; then
	sed -i "s|/usr/local/bin/perfbpf|$prefix/bin/perfbpf|" /etc/systemd/system/perfbpf-monitor.service
fi
[ -e /etc/perfbpf/monitor.conf ] || install -D -m 0644 tools/systemd/monitor.conf /etc/perfbpf/monitor.conf
command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
echo "perfbpf installed in $prefix (users who may trace: usermod -aG perfbpf USER); edit /etc/perfbpf/monitor.conf, then: systemctl enable --now perfbpf-monitor"
