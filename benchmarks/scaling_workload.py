"""One elasticity run, public API only, so it runs unchanged under Chervil or reference Parsl.

    python scaling_workload.py local [--tasks 32 --sleep 2 --period 1 --idletime 2 --strategy simple]
    python scaling_workload.py slurm [--period 1]

``local``: HTEX + LocalProvider, one worker per block, 0 -> up to 8 blocks under load, then
idle back to ``min_blocks``. Samples the executor's block table every 20 ms and prints one
JSON line: seconds (and strategy periods) from the first submit to 8 active blocks, to 8
connected blocks, and from the last result to ``min_blocks`` active blocks.

``slurm``: HTEX + SlurmProvider, one block: seconds from ``sbatch`` to the first task
running on the block, and from ``parsl.load`` to the first result.
"""
import argparse
import json
import sys
import tempfile
import threading
import time

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.jobs.states import JobState

ACTIVE = (JobState.PENDING, JobState.RUNNING)


@python_app
def busy(seconds):
    import time
    time.sleep(seconds)
    return 0


@python_app
def started_at():
    import time
    return time.time()


class Sampler:
    def __init__(self, ex, every=0.02):
        self.ex, self.every = ex, every
        self.samples = []            # (monotonic time, active blocks, connected blocks)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                st = self.ex.status()
                active = sum(1 for s in st.values() if s.state in ACTIVE)
                connected = len(self.ex.connected_blocks())
                self.samples.append((time.monotonic(), active, connected))
            except Exception:
                pass
            self._stop.wait(self.every)

    def stop(self):
        self._stop.set()
        self._thread.join()

    def first(self, since, pred):
        for t, a, c in self.samples:
            if t >= since and pred(a, c):
                return t - since
        return None


def run_local(a):
    from parsl.providers import LocalProvider
    provider = LocalProvider(init_blocks=0, min_blocks=a.min_blocks, max_blocks=a.max_blocks, parallelism=1)
    ex = HighThroughputExecutor(label="scaling", max_workers_per_node=1, provider=provider)
    run_dir = tempfile.mkdtemp(prefix="scaling-bench-")
    dfk = parsl.load(Config(executors=[ex], strategy=a.strategy, strategy_period=a.period,
                            max_idletime=a.idletime, run_dir=run_dir))
    try:
        sampler = Sampler(ex)
        t0 = time.monotonic()
        futs = [busy(a.sleep) for _ in range(a.tasks)]
        for f in futs:
            f.result()
        t_done = time.monotonic()
        deadline = t_done + a.idletime + 20 * a.period + 30
        while time.monotonic() < deadline:
            if sampler.samples and sampler.samples[-1][0] > t_done and sampler.samples[-1][1] <= a.min_blocks:
                break
            time.sleep(0.05)
        sampler.stop()
    finally:
        dfk.cleanup()
        parsl.clear()
    peak = max((s[1] for s in sampler.samples), default=0)
    out_s = sampler.first(t0, lambda act, con: act >= a.max_blocks)
    conn_s = sampler.first(t0, lambda act, con: con >= a.max_blocks)
    in_s = sampler.first(t_done, lambda act, con: act <= a.min_blocks)

    def per(s):
        return None if s is None else round(s / a.period, 2)

    return {"bench": "scaling_local", "impl": impl(), "strategy": a.strategy, "period_s": a.period,
            "max_idletime_s": a.idletime, "tasks": a.tasks, "peak_active_blocks": peak,
            "to_max_blocks_s": rnd(out_s), "to_max_blocks_periods": per(out_s),
            "to_max_connected_s": rnd(conn_s),
            "workload_s": rnd(t_done - t0),
            "idle_to_min_blocks_s": rnd(in_s), "idle_to_min_blocks_periods": per(in_s)}


def run_slurm(a):
    from parsl.providers import SlurmProvider
    provider = SlurmProvider(init_blocks=1, max_blocks=1, exclusive=False, walltime="00:05:00")
    sbatch_times = []
    real_submit = provider.submit

    def timed_submit(*args, **kw):
        sbatch_times.append(time.time())
        return real_submit(*args, **kw)
    provider.submit = timed_submit
    ex = HighThroughputExecutor(label="slurm_bench", max_workers_per_node=1, provider=provider)
    run_dir = tempfile.mkdtemp(prefix="slurm-bench-")
    t_load = time.time()
    dfk = parsl.load(Config(executors=[ex], strategy="simple", strategy_period=a.period, run_dir=run_dir))
    try:
        t_start = started_at().result(timeout=300)
        t_result = time.time()
    finally:
        dfk.cleanup()
        parsl.clear()
    return {"bench": "scaling_slurm_first_task", "impl": impl(), "period_s": a.period,
            "load_to_sbatch_s": rnd(sbatch_times[0] - t_load),
            "sbatch_to_first_task_running_s": rnd(t_start - sbatch_times[0]),
            "load_to_first_result_s": rnd(t_result - t_load)}


def impl():
    return "chervil" if "chervil" in getattr(parsl, "__version__", "") or hasattr(parsl, "_core") else "reference"


def rnd(x):
    return None if x is None else round(x, 3)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["local", "slurm"])
    p.add_argument("--tasks", type=int, default=32)
    p.add_argument("--sleep", type=float, default=2.0)
    p.add_argument("--period", type=float, default=1.0)
    p.add_argument("--idletime", type=float, default=2.0)
    p.add_argument("--strategy", default="simple")
    p.add_argument("--min-blocks", type=int, default=0)
    p.add_argument("--max-blocks", type=int, default=8)
    a = p.parse_args(argv)
    result = run_local(a) if a.mode == "local" else run_slurm(a)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
