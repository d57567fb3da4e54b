"""Issue 5 speed target: a cache hit costs at most 1/20 of reference Parsl's.

Runs ``suite/cache.py`` (N distinct cache=True tasks, then the identical N again; the
second pass is all memo hits) under Chervil and reference Parsl, alternating, with Parsl's
default logging and with ``--no-log``, and prints the median µs per hit.

    .venv/bin/python benchmarks/cache_hit.py [-n 2000] [--repeat 3]
"""
import argparse
import json

from _side_by_side import impls, median, run_json


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    rows = {}
    for log in (True, False):
        for _ in range(args.repeat):
            for name, py in impls():
                argv = ["suite/cache.py", "-n", str(args.n)] + ([] if log else ["--no-log"])
                r = run_json(py, argv)
                rows.setdefault((name, log), []).append(r["cached_us_per_task"])
    print("| impl | logging | cached µs/hit (median) | runs |")
    print("|---|---|---|---|")
    summary = {}
    for (name, log), xs in sorted(rows.items()):
        summary[f"{name}-{'log' if log else 'nolog'}"] = median(xs)
        print(f"| {name} | {'default (DEBUG file)' if log else 'off'} | {median(xs):.1f} | "
              f"{', '.join(f'{x:.1f}' for x in xs)} |")
    for log in ("log", "nolog"):
        c, r = summary.get(f"chervil-{log}"), summary.get(f"reference-{log}")
        if c and r:
            print(f"ratio reference/chervil ({log}): {r / c:.1f}x  (target: >= 20x)")
    print(json.dumps({"bench": "cache_hit", "n": args.n, "median_us": summary}))


if __name__ == "__main__":
    main()
