"""Benchmark: a local HTEX scaling 0 -> 8 blocks under load and back to min_blocks when idle,
Chervil against reference Parsl on the same workload (alternating runs).

    .venv/bin/python benchmarks/scaling_local.py [--repeat 2] [--strategy simple] [--period 1]

Each run is ``scaling_workload.py local``; prints one JSON line per run and a summary
(medians), and writes ``benchmarks/results/scaling_local_<strategy>.json``.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _side_by_side import impls, median, run_json  # noqa: E402

FIELDS = ["to_max_blocks_periods", "to_max_connected_s", "workload_s", "idle_to_min_blocks_periods"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--strategy", default="simple")
    p.add_argument("--period", default="1")
    p.add_argument("--idletime", default="2")
    p.add_argument("--no-reference", action="store_true")
    a = p.parse_args()
    argv = [os.path.join(HERE, "scaling_workload.py"), "local", "--strategy", a.strategy,
            "--period", a.period, "--idletime", a.idletime]
    runs = {}
    for _ in range(a.repeat):
        for name, python in impls(include_reference=not a.no_reference):
            r = run_json(python, argv)
            print(json.dumps(r), flush=True)
            runs.setdefault(name, []).append(r)
    summary = {name: {f: median([r[f] for r in rs if r[f] is not None] or [float("nan")]) for f in FIELDS}
               for name, rs in runs.items()}
    print(json.dumps({"summary": summary}))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", f"scaling_local_{a.strategy}.json"), "w") as f:
        json.dump({"runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
