"""Side-by-side benchmarks: Chervil against reference Parsl (from PyPI), same run, ratios.

    python benchmarks/compare.py                 # the default entries, 3 repeats each
    python benchmarks/compare.py --only 'threads' --repeat 5
    python benchmarks/compare.py --list
    python benchmarks/compare.py --before-python ../old-checkout/.venv/bin/python   # A/B of two Chervils

Reference Parsl is installed from PyPI into its own virtual environment
(``benchmarks/.peers/parsl-venv``) the first time; Chervil runs from this project's
interpreter. Each entry runs reference and Chervil alternately, so both see the same
machine load. The workload scripts in ``suite/`` use only Parsl's public API.
Results go to ``benchmarks/results/latest.json`` and a markdown table to stdout, with
each issue's target and whether it is met. ``--before-python`` names the interpreter of
another Chervil (an older checkout with its own editable install): it runs in the same
rotation, and the tables show its figures and ratios beside this one's.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "suite"))
import run_suite  # noqa: E402

PEERS = os.path.join(HERE, ".peers")
REF_VENV = os.path.join(PEERS, "parsl-venv")

# entry -> (headline field, higher_is_better)
HEADLINE = {
    "throughput": ("e2e_tasks_per_s", True),
    "latency": ("p50_ms", False),
    "dag-chain": ("wall_s", False),
    "dag-fan": ("wall_s", False),
    "bash-true": ("e2e_tasks_per_s", True),
    "bash-echo": ("e2e_tasks_per_s", True),
    "memory-dep": ("bytes_per_task", False),
    "memory-queued": ("bytes_per_task", False),
    "startup": ("first_result_s", False),
    "monitoring": ("e2e_tasks_per_s", True),
    "cache": ("cached_us_per_task", False),
}

# (entry, field, kind, value, what) — kind: 'x_ref' = at least value× better than reference,
# 'abs_max' = at most value, 'x_base' = at least value× the named baseline entry (ours)
TARGETS = [
    ("throughput/threads-2", "e2e_tasks_per_s", "x_ref", 20, "issue 2: >=20x reference"),
    ("throughput/threads-2", "e2e_tasks_per_s", "x_base:throughput/base-cf-thread-2", 0.5,
     "issue 2: >=0.5x stdlib ThreadPoolExecutor(2)"),
    ("dag-chain/threads-2", "wall_s", "x_ref", 20, "issue 2: chain of 1000 >=20x faster"),
    ("memory-dep/threads-2", "bytes_per_task", "abs_max", 1500, "issue 2: <=1.5 KB per pending task"),
    ("memory-dep/threads-2", "drain_s", "x_ref", 20, "issue 2: release 100k >=20x faster"),
    ("throughput/htex-2", "e2e_tasks_per_s", "x_ref", 10, "issue 3: >=10x reference"),
    ("throughput/htex-2", "e2e_tasks_per_s", "x_base:throughput/base-cf-process-2", 0.7,
     "issue 3: >=0.7x stdlib ProcessPoolExecutor(2)"),
    ("latency/htex-2", "p50_ms", "x_ref", 5, "issue 3: p50 <=1/5 of reference"),
    ("dag-chain/htex-2", "wall_s", "x_ref", 5, "issue 3: chain >=5x faster"),
    ("startup/htex-2", "first_result_s", "abs_max", 1.0, "issue 3: load->first result <1 s"),
    ("startup/htex-2", "cleanup_s", "abs_max", 1.0, "issue 3: cleanup <1 s"),
    ("bash-true/htex-2", "e2e_tasks_per_s", "x_ref", 1, "issue 3: bash throughput no worse"),
    ("cache/threads-2", "cached_us_per_task", "x_ref", 20, "issue 5: cache hit <=1/20 of reference"),
    ("monitoring/htex-2-on", "e2e_tasks_per_s", "x_base:monitoring/htex-2-off", 0.9,
     "issue 6: monitoring on >=90% of off"),
]

DEFAULT_ONLY = (r"^(throughput/(threads-2|htex-2|base-cf-thread-2|base-cf-process-2)$|latency/(threads-2|htex-2)$|"
                r"dag-chain/(threads-2|htex-2)$|dag-fan/threads-2$|memory-dep/threads-2$|startup/(threads-2|htex-2)$|"
                r"bash-true/(threads-2|htex-2)$|cache/threads-2$|monitoring/htex-2-o(n|ff)$)")


def ensure_reference_venv():
    py = os.path.join(REF_VENV, "bin", "python")
    if not os.path.exists(py):
        os.makedirs(PEERS, exist_ok=True)
        print("# installing reference Parsl from PyPI into", REF_VENV, flush=True)
        subprocess.run(["python3",
                        "-m", "venv", REF_VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "parsl[monitoring]", "psutil"], check=True)
    return py


def ratio_for(field, higher_better, ours, ref):
    if ours is None or ref is None or ours == 0 or ref == 0:
        return None
    return ours / ref if higher_better else ref / ours


def med(entry, field):
    a = entry.get("agg", {}).get(field) if entry else None
    return a["median"] if a else None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=DEFAULT_ONLY, help="regex on entry names (default: the issues' entries)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--ref-python", default=None, help="reference Parsl interpreter (default: install one)")
    p.add_argument("--ours-python", default=sys.executable)
    p.add_argument("--before-python", default=None,
                   help="another Chervil's interpreter, run alternately too (before/after comparisons)")
    p.add_argument("--std-python", default="python3")
    p.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    p.add_argument("--list", action="store_true")
    a = p.parse_args()
    entries = [e for e in run_suite.SUITE if re.search(a.only, e[0]) and e[1] != "dask"]
    if a.list:
        for e in entries:
            print(e[0])
        return
    ref_py = a.ref_python or ensure_reference_venv()
    results = {"ours": {}, "ref": {}, "before": {},
               "meta": {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "ours_python": a.ours_python,
                        "ref_python": ref_py, "before_python": a.before_python}}
    for name, kind, script, args in entries:
        sides = [("std", a.std_python)] if kind == "std" else [("ref", ref_py), ("ours", a.ours_python)]
        if a.before_python and kind != "std":
            sides.append(("before", a.before_python))
        runs = {s: [] for s, _ in sides}
        for _ in range(a.repeat):
            for side, py in sides:  # alternate, so both see the same load
                runs[side].append(run_suite.run_once(os.path.abspath(py) if os.path.exists(py) else py,
                                                     script, args, a.timeout))
        for side in runs:
            agg = run_suite.aggregate(runs[side])
            key = "ours" if side in ("ours", "std") else side
            results[key][name] = {"cmd": f"{script} {args}", "runs": runs[side], "agg": agg}
        field, hb = HEADLINE.get(name.split("/")[0], (None, True))
        o, r = med(results["ours"].get(name), field), med(results["ref"].get(name), field)
        errs = [x.get("error") for side in runs for x in runs[side] if "error" in x]
        print(f"{name}: {field} ours={o} ref={r}" + (f" ERRORS {errs}" if errs else ""), flush=True)
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
    report(results)


def _fmt(x, spec):
    return "" if x is None else format(x, spec)


def report(results):
    ours, ref, before = results["ours"], results["ref"], results.get("before") or {}
    if before:
        print("\n| entry | field | Chervil | before | reference Parsl | ratio | ratio before |")
        print("|---|---|---|---|---|---|---|")
    else:
        print("\n| entry | field | Chervil | reference Parsl | ratio (>1 = Chervil better) |")
        print("|---|---|---|---|---|")
    for name in ours:
        field, hb = HEADLINE.get(name.split("/")[0], (None, True))
        o, r = med(ours.get(name), field), med(ref.get(name), field)
        if o is None:
            print(f"| {name} | {field} | – | – | – |")
            continue
        rt = ratio_for(field, hb, o, r)
        if before:
            b = med(before.get(name), field)
            rb = ratio_for(field, hb, b, r) if b is not None else None
            print(f"| {name} | {field} | {o:.4g} | {_fmt(b, '.4g')} | {_fmt(r, '.4g')} | "
                  f"{_fmt(rt, '.1f')}x | {_fmt(rb, '.1f')}x |")
        else:
            print(f"| {name} | {field} | {o:.4g} | {_fmt(r, '.4g')} | {_fmt(rt, '.1f')}x |")
    for label, side in (("", ours), (" (before)", before)):
        if side:
            _report_targets(side, ref, ours, label)


def _report_targets(ours, ref, stdlib, label):
    """The targets met by ``ours``; stdlib baselines (kind 'x_base') are read from ``stdlib``."""
    print(f"\n| target{label} | measured | met |")
    print("|---|---|---|")
    for entry, field, kind, value, what in TARGETS:
        o = med(ours.get(entry), field)
        if o is None:
            continue
        lower_better = field in ("drain_s", "cleanup_s")
        hb = False if lower_better else HEADLINE.get(entry.split("/")[0], (None, True))[1]
        if kind == "abs_max":
            met, shown = o <= value, f"{o:.4g}"
        elif kind == "x_ref":
            r = med(ref.get(entry), field)
            rt = ratio_for(field, hb, o, r)
            if rt is None:
                continue
            met, shown = rt >= value, f"{rt:.1f}x"
        else:
            base = med(stdlib.get(kind.split(":", 1)[1]), field)
            if base is None:
                continue
            rt = o / base
            met, shown = rt >= value, f"{rt:.2f}x"
        print(f"| {what} | {shown} | {'yes' if met else 'NO'} |")


if __name__ == "__main__":
    main()
