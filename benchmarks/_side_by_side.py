"""Helpers for the caching/checkpointing benchmarks: run a script under Chervil and under
reference Parsl (``$PARSL_REF_PYTHON`` or ``benchmarks/.peers/parsl-venv``),
alternating, and collect the JSON line each run prints."""
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CHERVIL_PY = os.path.join(ROOT, ".venv", "bin", "python")


def reference_python():
    for cand in (os.environ.get("PARSL_REF_PYTHON"),
                 os.path.join(HERE, ".peers", "parsl-venv", "bin", "python")):
        if cand and os.path.exists(cand):
            return cand
    return None


def run_json(python, argv, timeout=600):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    if python == CHERVIL_PY:
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    else:
        env.pop("PYTHONPATH", None)
    out = subprocess.run([python] + argv, capture_output=True, text=True, timeout=timeout,
                         env=env, cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(f"{python} {' '.join(argv)} failed:\n{out.stderr[-2000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1])


def median(xs):
    return statistics.median(xs)


def impls(include_reference=True):
    out = [("chervil", CHERVIL_PY if os.path.exists(CHERVIL_PY) else sys.executable)]
    ref = reference_python() if include_reference else None
    if ref:
        out.append(("reference", ref))
    return out
