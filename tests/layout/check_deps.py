#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The dependency rule of perfbpf's layout, checked (run by `make test`).

Each folder is one stage of the flow; a file may include only its own stage and the stages it is
allowed to depend on (the table below), the includes of user/ and exporters/ are written from
the top of the tree ("user/model/summary.h"), and the include graph has no cycle. Prints one line
per violation and a one-line summary, and exits 1 on any violation.

With --self-check, the rule is also applied to a scratch copy of the tree with three planted
violations (an exporter that includes a CLI header, a bare include, a cycle between two
headers), each of which must be reported.

Usage: tests/layout/check_deps.py [--self-check] [ROOT]
"""
import os
import re
import shutil
import sys
import tempfile

# stage of a path, by longest prefix
STAGES = [
    ("user/cli/", "cli"),
    ("user/cmd/", "cmd"),
    ("user/attach/", "attach"),
    ("user/collect/", "collect"),
    ("user/aggregate/", "aggregate"),
    ("user/gate/", "gate"),
    ("user/model/", "model"),
    ("user/lib/", "lib"),
    ("exporters/", "exporters"),
    ("bpf/", "abi"),
]
# what each stage may include besides itself (system headers are not checked)
ALLOWED = {
    "lib": set(),
    "abi": set(),
    "model": {"lib", "abi"},
    "attach": {"model", "lib", "abi"},
    "collect": {"attach", "model", "lib", "abi", "skeleton"},
    "aggregate": {"model", "lib", "abi"},
    "gate": {"model", "lib", "abi"},
    "exporters": {"model", "lib", "abi"},
    # a command runs the stages; only the CLI (and the commands) read the CLI's headers
    "cmd": {"cli", "attach", "collect", "aggregate", "gate", "model", "lib", "abi", "exporters"},
    "cli": {"cmd", "attach", "collect", "aggregate", "gate", "model", "lib", "abi", "exporters"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stage_of(path):
    if path.endswith(".skel.h"):
        return "skeleton"
    for prefix, stage in STAGES:
        if path.startswith(prefix):
            return stage
    return None


def sources(root):
    for top in ("user", "exporters"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def check(root):
    errors, graph = [], {}
    files = list(sources(root))
    for path in files:
        with open(os.path.join(root, path)) as f:
            text = f.read()
        me = stage_of(path)
        graph[path] = []
        for m in INCLUDE.finditer(text):
            inc = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            where = f"{path}:{line}"
            if inc.endswith(".skel.h"):
                dep = "skeleton"
            elif "/" not in inc or not os.path.isfile(os.path.join(root, inc)):
                errors.append(f'{where}: #include "{inc}" is not a path from the top of the tree')
                continue
            else:
                dep = stage_of(inc)
                graph[path].append(inc)
            if dep != me and dep not in ALLOWED.get(me, set()):
                errors.append(f'{where}: {me} may not include {dep} ("{inc}"): '
                              f'{me} depends only on {", ".join(sorted(ALLOWED[me])) or "itself"}')
    # include cycles (headers including each other, directly or not)
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for d in graph.get(n, []):
            if state.get(d) == 1:
                errors.append("include cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return errors, len(files), sum(len(v) for v in graph.values())


def plant(root):
    """The planted violations, and the words of the line that must report each."""
    def append(rel, text):
        with open(os.path.join(root, rel), "a") as f:
            f.write(text)
    append("exporters/report/json.c", '#include "user/cli/options.h"\n')
    append("user/model/hist.c", '#include "summary.h"\n')
    append("user/lib/util.h", '#include "user/lib/u64map.h"\n')
    append("user/lib/u64map.h", '#include "user/lib/util.h"\n')
    return [("exporters/report/json.c", "exporters may not include cli"),
            ("user/model/hist.c", "is not a path from the top"),
            ("include cycle", "user/lib/u64map.h")]


def main():
    args = [a for a in sys.argv[1:] if a != "--self-check"]
    root = args[0] if args else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    errors, nfiles, nincludes = check(root)
    for e in errors:
        print(f"layout: {e}")
    print(f"layout: {nfiles} files, {nincludes} includes checked, {len(errors)} violation(s)")
    if "--self-check" in sys.argv[1:]:
        work = tempfile.mkdtemp(prefix="perfbpf-layout-")
        try:
            for d in ("user", "exporters", "bpf"):
                shutil.copytree(os.path.join(root, d), os.path.join(work, d))
            want = plant(work)
            planted, _, _ = check(work)
            missed = [w for w in want if not any(w[0] in e and w[1] in e for e in planted)]
            for w in missed:
                print(f"layout: self-check: the planted violation ({w[0]}: {w[1]}) was not reported")
            print(f"layout: self-check: {len(want) - len(missed)} of {len(want)} planted "
                  f"violations reported")
            if missed:
                return 1
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
