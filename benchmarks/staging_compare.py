"""Chervil against reference Parsl on ``staging_http.py``, alternating runs; prints a table and
writes ``benchmarks/results/staging_http.json``.

    .venv/bin/python benchmarks/staging_compare.py --repeat 3
    .venv/bin/python benchmarks/staging_compare.py --repeat 1 -- --n-small 200 --large-mb 64
"""
import argparse
import json
import os

from _side_by_side import HERE, impls, median, run_json

KEYS = ["startup_s", "plain_small_s", "parsl_small_s", "small_files_per_s", "small_overhead_x",
        "plain_large_s", "parsl_large_s", "large_MB_per_s", "large_overhead_x"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("rest", nargs="*", help="arguments for staging_http.py (after --)")
    args = ap.parse_args()
    runs = {}
    for _ in range(args.repeat):
        for name, python in impls():
            runs.setdefault(name, []).append(run_json(python, ["staging_http.py"] + args.rest, timeout=1200))
    summary = {name: {k: median([r[k] for r in rs]) for k in KEYS} for name, rs in runs.items()}
    print(f"{'metric':22}" + "".join(f"{n:>14}" for n in summary))
    for k in KEYS:
        print(f"{k:22}" + "".join(f"{summary[n][k]:14.3f}" for n in summary))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "staging_http.json"), "w") as f:
        json.dump({"args": args.rest, "repeat": args.repeat, "median": summary, "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
