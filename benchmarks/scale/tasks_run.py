"""One many-tasks measurement (run by tasks_bench.py): N no-op apps, all submitted, then all read.

Runs under either implementation (Parsl's public API only).  Reports the cost per task end
to end and for submission, peak RSS, and the garbage collector's share: every collection is
timed through ``gc.callbacks``, per generation.  ``--gc`` tries the user-side remedies:
``freeze`` (``gc.freeze()`` after load), ``off`` (``gc.disable()`` for the run), ``python``
(CPython's default thresholds, whatever the implementation set), or ``default``.
``--mode pending`` measures memory instead: N tasks that each wait on one
unfinished Future, RSS before and after (bytes per pending task).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import os
import resource
import shutil
import sys
import tempfile
import time

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
from parsl.providers import LocalProvider


@python_app
def noop():
    return None


@python_app
def noop_dep(x):
    return None


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def db_rows(path):
    import sqlite3
    if not os.path.exists(path):
        return {"missing": True}
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in names}
    finally:
        con.close()


class GcTimer:
    def __init__(self):
        self.t = [0.0, 0.0, 0.0]
        self.n = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            g = info["generation"]
            self.t[g] += time.perf_counter() - self._start
            self.n[g] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--executor", choices=["threads", "htex"], default="threads")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mode", choices=["throughput", "pending"], default="throughput")
    ap.add_argument("--gc", choices=["default", "python", "freeze", "off"],
                    default="default",
                    help="default: whatever the implementation does; python: CPython's (700, 10, 10) after load")
    ap.add_argument("--monitoring", action="store_true",
                    help="MonitoringHub() with its defaults; rows are counted after cleanup")
    ap.add_argument("--no-resource-monitoring", action="store_true",
                    help="with --monitoring: MonitoringHub(resource_monitoring_enabled=False)")
    args = ap.parse_args()
    run_dir = tempfile.mkdtemp(prefix="scale-tasks-")
    if args.executor == "threads":
        ex = ThreadPoolExecutor(label="threads", max_threads=args.workers)
    else:
        ex = HighThroughputExecutor(label="htex", address="127.0.0.1", max_workers_per_node=args.workers,
                                    provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1))
    hub = None
    if args.monitoring:
        from parsl.monitoring import MonitoringHub
        hub = MonitoringHub(resource_monitoring_enabled=not args.no_resource_monitoring)
    dfk = parsl.load(Config(executors=[ex], run_dir=run_dir, monitoring=hub))
    for f in [noop() for _ in range(20)]:
        f.result()
    if args.gc == "freeze":
        gc.freeze()
    elif args.gc == "off":
        gc.disable()
    elif args.gc == "python":
        gc.set_threshold(700, 10, 10)
    rss_load = rss_mb()
    timer = GcTimer()
    res = {"bench": "scale_tasks", "impl": "chervil" if "chervil" in parsl.__version__ else "parsl",
           "version": parsl.__version__, "executor": args.executor, "workers": args.workers, "n": args.n,
           "mode": args.mode, "gc": args.gc, "gc_thresholds": list(gc.get_threshold())}
    if args.mode == "throughput":
        c0 = time.process_time()
        t0 = time.perf_counter()
        futs = [noop() for _ in range(args.n)]
        t1 = time.perf_counter()
        for f in futs:
            f.result()
        t2 = time.perf_counter()
        # CPU of this (the submitting) process, all threads: less noisy than the wall clock
        # on a shared machine, and where monitoring's in-run cost shows
        res["user_process_cpu_us_per_task"] = (time.process_time() - c0) / args.n * 1e6
        res.update(submit_s=t1 - t0, total_s=t2 - t0, e2e_tasks_per_s=args.n / (t2 - t0),
                   us_per_task=(t2 - t0) / args.n * 1e6, submit_us_per_task=(t1 - t0) / args.n * 1e6)
    else:
        gc.collect()
        r0 = rss_mb()
        gate: concurrent.futures.Future = concurrent.futures.Future()
        t0 = time.perf_counter()
        futs = [noop_dep(gate) for _ in range(args.n)]
        t1 = time.perf_counter()
        r1 = rss_mb()
        gate.set_result(0)
        for f in futs:
            f.result()
        t2 = time.perf_counter()
        res.update(submit_s=t1 - t0, drain_s=t2 - t1, rss_before_mb=r0, rss_pending_mb=r1,
                   bytes_per_pending_task=(r1 - r0) * 2**20 / args.n)
    gc.callbacks.remove(timer)
    res["rss_after_load_mb"] = rss_load
    res.update(gc_s=sum(timer.t), gc_s_by_gen=timer.t, gc_count_by_gen=timer.n,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.mode == "throughput":
        res["gc_share"] = res["gc_s"] / res["total_s"]
        res["peak_bytes_per_task"] = (res["peak_rss_mb"] - rss_load) * 2**20 / args.n
    del futs
    gc.enable()
    t0 = time.perf_counter()
    dfk.cleanup()
    res["cleanup_s"] = time.perf_counter() - t0
    if args.mode == "throughput":
        res["e2e_with_cleanup_tasks_per_s"] = args.n / (res["total_s"] + res["cleanup_s"])
    res["monitoring"] = args.monitoring
    if args.monitoring:
        res["db_rows"] = db_rows(os.path.join(run_dir, "monitoring.db"))
    shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    sys.exit(main())
