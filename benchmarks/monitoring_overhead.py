"""HTEX no-op throughput with monitoring on (resource sampling every 1 s) against off,
under Chervil and reference Parsl, alternating runs.  Target: Chervil on >= 90% of off.

    .venv/bin/python benchmarks/monitoring_overhead.py [-n 10000] [--repeat 6] [--ref-n 300] [--ref-repeat 3]

Reports each side's median tasks/s off and on, their ratio, and the median of the rounds'
own on/off ratios (``paired_on_over_off``: steadier when the machine's speed drifts).

One run (what each side executes):
    python benchmarks/monitoring_overhead.py --one {off,on} -n N
prints a JSON line: tasks/s end to end (first submit to last result), cleanup seconds,
the row counts the run left in its monitoring database (nothing may be lost), and (Chervil,
with psutil) the CPU each process of the run spent per task during the timed part
(``cpu_us_per_task``: user process, manager, workers, monitoring writer; with
``MON_BENCH_THREADS=1`` also the user process's threads, ``user:<thread name>``).
"""
import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time


def one(mode: str, n: int, workers: int) -> dict:
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider

    tmp = tempfile.mkdtemp(prefix="mon-bench-")
    db = os.path.join(tmp, "monitoring.db")
    kw = {}
    if mode == "on":
        from parsl.monitoring.monitoring import MonitoringHub
        kw["monitoring"] = MonitoringHub(logging_endpoint=f"sqlite:///{db}", resource_monitoring_interval=1)
    config = Config(executors=[HighThroughputExecutor(
        label="htex", address="127.0.0.1", max_workers_per_node=workers,
        provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1))],
        run_dir=os.path.join(tmp, "runinfo"), **kw)

    @parsl.python_app
    def noop():
        return None

    dfk = parsl.load(config)
    for f in [noop() for _ in range(20)]:
        f.result()
    before = _cpu_by_role()
    t0 = time.perf_counter()
    futs = [noop() for _ in range(n)]
    for f in futs:
        f.result()
    elapsed = time.perf_counter() - t0
    after = _cpu_by_role()
    t1 = time.perf_counter()
    dfk.cleanup()
    parsl.clear()
    cleanup = time.perf_counter() - t1
    rows = {}
    if os.path.exists(db):
        con = sqlite3.connect(db)
        for t in ("task", "try", "status", "resource"):
            try:
                rows[t] = con.execute(f'select count(*) from "{t}"').fetchone()[0]
            except sqlite3.Error:
                rows[t] = None
        con.close()
    cpu = {role: round((after[role] - before.get(role, 0.0)) * 1e6 / n, 1) for role in after} if after else {}
    return {"mode": mode, "n": n, "tasks_per_s": n / elapsed, "cleanup_s": cleanup, "rows": rows,
            "cpu_us_per_task": cpu}


def _cpu_by_role() -> dict:
    """CPU seconds (user+system) so far of this process and its descendants, by role."""
    try:
        import psutil
    except ImportError:
        return {}
    me = psutil.Process()
    out: dict = {}
    for p in [me] + me.children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
            t = p.cpu_times()
        except psutil.Error:
            continue
        role = ("user" if p.pid == me.pid else "writer" if "writer_process" in cmd
                else "worker" if "_htex.worker" in cmd else "manager" if "process_worker_pool" in cmd
                else "other")
        out[role] = out.get(role, 0.0) + t.user + t.system
        if role == "user" and os.environ.get("MON_BENCH_THREADS"):
            import threading
            names = {th.native_id: th.name for th in threading.enumerate()}
            for th in p.threads():
                name = "user:" + names.get(th.id, "?").split("-")[0]
                out[name] = out.get(name, 0.0) + th.user_time + th.system_time
        if os.environ.get("MON_BENCH_CTX"):
            c = p.num_ctx_switches()
            out[role + "_ctx"] = out.get(role + "_ctx", 0.0) + (c.voluntary + c.involuntary) / 1e6
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--one", choices=["off", "on"])
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--ref-n", type=int, default=300, help="tasks for reference Parsl with monitoring on "
                    "(it starts a process per task, so it is slow)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=6)
    ap.add_argument("--ref-repeat", type=int, default=3,
                    help="rounds that also run reference Parsl (its runs take ~20 s; at most --repeat)")
    ap.add_argument("--no-reference", action="store_true")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one, a.n, a.workers)))
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _side_by_side import CHERVIL_PY, median, reference_python, run_json
    me = os.path.abspath(__file__)
    sides = [("chervil", CHERVIL_PY)]
    ref = None if a.no_reference else reference_python()
    if ref:
        sides.append(("parsl", ref))
    results = {name: {"off": [], "on": []} for name, _ in sides}
    for rnd in range(a.repeat):
        for name, py in sides:
            if name == "parsl" and rnd >= a.ref_repeat:
                continue
            for mode in ("off", "on"):
                n = a.ref_n if (name == "parsl" and mode == "on") else a.n
                r = run_json(py, [me, "--one", mode, "-n", str(n), "--workers", str(a.workers)])
                results[name][mode].append(r)
                print(f"{name:8s} {mode:3s} n={n:6d} {r['tasks_per_s']:8.0f} tasks/s  cleanup {r['cleanup_s']:.2f} s"
                      f"  rows {r['rows']}  cpu us/task {r.get('cpu_us_per_task')}", file=sys.stderr)
    summary = {}
    for name in results:
        if not results[name]["off"]:
            continue              # --ref-repeat 0
        off = median([r["tasks_per_s"] for r in results[name]["off"]])
        on = median([r["tasks_per_s"] for r in results[name]["on"]])
        # On a shared machine the speed drifts between runs: the median of each round's
        # own on/off ratio (runs side by side in time) is steadier than a ratio of medians.
        paired = median([r_on["tasks_per_s"] / r_off["tasks_per_s"]
                         for r_off, r_on in zip(results[name]["off"], results[name]["on"])])
        summary[name] = {"off_tasks_per_s": round(off), "on_tasks_per_s": round(on), "on_over_off": round(on / off, 3),
                         "paired_on_over_off": round(paired, 3), "rounds": len(results[name]["off"])}
        for mode in ("off", "on"):
            runs = [r.get("cpu_us_per_task") or {} for r in results[name][mode]]
            roles = sorted({k for r in runs for k in r})
            if roles:
                summary[name][f"{mode}_cpu_us_per_task"] = {k: median([r.get(k, 0.0) for r in runs]) for k in roles}
    print(json.dumps({"benchmark": "monitoring_overhead", "workers": a.workers, "n": a.n, "summary": summary}))


if __name__ == "__main__":
    main()
