# SPDX-License-Identifier: BSD-2-Clause
"""perfbpf's startup hook for `perfbpf run --python PATTERN -- python3 ...`.

perfbpf puts this directory first on PYTHONPATH and the patterns (one per line) in
PERFBPF_PYTHON_FUNCTIONS; Python imports this module at startup. It installs the binding's
function hook (every call of a function whose module.qualname matches is a span), takes its
directory off sys.path again, and then runs the sitecustomize that would have run without it.
Child interpreters inherit the environment, so they are hooked too.
"""
import importlib.machinery
import importlib.util
import os
import sys


def _install():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    patterns = [p for p in os.environ.get("PERFBPF_PYTHON_FUNCTIONS", "").split("\n") if p]
    if patterns:
        from perfbpf import _perfbpf
        _perfbpf._trace_functions(patterns)
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec and spec.loader:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_install()
del _install
