"""One interchange measurement with N simulated managers (run by managers_bench.py).

Runs under either implementation's interpreter (only Parsl's public API, psutil and /proc):
loads an HTEX that launches no blocks, starts ``simmanagers.py`` processes that connect N
managers to its worker port, and measures registration time, sequential-round-trip latency,
dispatch rate of a batch of no-op tasks, the interchange's CPU per task, memory per manager
and file descriptors.  Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import psutil

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

HERE = os.path.dirname(os.path.abspath(__file__))


@python_app
def noop():
    return None


def fd_count(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class InterchangeProbe:
    """CPU and memory of the interchange: Chervil's is a thread here, reference Parsl's a process."""

    def __init__(self, impl: str):
        self.impl = impl
        self.proc = psutil.Process()
        self.tid = None
        self.ix = None
        if impl == "chervil":
            for t in threading.enumerate():
                if t.name.startswith("htex-interchange"):
                    self.tid = t.native_id
        else:
            for c in self.proc.children(recursive=True):
                try:
                    if "interchange" in " ".join(c.cmdline()):
                        self.ix = c
                except psutil.Error:
                    pass

    def cpu_s(self) -> float:
        if self.tid is not None:
            with open(f"/proc/self/task/{self.tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if self.ix is not None:
            t = self.ix.cpu_times()
            return t.user + t.system
        return float("nan")

    def rss_mb(self) -> float:
        p = self.ix if self.ix is not None else self.proc
        return p.memory_info().rss / 2**20

    def fds(self) -> int:
        return fd_count(self.ix.pid if self.ix is not None else os.getpid())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=["chervil", "parsl"], required=True)
    ap.add_argument("--managers", type=int, default=10)
    ap.add_argument("--per-process", type=int, default=2500, help="simulated managers per load-generator process")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--tasks", type=int, default=10000)
    ap.add_argument("--latency-n", type=int, default=300)
    ap.add_argument("--sim-python", required=True)
    ap.add_argument("--register-timeout", type=float, default=120.0)
    ap.add_argument("--phase-timeout", type=float, default=180.0)
    args = ap.parse_args()
    run_dir = tempfile.mkdtemp(prefix="scale-managers-")
    ex = HighThroughputExecutor(label="htex", address="127.0.0.1", encrypted=False, heartbeat_period=30,
                                heartbeat_threshold=120,
                                provider=LocalProvider(init_blocks=0, min_blocks=0, max_blocks=0))
    dfk = parsl.load(Config(executors=[ex], run_dir=run_dir, strategy="none"))
    res = {"bench": "scale_managers", "impl": args.impl, "managers": args.managers, "workers": args.workers,
           "tasks": args.tasks}
    probe = InterchangeProbe(args.impl)
    rss0, fds0 = probe.rss_mb(), probe.fds()
    sim_argv = ["--port", str(ex.worker_port), "--workers", str(args.workers), "--protocol", args.impl]
    if args.impl == "parsl":
        from parsl.serialize import serialize
        sim_argv += ["--parsl-version", parsl.__version__, "--parsl-result-hex", serialize(None).hex()]
    sims = []
    first = 0
    while first < args.managers:
        n = min(args.per_process, args.managers - first)
        sims.append(subprocess.Popen([args.sim_python, os.path.join(HERE, "simmanagers.py"), "--managers", str(n),
                                      "--first", str(first)] + sim_argv, stdout=subprocess.PIPE, text=True))
        first += n
    try:
        starts = [json.loads(p.stdout.readline()) for p in sims]
        t_start = min(s["t_start"] for s in starts)
        res["loadgen_connect_s"] = max(s["t_connected"] for s in starts) - t_start
        deadline = time.time() + args.register_timeout
        connected = 0
        while time.time() < deadline:
            connected = len(ex.connected_managers())
            if connected >= args.managers:
                break
            time.sleep(0.25)   # connected_managers() describes every manager: poll gently
        res["registered"] = connected
        res["registration_s"] = time.time() - t_start if connected >= args.managers else None
        res["ix_rss_mb_before"] = rss0
        res["ix_rss_mb_after"] = probe.rss_mb()
        res["bytes_per_manager"] = (res["ix_rss_mb_after"] - rss0) * 2**20 / max(1, connected)
        res["ix_fds_before"], res["ix_fds_after"] = fds0, probe.fds()
        if connected == 0:
            raise RuntimeError("no manager registered")
        for f in [noop() for _ in range(100)]:
            f.result(timeout=args.phase_timeout)
        lat = []
        t_end = time.time() + args.phase_timeout
        for _ in range(args.latency_n):
            t0 = time.perf_counter()
            noop().result(timeout=args.phase_timeout)
            lat.append(time.perf_counter() - t0)
            if time.time() > t_end:
                break
        lat.sort()
        res["latency_p50_ms"] = lat[len(lat) // 2] * 1e3
        res["latency_p99_ms"] = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
        cpu0 = probe.cpu_s()
        t0 = time.perf_counter()
        futs = [noop() for _ in range(args.tasks)]
        t1 = time.perf_counter()
        for f in futs:
            f.result(timeout=args.phase_timeout)
        t2 = time.perf_counter()
        cpu1 = probe.cpu_s()
        res["submit_tasks_per_s"] = args.tasks / (t1 - t0)
        res["dispatch_tasks_per_s"] = args.tasks / (t2 - t0)
        res["ix_cpu_us_per_task"] = (cpu1 - cpu0) / args.tasks * 1e6
        res["ix_fds_peak"] = probe.fds()
    except Exception as e:
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        t0 = time.perf_counter()
        dfk.cleanup()
        res["cleanup_s"] = time.perf_counter() - t0
        sim_cpu = 0.0
        for p in sims:
            try:
                out, _ = p.communicate(timeout=20)
                done = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
                sim_cpu += done[-1].get("cpu_s", 0.0) if done else 0.0
            except subprocess.TimeoutExpired:
                p.terminate()
                p.wait(10)
        res["loadgen_cpu_s"] = sim_cpu
        shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    sys.exit(main())
