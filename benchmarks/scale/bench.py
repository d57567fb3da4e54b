"""Scale benchmarks: Chervil and reference Parsl, alternating, one command each.

    python benchmarks/scale/bench.py managers    # 10/100/1,000/10,000 simulated managers
    python benchmarks/scale/bench.py tasks       # 10k/100k/1M no-op tasks, threads and HTEX
    python benchmarks/scale/bench.py netem       # a manager 0/1/10 ms away over 1 Gbit/s (root)
    python benchmarks/scale/bench.py monitoring  # 300,000 tasks, monitoring on vs off
    python benchmarks/scale/bench.py all

Every measurement runs in a fresh child process (``*_run.py``, one JSON line each), Chervil
from this checkout's ``.venv`` and reference Parsl from ``$PARSL_REF_PYTHON`` or
``benchmarks/.peers/parsl-venv`` (``benchmarks/compare.py`` installs it), in alternating
order, ``--repeat`` times.  Reference Parsl runs where it can in reasonable time (its
limits are options: ``--reference-max-tasks`` ...); what it did not run is marked.  Medians
are printed as a markdown table and every run is kept in ``benchmarks/results/scale_<name>.json``.
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import chervil_python, fmt, impls, machine, median_of, run_json, save  # noqa: E402


def rotate(pairs, rep):
    """Alternate which implementation goes first from one repeat to the next."""
    return pairs if rep % 2 == 0 else list(reversed(pairs))


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(fmt(x) for x in r) + " |")


def log(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def bench_managers(a):
    runs = []
    counts = [int(x) for x in a.counts.split(",")]
    for rep in range(a.repeat):
        for n in counts:
            for impl, py in rotate(impls(not a.no_reference), rep):
                if impl == "parsl" and n > a.reference_max_managers:
                    continue
                tasks = a.tasks if impl == "chervil" else a.reference_tasks
                argv = [os.path.join(HERE, "managers_run.py"), "--impl", impl, "--managers", str(n),
                        "--tasks", str(tasks), "--sim-python", chervil_python(),
                        "--register-timeout", str(a.register_timeout)]
                log(f"managers rep {rep + 1}: {impl} {n}")
                r = run_json(py, argv, timeout=a.register_timeout + 300)
                r.update(impl=impl, managers=n, rep=rep)
                runs.append(r)
    rows = []
    for n in counts:
        for impl in ("chervil", "parsl"):
            rs = [r for r in runs if r["impl"] == impl and r["managers"] == n]
            if not rs:
                continue
            errs = [r["error"][:60] for r in rs if r.get("error")]
            rows.append([impl, n, median_of(rs, "registered"), median_of(rs, "registration_s"),
                         median_of(rs, "dispatch_tasks_per_s"), median_of(rs, "latency_p50_ms"),
                         median_of(rs, "latency_p99_ms"), median_of(rs, "ix_cpu_us_per_task"),
                         median_of(rs, "bytes_per_manager"), median_of(rs, "ix_fds_after"),
                         f"{len(errs)} failed: {errs[0]}" if errs else ""])
    table("Interchange with N simulated managers (1 worker each)",
          ["impl", "managers", "registered", "registration s", "dispatch tasks/s", "p50 ms", "p99 ms",
           "interchange CPU us/task", "bytes/manager", "fds", "notes"], rows)
    return runs


def bench_tasks(a):
    runs = []
    sizes = [int(x) for x in a.sizes.split(",")]
    for rep in range(a.repeat):
        for ex in a.executors.split(","):
            for n in sizes:
                for impl, py in rotate(impls(not a.no_reference), rep):
                    limit = a.reference_max_tasks if ex == "threads" else a.reference_max_htex_tasks
                    if impl == "parsl" and n > limit:
                        continue
                    log(f"tasks rep {rep + 1}: {impl} {ex} {n}")
                    r = run_json(py, [os.path.join(HERE, "tasks_run.py"), "-n", str(n), "--executor", ex],
                                 timeout=3600)
                    r.update(impl=impl, executor=ex, n=n, rep=rep, mode="throughput")
                    runs.append(r)
            if ex == "threads":
                for impl, py in rotate(impls(not a.no_reference), rep):
                    n = a.pending_n if impl == "chervil" else a.reference_pending_n
                    log(f"tasks rep {rep + 1}: {impl} pending memory")
                    r = run_json(py, [os.path.join(HERE, "tasks_run.py"), "-n", str(n), "--mode", "pending"],
                                 timeout=1800)
                    r.update(impl=impl, executor="threads", n=n, rep=rep, mode="pending")
                    runs.append(r)
    rows = []
    for ex in a.executors.split(","):
        for impl in ("chervil", "parsl"):
            base = None
            for n in sizes:
                rs = [r for r in runs if r["impl"] == impl and r["executor"] == ex and r["n"] == n
                      and r["mode"] == "throughput"]
                if not rs:
                    continue
                us = median_of(rs, "us_per_task")
                base = base or us
                rows.append([impl, ex, n, median_of(rs, "e2e_tasks_per_s"), us,
                             (us / base) if (us and base) else None, median_of(rs, "gc_share"),
                             median_of(rs, "peak_rss_mb"), median_of(rs, "peak_bytes_per_task")])
    table("Many tasks: submit all, then read all", ["impl", "executor", "tasks", "tasks/s", "us/task",
          "cost vs smallest", "GC share", "peak RSS MB", "peak RSS above load, bytes/task"], rows)
    prow = []
    for impl in ("chervil", "parsl"):
        rs = [r for r in runs if r["impl"] == impl and r["mode"] == "pending"]
        if rs:
            prow.append([impl, rs[0]["n"], median_of(rs, "bytes_per_pending_task"), median_of(rs, "drain_s")])
    table("Tasks pending on one unfinished Future (threads)", ["impl", "tasks", "bytes per pending task",
          "release and drain s"], prow)
    return runs


def bench_netem(a):
    runs = []
    rtts = [float(x) for x in a.rtts.split(",")]
    for rep in range(a.repeat):
        for rtt in rtts:
            for impl, py in rotate(impls(not a.no_reference), rep):
                tasks = a.tasks if impl == "chervil" else a.reference_tasks
                log(f"netem rep {rep + 1}: {impl} rtt {rtt} ms")
                r = run_json(py, [os.path.join(HERE, "netem_run.py"), "--rtt-ms", str(rtt), "--rate", a.rate,
                                  "--tasks", str(tasks), "--arg-mb", str(a.arg_mb)], timeout=1200)
                r.update(impl=impl, rtt_ms=rtt, rep=rep)
                runs.append(r)
    rows = []
    for impl in ("chervil", "parsl"):
        base = None
        for rtt in rtts:
            rs = [r for r in runs if r["impl"] == impl and r["rtt_ms"] == rtt]
            if not rs:
                continue
            tps = median_of(rs, "e2e_tasks_per_s")
            if rtt == 0:
                base = tps
            errs = [r["error"][:80] for r in rs if r.get("error")]
            rows.append([impl, rtt, median_of(rs, "link_echo_rtt_ms"), median_of(rs, "link_mb_s"), tps,
                         (tps / base) if (tps and base) else None, median_of(rs, "arg_s"),
                         median_of(rs, "arg_mb_s"), median_of(rs, "arg_share_of_1gbit"),
                         f"{len(errs)} failed: {errs[0]}" if errs else ""])
    table(f"One manager (2 workers) a network away, {a.rate}", ["impl", "RTT ms", "measured RTT ms",
          "link MB/s", "no-op tasks/s", "vs 0 ms", f"{a.arg_mb} MB arg s", "arg MB/s", "share of 1 Gbit/s",
          "notes"], rows)
    return runs


def bench_monitoring(a):
    runs = []
    for rep in range(a.repeat):
        for impl, py in rotate(impls(not a.no_reference), rep):
            n = a.n if impl == "chervil" else a.reference_n
            for mon in ((False, True) if rep % 2 == 0 else (True, False)):
                log(f"monitoring rep {rep + 1}: {impl} {'on' if mon else 'off'} n={n}")
                argv = [os.path.join(HERE, "tasks_run.py"), "-n", str(n), "--executor", a.executor] + \
                    (["--monitoring"] if mon else [])
                r = run_json(py, argv, timeout=3600)
                r.update(impl=impl, monitoring=mon, rep=rep, n=n)
                runs.append(r)
    rows = []
    for impl in ("chervil", "parsl"):
        off = [r for r in runs if r["impl"] == impl and not r["monitoring"]]
        on = [r for r in runs if r["impl"] == impl and r["monitoring"]]
        if not off or not on:
            continue
        t_off, t_on = median_of(off, "e2e_tasks_per_s"), median_of(on, "e2e_tasks_per_s")
        c_off, c_on = median_of(off, "e2e_with_cleanup_tasks_per_s"), median_of(on, "e2e_with_cleanup_tasks_per_s")
        n = on[0]["n"] + 20           # tasks_run.py's 20 warm-up tasks are recorded too
        counts = [r.get("db_rows", {}) for r in on]
        rows_ok = all(c.get("task") == n and c.get("try") == n and c.get("status", 0) >= 3 * n for c in counts)
        per_task = median_of([{"s": c.get("status", 0) / n} for c in counts], "s")
        ratios = sorted(r_on["e2e_tasks_per_s"] / r_off["e2e_tasks_per_s"]
                        for r_off, r_on in zip(sorted(off, key=lambda r: r["rep"]), sorted(on, key=lambda r: r["rep"]))
                        if r_off.get("e2e_tasks_per_s") and r_on.get("e2e_tasks_per_s"))
        rows.append([impl, n - 20, a.executor, t_off, t_on, (t_on / t_off) if t_off and t_on else None,
                     " / ".join(f"{x:.2f}" for x in ratios),
                     median_of(off, "user_process_cpu_us_per_task"), median_of(on, "user_process_cpu_us_per_task"),
                     median_of(on, "cleanup_s"), (c_on / c_off) if c_off and c_on else None,
                     f"all {n} tasks and tries, {per_task:g} status rows per task" if rows_ok
                     else f"MISSING rows: {counts}"])
    table("Monitoring under sustained load (MonitoringHub() defaults, HTEX 2 workers unless --executor)",
          ["impl", "tasks", "executor", "off tasks/s", "on tasks/s", "on/off", "on/off per round",
           "submitting process CPU us/task, off", "on", "on: cleanup s",
           "on/off incl. cleanup", "rows written (counted after cleanup)"], rows)
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["managers", "tasks", "netem", "monitoring", "all"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="Chervil only")
    g = ap.add_argument_group("managers")
    g.add_argument("--counts", default="10,100,1000,10000")
    g.add_argument("--tasks", type=int, default=20000, help="no-op tasks per dispatch measurement (Chervil)")
    g.add_argument("--reference-tasks", type=int, default=5000)
    g.add_argument("--reference-max-managers", type=int, default=10000)
    g.add_argument("--register-timeout", type=float, default=120.0)
    g = ap.add_argument_group("tasks")
    g.add_argument("--sizes", default="10000,100000,1000000")
    g.add_argument("--executors", default="threads,htex")
    g.add_argument("--reference-max-tasks", type=int, default=100000, help="threads")
    g.add_argument("--reference-max-htex-tasks", type=int, default=10000)
    g.add_argument("--pending-n", type=int, default=100000)
    g.add_argument("--reference-pending-n", type=int, default=20000)
    g = ap.add_argument_group("netem")
    g.add_argument("--rtts", default="0,1,10")
    g.add_argument("--rate", default="1gbit")
    g.add_argument("--arg-mb", type=int, default=100)
    g = ap.add_argument_group("monitoring")
    g.add_argument("-n", type=int, default=300000)
    g.add_argument("--reference-n", type=int, default=1000)
    g.add_argument("--executor", default="htex")
    a = ap.parse_args(argv)
    which = ["managers", "tasks", "netem", "monitoring"] if a.what == "all" else [a.what]
    for w in which:
        fn = {"managers": bench_managers, "tasks": bench_tasks, "netem": bench_netem,
              "monitoring": bench_monitoring}[w]
        runs = fn(a)
        path = save(f"scale_{w}.json", {"machine": machine(), "command": " ".join(sys.argv), "runs": runs})
        print(f"\n(results: {os.path.relpath(path)}; machine: {machine()})")


if __name__ == "__main__":
    main()
