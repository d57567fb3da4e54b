"""One HTEX measurement with the manager a network away (run by bench.py netem).

Runs under either implementation (Parsl's public API): makes a network namespace joined by a
1 Gbit/s veth with the given round trip (``netns.NetHosts``), starts one manager there (its
launch command prefixed through ``WrappedLauncher``), and measures no-op throughput and the
time to send a task a large bytes argument.  Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import netns  # noqa: E402  (stdlib only: importable from either interpreter)

import parsl  # noqa: E402
from parsl import python_app  # noqa: E402
from parsl.config import Config  # noqa: E402
from parsl.executors import HighThroughputExecutor  # noqa: E402
from parsl.launchers import WrappedLauncher  # noqa: E402
from parsl.providers import LocalProvider  # noqa: E402


@python_app
def noop():
    return None


@python_app
def size_of(b):
    return len(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtt-ms", type=float, default=0.0)
    ap.add_argument("--rate", default="1gbit")
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--arg-mb", type=int, default=100)
    ap.add_argument("--arg-repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--relay", action="store_true", help="use delay_relay.py even at --rtt-ms 0 (its own cost)")
    args = ap.parse_args()
    impl = "chervil" if "chervil" in parsl.__version__ else "parsl"
    res = {"bench": "scale_netem", "impl": impl, "rtt_ms": args.rtt_ms, "rate": args.rate, "tasks": args.tasks,
           "workers": args.workers, "arg_mb": args.arg_mb, "relay_forced": args.relay}
    run_dir = tempfile.mkdtemp(prefix="scale-netem-")
    hosts = netns.NetHosts(1, rtt_ms=args.rtt_ms, rate=args.rate, relay=args.relay).up()
    dfk = None
    try:
        res["delay_mode"] = hosts.delay_mode
        res["link_echo_rtt_ms"] = hosts.echo_rtt_ms()
        res["link_mb_s"] = hosts.bulk_mb_s(mb=50)
        ex = HighThroughputExecutor(
            label="htex", address=hosts.root_addr(1), max_workers_per_node=args.workers, encrypted=False,
            provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1,
                                   launcher=WrappedLauncher(prepend=hosts.command_prefix(1, sys.executable))))
        dfk = parsl.load(Config(executors=[ex], run_dir=run_dir, strategy_period=0.2))
        t0 = time.perf_counter()
        noop().result(timeout=args.timeout)
        res["first_result_s"] = time.perf_counter() - t0
        for f in [noop() for _ in range(200)]:
            f.result(timeout=args.timeout)
        t0 = time.perf_counter()
        futs = [noop() for _ in range(args.tasks)]
        for f in futs:
            f.result(timeout=args.timeout)
        res["e2e_tasks_per_s"] = args.tasks / (time.perf_counter() - t0)
        blob = bytes(args.arg_mb << 20)
        times = []
        for _ in range(args.arg_repeats):
            t0 = time.perf_counter()
            assert size_of(blob).result(timeout=args.timeout) == len(blob)
            times.append(time.perf_counter() - t0)
        res["arg_s"] = statistics.median(times)
        res["arg_mb_s"] = args.arg_mb * 2**20 / 1e6 / res["arg_s"]
        res["arg_share_of_1gbit"] = res["arg_mb_s"] / 125.0
        res["arg_share_of_link"] = res["arg_mb_s"] / res["link_mb_s"]
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        if dfk is not None:
            dfk.cleanup()
        hosts.down()
        shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    sys.exit(main())
