"""Shared by the scale benchmarks: which interpreters, running one measurement in a child
process (one JSON line back), medians, and the results file."""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")


def chervil_python() -> str:
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def reference_python():
    """Reference Parsl's interpreter: $PARSL_REF_PYTHON or benchmarks/.peers/parsl-venv (compare.py
    installs it there); None when neither exists."""
    for cand in (os.environ.get("PARSL_REF_PYTHON"), os.path.join(BENCH, ".peers", "parsl-venv", "bin", "python")):
        if cand and os.path.exists(cand):
            return cand
    return None


def impls(with_reference: bool):
    out = [("chervil", chervil_python())]
    ref = reference_python() if with_reference else None
    if ref:
        out.append(("parsl", ref))
    return out


def run_json(python: str, argv, timeout: float, env_extra=None):
    """Run ``python argv`` from a neutral cwd; the last JSON line of its stdout, or an error dict."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(python) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)
    if env_extra:
        env.update(env_extra)
    t0 = time.time()
    # Its own process group: a run that times out is ended with everything it started
    # (reference Parsl's interchange is a separate process that outlives a killed parent).
    proc = subprocess.Popen([python] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd="/tmp", start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f}s"}
    finally:
        _end_group(proc)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {stderr[-1500:]}", "wall_s": time.time() - t0}
    return json.loads(lines[-1])


def _end_group(proc: subprocess.Popen) -> None:
    """Kill whatever is left of a run's process group (nothing, after a clean exit) and
    reap the run itself."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()


def median_of(runs, key):
    xs = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(xs) if xs else None


def save(name: str, payload) -> str:
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, sort_keys=True)
    return path


def machine() -> dict:
    return {"cpus": os.cpu_count(), "load1m": os.getloadavg()[0], "python": sys.version.split()[0],
            "when": time.strftime("%Y-%m-%d %H:%M:%S")}


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, float):
        if abs(x) >= 100:
            return f"{x:,.0f}"
        return f"{x:.{digits}g}"
    return f"{x:,}" if isinstance(x, int) else str(x)
