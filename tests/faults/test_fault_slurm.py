"""A node lost under Slurm (docs/reliability.md, "A node or batch job is lost"): one of two
blocks' jobs is cancelled mid-run (scancel, as a node failure or preemption ends it), the
other's manager is stopped for a moment.

Promise: with ``retries`` >= 1 and a strategy that keeps ``min_blocks``, every task
completes exactly once; the lost block is replaced; cleanup cancels every job.
"""
import subprocess

import pytest

import parsl
from parsl.config import Config
from parsl.providers import SlurmProvider

import fault_tools as ft
from waiting import wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.htex]


def _squeue():
    out = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True, text=True, timeout=30).stdout
    return set(out.split())


@pytest.mark.parametrize("how", ["cancel", "suspend"])
def test_a_lost_or_suspended_slurm_job_costs_retries_not_results(tmp_path, slurm_cluster, how):
    provider = SlurmProvider(init_blocks=2, min_blocks=2, max_blocks=2, exclusive=False, walltime="00:05:00")
    provider.status_polling_interval = 0.5
    ex = ft.htex(label="slurm_htex", workers=1, provider=provider, heartbeat_threshold=10)
    dfk = parsl.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"), retries=3,
                            strategy="simple", strategy_period=0.5, max_idletime=60))
    ledger = ft.Ledger()
    jobs = set()
    try:
        ft.manager_pids(ex, count=2, timeout=120)
        jobs = set(ex.blocks_to_job_id.values())
        ledger.submit(30, seconds=0.3, app=ft.whose)
        ledger.wait_done(4, timeout=120)
        victim = sorted(jobs)[0]
        if how == "cancel":
            subprocess.run(["scancel", "--signal=KILL", "--full", victim], check=True, timeout=30)
            ft.fault()
        else:       # SIGSTOP to every process of the job, for less than heartbeat_threshold
            subprocess.run(["scontrol", "suspend", victim], check=True, timeout=30)
            ft.fault()
            ledger.wait_done(ledger.done() + 2, timeout=60)      # the other block goes on meanwhile
            subprocess.run(["scontrol", "resume", victim], check=True, timeout=30)
        ledger.check()
        retried = any(f.task_record["fail_count"] for f in ledger.futures.values())
        assert retried == (how == "cancel"), "a cancel costs the running task a try; a short suspension nothing"
        jobs |= set(ex.blocks_to_job_id.values())
        wait_until(lambda: len(set(ex.blocks_to_job_id.values())) > 2 or victim not in _squeue(),
                   "the cancelled job to leave squeue", timeout=60)
    finally:
        jobs |= set(ex.blocks_to_job_id.values())
        ft.close(dfk)
    wait_until(lambda: not (jobs & _squeue()), f"jobs {sorted(jobs)} to leave squeue", timeout=60, interval=0.2)
