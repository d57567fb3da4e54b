"""Benchmark: time from ``sbatch`` to the first task running on a Slurm block (and from
``parsl.load`` to the first result), Chervil against reference Parsl, alternating runs.

Needs the local Slurm (``.ci/slurm-up.sh``, root).

    .venv/bin/python benchmarks/scaling_slurm.py [--repeat 3] [--period 5]

Writes ``benchmarks/results/scaling_slurm.json``.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _side_by_side import impls, median, run_json  # noqa: E402

FIELDS = ["load_to_sbatch_s", "sbatch_to_first_task_running_s", "load_to_first_result_s"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--period", default="5", help="strategy_period (Parsl's default is 5 s)")
    p.add_argument("--no-reference", action="store_true")
    a = p.parse_args()
    argv = [os.path.join(HERE, "scaling_workload.py"), "slurm", "--period", a.period]
    runs = {}
    for _ in range(a.repeat):
        for name, python in impls(include_reference=not a.no_reference):
            r = run_json(python, argv)
            print(json.dumps(r), flush=True)
            runs.setdefault(name, []).append(r)
    summary = {name: {f: median([r[f] for r in rs]) for f in FIELDS} for name, rs in runs.items()}
    print(json.dumps({"summary": summary}))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "scaling_slurm.json"), "w") as f:
        json.dump({"runs": runs, "summary": summary}, f, indent=1)


if __name__ == "__main__":
    main()
