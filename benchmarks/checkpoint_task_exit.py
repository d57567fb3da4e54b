"""Issue 5 speed target: task_exit checkpointing costs at most 10% of no-op throughput
on the thread pool.

One worker process per measurement runs N no-op apps with distinct arguments on
ThreadPoolExecutor(max_threads=2) and reports tasks/s, in three variants:
  plain      python_app without cache
  cache      python_app(cache=True), no checkpointing
  task_exit  python_app(cache=True), checkpoint_mode='task_exit' (results are on disk
             before the run dir is closed)
Variants and implementations alternate, --repeat times each.

    .venv/bin/python benchmarks/checkpoint_task_exit.py [-n 20000] [--repeat 3] [--no-reference]
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

VARIANTS = ("plain", "cache", "task_exit")


def worker(variant, n):
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl.dataflow.memoization import BasicMemoizer
    from parsl.executors import ThreadPoolExecutor

    @python_app(cache=variant != "plain")
    def noop(i):
        return i

    run_dir = tempfile.mkdtemp(prefix="ckpt-bench-")
    mode = "task_exit" if variant == "task_exit" else None
    cfg = Config(executors=[ThreadPoolExecutor(max_threads=2, label="threads")], run_dir=run_dir,
                 initialize_logging=False, memoizer=BasicMemoizer(checkpoint_mode=mode))
    dfk = parsl.load(cfg)
    try:
        [noop(-i - 1).result() for i in range(10)]  # warm-up
        t = time.perf_counter()
        futs = [noop(i) for i in range(n)]
        for f in futs:
            f.result()
        elapsed = time.perf_counter() - t
    finally:
        dfk.cleanup()
        parsl.clear()
        shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps({"variant": variant, "n": n, "tasks_per_s": n / elapsed}))


def main():
    from _side_by_side import impls, median, run_json
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-n", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-reference", action="store_true")
    args = p.parse_args()
    rows = {}
    for _ in range(args.repeat):
        for name, py in impls(not args.no_reference):
            for v in VARIANTS:
                n = args.n if name == "chervil" else max(2000, args.n // 10)
                r = run_json(py, [os.path.basename(__file__), "--worker", v, str(n)])
                rows.setdefault((name, v), []).append(r["tasks_per_s"])
    print("| impl | variant | tasks/s (median) | runs |")
    print("|---|---|---|---|")
    med = {}
    for (name, v), xs in sorted(rows.items()):
        med[(name, v)] = median(xs)
        print(f"| {name} | {v} | {median(xs):,.0f} | {', '.join(f'{x:,.0f}' for x in xs)} |")
    for name in {k[0] for k in med}:
        c, t, pl = med[(name, "cache")], med[(name, "task_exit")], med[(name, "plain")]
        print(f"{name}: task_exit costs {100 * (1 - t / c):.1f}% of cache=True throughput, "
              f"{100 * (1 - t / pl):.1f}% of plain no-op throughput (target: <= 10%)")
    print(json.dumps({"bench": "checkpoint_task_exit", "median_tasks_per_s":
                      {f"{k[0]}-{k[1]}": v for k, v in med.items()}}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
