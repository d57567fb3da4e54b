"""Make a monitoring database of a synthetic workflow (default 100,000 tasks) through the
real writer path (``parsl._monitoring.db.Database.write``), to measure the web view.

    python benchmarks/monitoring_synthetic_db.py /tmp/big.db -n 100000 [--running]
"""
from __future__ import annotations

import argparse
import datetime
import random
import time

from parsl._monitoring.db import Batch, Database

APPS = ["generate", "simulate", "analyze", "reduce", "plot"]


def make(path: str, n: int, running: bool = False, run_id: str = "synthetic-run", seed: int = 1) -> None:
    rnd = random.Random(seed)
    db = Database(f"sqlite:///{path}")
    # A running workflow's tasks are recent; a finished one's may be anywhere in the past.
    t0 = (datetime.datetime.now() - datetime.timedelta(seconds=n / 100 + 25) if running
          else datetime.datetime(2026, 1, 1, 12, 0, 0))
    b = Batch()
    b.workflows.append({"run_id": run_id, "workflow_name": "synthetic", "workflow_version": "1",
                        "time_began": t0, "host": "bench", "user": "bench", "rundir": "/tmp/runinfo/000",
                        "tasks_completed_count": 0, "tasks_failed_count": 0,
                        "time_completed": None if running else t0 + datetime.timedelta(seconds=n / 100 + 60)})
    # 8 blocks on 8 nodes of 4 workers: requested at the start, running 2 s later, and
    # released at the end of a finished run (the overview's blocks and workers charts).
    end = t0 + datetime.timedelta(seconds=n / 100 + 30)
    for k in range(8):
        b.block.append({"run_id": run_id, "executor_label": "htex", "block_id": str(k), "job_id": str(1000 + k),
                        "status": "PENDING", "timestamp": t0})
        b.block.append({"run_id": run_id, "executor_label": "htex", "block_id": str(k), "job_id": str(1000 + k),
                        "status": "RUNNING", "timestamp": t0 + datetime.timedelta(seconds=2)})
        b.node.append({"run_id": run_id, "hostname": f"node{k}", "uid": f"manager-{k}", "block_id": str(k),
                       "cpu_count": 192, "total_memory": 256 * 2 ** 30, "active": True, "worker_count": 160,
                       "python_v": "3.11", "timestamp": t0 + datetime.timedelta(seconds=3),
                       "reg_time": t0 + datetime.timedelta(seconds=3)})
        if not running:
            b.block.append({"run_id": run_id, "executor_label": "htex", "block_id": str(k),
                            "job_id": str(1000 + k), "status": "COMPLETED", "timestamp": end})
            b.node.append({"run_id": run_id, "hostname": f"node{k}", "uid": f"manager-{k}", "block_id": str(k),
                           "cpu_count": 192, "total_memory": 256 * 2 ** 30, "active": False, "worker_count": 160,
                           "python_v": "3.11", "timestamp": end, "reg_time": t0 + datetime.timedelta(seconds=3)})
    db.write(b)
    chunk = 20_000
    for start in range(0, n, chunk):
        b = Batch()
        for i in range(start, min(n, start + chunk)):
            inv = t0 + datetime.timedelta(seconds=i / 100)
            run = inv + datetime.timedelta(seconds=rnd.random() * 5)
            ret = run + datetime.timedelta(seconds=rnd.random() * 20)
            state = "failed" if rnd.random() < 0.02 else "exec_done"
            if running and i > n * 0.9:
                state, ret = ("running", None) if i % 2 else ("pending", None)
            deps = ",".join(str(rnd.randrange(0, i)) for _ in range(rnd.randint(0, 2))) if i else None
            app = APPS[min(len(APPS) - 1, i * len(APPS) // n)]
            b.tasks.append({"task_id": i, "run_id": run_id, "task_func_name": app, "task_depends": deps,
                            "task_time_invoked": inv, "task_time_submitted": inv, "task_time_running": run,
                            "task_time_returned": ret, "task_status_name": state, "task_fail_count": 0,
                            "hostname": f"node{i % 8}", "task_executor": "htex", "task_memoize": "False"})
            b.tries.append({"try_id": 0, "task_id": i, "run_id": run_id, "hostname": f"node{i % 8}",
                            "block_id": str(i % 8), "task_executor": "htex", "task_try_time_launched": inv,
                            "task_try_time_running": run, "task_try_time_returned": ret})
            for name, ts in (("pending", inv), ("launched", inv), ("running", run), (state, ret)):
                if ts is not None:
                    b.status.append({"task_id": i, "run_id": run_id, "task_status_name": name, "timestamp": ts,
                                     "try_id": 0})
            for k in range(1 + (i % 2)):
                b.resource.append({"task_id": i, "try_id": 0, "run_id": run_id,
                                   "timestamp": run + datetime.timedelta(seconds=k),
                                   "psutil_process_cpu_percent": rnd.random() * 100,
                                   "psutil_process_memory_percent": rnd.random() * 5,
                                   "psutil_process_memory_resident": rnd.randint(20, 2000) * 2 ** 20,
                                   "psutil_process_time_user": rnd.random() * 10,
                                   "psutil_process_time_system": rnd.random(), "resource_monitoring_interval": 1.0})
        b.completed[run_id] = sum(1 for t in b.tasks if t["task_status_name"] == "exec_done")
        b.failed[run_id] = sum(1 for t in b.tasks if t["task_status_name"] == "failed")
        db.write(b)
    db.optimize()
    db.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("-n", type=int, default=100_000)
    p.add_argument("--running", action="store_true", help="leave the workflow running (last 10% unfinished)")
    a = p.parse_args()
    t = time.perf_counter()
    make(a.path, a.n, a.running)
    print(f"wrote {a.n} tasks to {a.path} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
