#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Mutation check: every mutant in tests/mutation/mutants.txt must make a unit test fail.

Each mutant (one small wrong-answer change to the code) is applied to a scratch copy of the
sources, the unit tests are rebuilt there and every unit test binary is run. A mutant is killed
when a test fails, crashes or times out; it survives when every test passes. The check prints a
table (mutant, where, killed by which test) and exits 1 on any survivor, on a mutant that does
not compile, and on a mutant whose lines are not found exactly once in its file (a stale entry).

With --self-check FILE, the mutants in FILE are planted survivors (changes no test can see): the
check then also requires each of them to be reported as surviving, so that a check which could
never fail is caught.

Usage: tests/mutation/check.py [--mutants FILE] [--self-check FILE] [--only ID[,ID...]] [-j N]
File format (tests/mutation/mutants.txt): blocks separated by blank lines,
    [id] path/to/file.c
    one line saying what a user would see if this slipped through
    - old line (leading whitespace ignored; consecutive '-' lines match consecutive lines)
    + new line (none: the old lines are deleted)
Lines starting with '#' are comments.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# what the unit tests are built from (Makefile target unit-bins)
COPY = ["Makefile", "include", "bpf", "user", "exporters", "tests/unit"]
TEST_TIMEOUT_S = 60


class Mutant:
    def __init__(self, mid, path, why, old, new, origin):
        self.id, self.path, self.why, self.old, self.new = mid, path, why, old, new
        self.origin = origin  # "file:line" of the entry, for errors
        self.line = 0  # where it applies in the source, 1-based


def die(msg):
    print(f"mutation check: {msg}", file=sys.stderr)
    sys.exit(1)


def parse(path):
    mutants, block, start = [], [], 0
    with open(path) as f:
        lines = f.read().split("\n")
    for no, raw in enumerate(lines + [""], 1):
        if raw.startswith("#"):
            continue
        if raw.strip() == "":
            if block:
                mutants.append(parse_block(block, f"{path}:{start}"))
            block = []
            continue
        if not block:
            start = no
        block.append(raw)
    ids = [m.id for m in mutants]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        die(f"{path}: mutant ids used twice: {', '.join(sorted(dup))}")
    return mutants


def parse_block(block, origin):
    m = re.fullmatch(r"\[([a-z0-9][a-z0-9-]*)\]\s+(\S+)", block[0].strip())
    if not m or len(block) < 3:
        die(f"{origin}: a mutant is '[id] file', a line saying what it breaks, '-' and '+' lines")
    old = [l[1:].strip() for l in block[2:] if l.startswith("-")]
    new = [l[1:].strip() for l in block[2:] if l.startswith("+")]
    if not old or len(old) + len(new) != len(block) - 2:
        die(f"{origin}: [{m.group(1)}]: after its description a mutant has only '-' and '+' lines")
    return Mutant(m.group(1), m.group(2), block[1].strip(), old, new, origin)


def locate(m, text):
    """Line index where m.old matches exactly once, else an error message."""
    lines = text.split("\n")
    stripped = [l.strip() for l in lines]
    hits = [i for i in range(len(lines) - len(m.old) + 1)
            if stripped[i:i + len(m.old)] == m.old]
    if len(hits) != 1:
        return None, f"{m.origin}: [{m.id}]: its '-' lines occur {len(hits)} times in {m.path} (must be once)"
    return hits[0], None


def apply(m, text, at):
    lines = text.split("\n")
    indent = re.match(r"\s*", lines[at]).group(0)
    return "\n".join(lines[:at] + [indent + l for l in m.new] + lines[at + len(m.old):])


def make_units(work, jobs):
    r = subprocess.run(["make", "--no-print-directory", "-s", f"-j{jobs}", "OUT=build-mutation",
                        "unit-bins"], cwd=work, capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def unit_bins(work):
    names = sorted(f[:-2] for f in os.listdir(os.path.join(work, "tests/unit"))
                   if f.startswith("test_") and f.endswith(".c"))
    return [os.path.join(work, "build-mutation/tests", n) for n in names]


def run_units(work):
    """Names of the failing tests ('binary: test' or 'binary: crash/timeout'); [] if all pass."""
    env = dict(os.environ, PERFBPF_SRC=work, PERFBPF_BUILD=os.path.join(work, "build-mutation"))
    killers = []
    for b in unit_bins(work):
        name = os.path.basename(b)
        try:
            r = subprocess.run([b], cwd=work, env=env, capture_output=True, text=True,
                               timeout=TEST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            killers.append(f"{name} (timeout)")
            continue
        failed = sorted(set(re.findall(r"^\[  FAILED  \] (test_\w+)\s*$", r.stdout, re.M)))
        killers += failed
        if r.returncode != 0 and not failed:
            how = f"signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
            killers.append(f"{name} ({how})")
    return killers


def check(mutants, work, jobs, pristine):
    rows = []
    for i, m in enumerate(mutants, 1):
        path = os.path.join(work, m.path)
        t0 = time.monotonic()
        with open(path, "w") as f:
            f.write(apply(m, pristine[m.path], m.line - 1))
        ok, log = make_units(work, jobs)
        if not ok:
            rows.append((m, "does not compile", False))
            print(f"  [{i}/{len(mutants)}] {m.id}: does not compile\n{log[-2000:]}", file=sys.stderr)
        else:
            killers = run_units(work)
            rows.append((m, ", ".join(killers[:3]) + (" ..." if len(killers) > 3 else ""),
                         bool(killers)))
        with open(path, "w") as f:
            f.write(pristine[m.path])
        print(f"  [{i}/{len(mutants)}] {m.id}: {'killed' if rows[-1][2] else 'SURVIVED'} "
              f"({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return rows


def table(title, rows):
    print(f"\n{title}\n")
    print("| mutant | where | what a user would see | killed by |")
    print("|---|---|---|---|")
    for m, killers, killed in rows:
        verdict = killers if killed or killers == "does not compile" else "**SURVIVED**"
        print(f"| {m.id} | {m.path}:{m.line} | {m.why} | {verdict} |")


def main():
    ap = argparse.ArgumentParser(description="Mutation check of the unit tests.")
    ap.add_argument("--mutants", default=os.path.join(SRC, "tests/mutation/mutants.txt"))
    ap.add_argument("--self-check", help="planted survivors that must be reported as such")
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()

    mutants = parse(a.mutants)
    planted = parse(a.self_check) if a.self_check else []
    if a.only:
        want = set(a.only.split(","))
        unknown = want - {m.id for m in mutants}
        if unknown:
            die(f"no such mutant: {', '.join(sorted(unknown))}")
        mutants = [m for m in mutants if m.id in want]
    pristine, errors = {}, []
    for m in mutants + planted:
        if m.path not in pristine:
            p = os.path.join(SRC, m.path)
            if not os.path.isfile(p):
                errors.append(f"{m.origin}: [{m.id}]: no file {m.path}")
                continue
            with open(p) as f:
                pristine[m.path] = f.read()
        at, err = locate(m, pristine[m.path])
        if err:
            errors.append(err)
        else:
            m.line = at + 1
    if errors:
        die("\n".join(errors))

    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="perfbpf-mutation-")
    try:
        for c in COPY:
            s, d = os.path.join(SRC, c), os.path.join(work, c)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            (shutil.copytree if os.path.isdir(s) else shutil.copy2)(s, d)
        ok, log = make_units(work, a.j)
        if not ok:
            die(f"the unmutated sources do not build:\n{log}")
        base = run_units(work)
        if base:
            die(f"the unit tests fail without any mutant: {', '.join(base)}")
        rows = check(mutants, work, a.j, pristine)
        survivors = [m.id for m, _, killed in rows if not killed]
        broken = [m.id for m, k, _ in rows if k == "does not compile"]
        table(f"Mutation check: {len(rows) - len(survivors)} of {len(rows)} mutants killed "
              f"({time.monotonic() - t0:.0f} s)", rows)
        bad = False
        if survivors:
            print(f"\nmutation check: FAILED: {len(survivors)} mutant(s) no unit test catches: "
                  f"{', '.join(survivors)}")
            bad = True
        if broken:
            print(f"mutation check: FAILED: mutant(s) that do not compile: {', '.join(broken)}")
            bad = True
        if planted:
            prow = check(planted, work, a.j, pristine)
            table("Self-check: planted survivors (the check must report each as surviving)", prow)
            missed = [m.id for m, k, killed in prow if killed or k == "does not compile"]
            if missed:
                print(f"\nmutation check: FAILED: planted survivor(s) not reported as surviving: "
                      f"{', '.join(missed)}")
                bad = True
        if not bad:
            print(f"\nmutation check: {len(rows)} killed, 0 survived"
                  + (f"; {len(planted)} planted survivor(s) reported" if planted else ""))
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
