"""An HTEX workflow whose blocks are real Slurm jobs: scale out, run, scale in, clean up."""
import subprocess

import pytest

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.jobs.states import JobState
from parsl.launchers import SrunLauncher
from parsl.providers import SlurmProvider

from slurm_helpers import squeue_ids, wait_until_gone
from waiting import wait_until

pytestmark = [pytest.mark.slurm, pytest.mark.htex]


@python_app
def where(seconds=0.0):
    import os
    import time
    time.sleep(seconds)
    return os.environ.get("SLURM_JOB_ID"), os.getpid()


def slurm_htex(strategy="htex_auto_scale", max_idletime=1.0, retries=0, **provider_kw):
    provider_kw.setdefault("exclusive", False)       # two one-core blocks share the 2-core node
    provider_kw.setdefault("walltime", "00:05:00")
    provider = SlurmProvider(**provider_kw)
    provider.status_polling_interval = 0.5            # a test cluster answers fast; sites want 60 s
    ex = HighThroughputExecutor(label="slurm_htex", max_workers_per_node=1, provider=provider,
                                heartbeat_period=1, heartbeat_threshold=4)
    return Config(executors=[ex], strategy=strategy, strategy_period=0.5, max_idletime=max_idletime,
                  retries=retries)


def our_jobs(ex):
    return set(ex.blocks_to_job_id.values())


def test_blocks_scale_out_run_scale_in_and_leave_nothing(slurm_cluster):
    dfk = parsl.load(slurm_htex(init_blocks=0, min_blocks=0, max_blocks=2, parallelism=1))
    ex = dfk.executors["slurm_htex"]
    try:
        results = [f.result(timeout=120) for f in [where(1.5) for _ in range(8)]]
        jobs_used = {job for job, _ in results}
        assert len(jobs_used) == 2 and jobs_used <= our_jobs(ex)
        # Idle: after max_idletime the strategy cancels every block (min_blocks=0).
        wait_until(lambda: all(st.terminal for st in ex.status().values()), "scale-in to min_blocks",
                   timeout=60, interval=0.2)
        history = [e.event for e in ex.block_history.events()]
        assert "scale_out" in history and "scale_in" in history and "RUNNING" in history
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until_gone(our_jobs(ex))


def test_cleanup_cancels_running_blocks(slurm_cluster):
    dfk = parsl.load(slurm_htex(strategy="simple", max_idletime=3600, init_blocks=1, max_blocks=1))
    ex = dfk.executors["slurm_htex"]
    try:
        job, _ = where().result(timeout=120)
        assert job in squeue_ids()
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until_gone(our_jobs(ex))


def test_srun_launched_block_runs_tasks(slurm_cluster):
    dfk = parsl.load(slurm_htex(strategy="simple", init_blocks=1, max_blocks=1,
                                launcher=SrunLauncher(debug=False)))
    ex = dfk.executors["slurm_htex"]
    try:
        job, _ = where().result(timeout=120)
        assert job == ex.blocks_to_job_id["0"]
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until_gone(our_jobs(ex))


def test_a_block_cancelled_behind_our_back_is_replaced(slurm_cluster):
    # retries=1: a task handed to the dead block's manager before its heartbeats stop is
    # lost (ManagerLost) and runs again on the replacement block.
    dfk = parsl.load(slurm_htex(strategy="simple", max_idletime=3600, retries=1, init_blocks=1, max_blocks=1))
    ex = dfk.executors["slurm_htex"]
    try:
        first, _ = where().result(timeout=120)
        subprocess.run(["scancel", first], check=True, timeout=30)
        wait_until(lambda: ex.status()["0"].terminal, "the cancelled block to be noticed", timeout=60,
                   interval=0.2)
        second, _ = where().result(timeout=120)       # the strategy started a new block for it
        assert second != first
        assert JobState.CANCELLED.name in ex.block_history.states_seen("0")
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until_gone(our_jobs(ex))


def test_unknown_partition_fails_tasks_with_sbatchs_message(slurm_cluster):
    dfk = parsl.load(slurm_htex(strategy="simple", init_blocks=1, max_blocks=1, partition="no_such_partition"))
    ex = dfk.executors["slurm_htex"]
    try:
        with pytest.raises(Exception, match="(?i)invalid partition"):
            where().result(timeout=60)
    finally:
        dfk.cleanup()
        parsl.clear()
    assert not our_jobs(ex)


def test_broken_worker_environment_fails_tasks_quoting_the_jobs_stderr(slurm_cluster):
    dfk = parsl.load(slurm_htex(strategy="simple", init_blocks=1, max_blocks=1,
                                worker_init="echo 'chervil-test: module python/9.9 not found' >&2; exit 3"))
    ex = dfk.executors["slurm_htex"]
    try:
        with pytest.raises(Exception) as info:
            where().result(timeout=90)
        text = str(info.value)
        assert "module python/9.9 not found" in text and "gave up" in text
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until_gone(our_jobs(ex))
