"""Issue 5 speed target: loading 100,000 checkpointed results takes under 1 s.

Writes a checkpoint of N results (each with its miss-explanation manifest, as a real
task_exit run writes them) and times loading it the way users do:
``parsl.load(Config(checkpoint_files=[dir]))`` minus an empty load, and the loader alone.
With a reference Parsl interpreter available, also times reference Parsl loading its own
format (N consecutive pickles of {'hash', 'exception', 'result'} in tasks.pkl) through
``Config(memoizer=BasicMemoizer(checkpoint_files=[dir]))``.

    .venv/bin/python benchmarks/checkpoint_load.py [-n 100000] [--repeat 3]
"""
import json
import os
import pickle
import shutil
import sys
import tempfile
import time


def write_chervil(d, n):
    from parsl._core.checkpoint import CheckpointWriter
    from parsl._core.memo import compute_key
    from parsl._core.memo_explain import describe_call

    def work(i, scale=2):
        return i * scale

    w = CheckpointWriter(d)
    for i in range(n):
        m = describe_call(work, "work", (i,), {"scale": 2})
        w.add(compute_key(work, "work", (i,), {"scale": 2}), m.encode(), {"i": i, "value": i * 2.0})
        if i % 200 == 199:
            w.flush()  # task_exit writes a batch per ~50 ms; 200 results per batch is typical
    w.close()


def write_reference(d, n):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "tasks.pkl"), "wb") as f:
        for i in range(n):
            pickle.dump({"hash": f"{i:032x}", "exception": None, "result": {"i": i, "value": i * 2.0}}, f)


def timed_load(files):
    import parsl
    from parsl.config import Config
    from parsl.dataflow.memoization import BasicMemoizer
    from parsl.executors import ThreadPoolExecutor
    run_dir = tempfile.mkdtemp(prefix="ckload-")
    t = time.perf_counter()
    dfk = parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=1)], run_dir=run_dir,
                            initialize_logging=False, memoizer=BasicMemoizer(checkpoint_files=files)))
    elapsed = time.perf_counter() - t
    dfk.cleanup()
    parsl.clear()
    shutil.rmtree(run_dir, ignore_errors=True)
    return elapsed


def worker(impl, n):
    d = tempfile.mkdtemp(prefix="ckpt-")
    ckdir = os.path.join(d, "000", "checkpoint")
    (write_chervil if impl == "chervil" else write_reference)(ckdir, n)
    size = sum(os.path.getsize(os.path.join(ckdir, f)) for f in os.listdir(ckdir))
    empty = timed_load([])
    full = timed_load([ckdir])
    out = {"impl": impl, "n": n, "file_mb": size / 1e6, "load_s": full - empty,
           "config_load_s": full, "empty_config_load_s": empty}
    if impl == "chervil":
        from parsl._core.checkpoint import load_checkpoints
        t = time.perf_counter()
        results, _ = load_checkpoints([ckdir])
        out["loader_only_s"] = time.perf_counter() - t
        assert len(results) == n
    shutil.rmtree(d, ignore_errors=True)
    print(json.dumps(out))


def main():
    import argparse

    from _side_by_side import impls, median, run_json
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-n", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rows = {}
    for _ in range(args.repeat):
        for name, py in impls():
            r = run_json(py, [os.path.basename(__file__), "--worker", name, str(args.n)])
            rows.setdefault(name, []).append(r)
    print("| impl | results | file MB | load s (median) | loader alone s | runs |")
    print("|---|---|---|---|---|---|")
    for name, rs in rows.items():
        loads = [r["load_s"] for r in rs]
        only = [r["loader_only_s"] for r in rs if "loader_only_s" in r]
        print(f"| {name} | {args.n:,} | {rs[0]['file_mb']:.1f} | {median(loads):.3f} | "
              f"{median(only):.3f} | {', '.join(f'{x:.3f}' for x in loads)} |" if only else
              f"| {name} | {args.n:,} | {rs[0]['file_mb']:.1f} | {median(loads):.3f} | - | "
              f"{', '.join(f'{x:.3f}' for x in loads)} |")
    print(json.dumps({"bench": "checkpoint_load", "n": args.n,
                      "median_load_s": {k: median([r["load_s"] for r in v]) for k, v in rows.items()}}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
