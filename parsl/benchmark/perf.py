"""``parsl-perf``: how many no-op tasks per second a config sustains.

    parsl-perf --config my_config.py [--time 120] [--argsize 0] [--resources '{...}'] [--iterate N]

The config file defines ``config`` (a Config) or ``fresh_config()`` returning one. Batches of
no-op apps grow until one batch takes at least ``--time`` seconds; each batch's submit and
end-to-end rates are printed.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time


def _load_config(path):
    spec = importlib.util.spec_from_file_location("parsl_perf_config", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"parsl-perf: cannot load config file {path!r}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "fresh_config"):
        return module.fresh_config()
    if hasattr(module, "config"):
        return module.config
    raise SystemExit(f"parsl-perf: {path} defines neither 'config' nor 'fresh_config()'")


def _noop(*args, parsl_resource_specification=None):
    return None


def run(config_path, target_t, argsize, resources, iterations=None):
    import parsl
    from parsl.app.python import PythonApp
    config = _load_config(config_path)
    dfk = parsl.load(config)
    app = PythonApp(_noop)
    arg = "x" * argsize
    n = 10
    it = 0
    try:
        while True:
            it += 1
            kwargs = {"parsl_resource_specification": resources} if resources else {}
            t0 = time.perf_counter()
            futs = [app(arg, **kwargs) for _ in range(n)]
            t1 = time.perf_counter()
            for f in futs:
                f.result()
            t2 = time.perf_counter()
            print(f"==== Iteration {it} ====\nTasks: {n}\nSubmission time: {t1 - t0:.3f} s "
                  f"({n / (t1 - t0):.0f} tasks/s)\nTotal time: {t2 - t0:.3f} s ({n / (t2 - t0):.0f} tasks/s)",
                  flush=True)
            done = (t2 - t0) >= target_t
            if iterations is not None:
                done = it >= iterations
            if done:
                break
            rate = n / max(t2 - t0, 1e-3)
            n = max(n * 2, int(rate * target_t))
    finally:
        dfk.cleanup()
        parsl.clear()


def cli_run(argv=None):
    from parsl._base.version import VERSION
    p = argparse.ArgumentParser(prog="parsl-perf", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="path to a Python file defining config or fresh_config()")
    p.add_argument("--resources", default=None, help="JSON resource specification for each task")
    p.add_argument("--time", type=float, default=120, help="target seconds for the final batch")
    p.add_argument("--argsize", type=int, default=0, help="bytes of argument per task")
    p.add_argument("--iterate", type=int, default=None, help="run exactly this many batches")
    p.add_argument("--version", action="version", version=f"parsl-perf (Chervil) {VERSION}")
    a = p.parse_args(argv)
    resources = json.loads(a.resources) if a.resources else None
    run(a.config, a.time, a.argsize, resources, a.iterate)
    return 0


if __name__ == "__main__":
    sys.exit(cli_run())
