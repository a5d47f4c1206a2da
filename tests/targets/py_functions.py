# SPDX-License-Identifier: BSD-2-Clause
"""Integration-test engine for `perfbpf run --python PATTERN`: plain Python that knows nothing of
perfbpf, calling functions a known number of times.

    python3 py_functions.py N

Engine.on_tick: N calls on the main thread and N on a second thread, each calling
Engine.signal once; fib(12): 465 calls (recursion 12 deep); gen(3) consumed whole: 4
resumptions (each runs to a yield or to the end); boom(): 5 calls, each raises ValueError
(caught); outside(): 7 calls. Prints "done" and, if the user's own sitecustomize ran, "user
sitecustomize ran".
"""
import sys
import threading

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100


class Engine:
    def on_tick(self, i):
        return self.signal(i)

    def signal(self, i):
        return i & 1


def fib(k):
    return k if k < 2 else fib(k - 1) + fib(k - 2)


def gen(k):
    for i in range(k):
        yield i


def boom():
    raise ValueError("boom")


def outside():
    pass


def run():
    e = Engine()
    for i in range(n):
        e.on_tick(i)
    assert fib(12) == 144
    assert list(gen(3)) == [0, 1, 2]
    for _ in range(5):
        try:
            boom()
        except ValueError:
            pass
    for _ in range(7):
        outside()
    t = threading.Thread(target=lambda: [e.on_tick(i) for i in range(n)])
    t.start()
    t.join()


run()
if "sitecustomize" in sys.modules and getattr(sys.modules["sitecustomize"], "USER", False):
    print("user sitecustomize ran")
print("done")
