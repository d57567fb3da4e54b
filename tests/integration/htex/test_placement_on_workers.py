"""Accelerators and CPU affinity reach the worker processes; drain_period retires a manager."""
import os
import sys

import cloudpickle
import pytest

from parsl.providers import LocalProvider

from _htex_helpers import htex  # noqa: F401
from waiting import wait_until

pytestmark = pytest.mark.htex
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def visible():
    import time
    time.sleep(0.3)   # keep this worker busy so the other one takes the next task
    return (os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("ROCR_VISIBLE_DEVICES"),
            os.environ.get("ZE_AFFINITY_MASK"), os.environ["PARSL_WORKER_RANK"])


def affinity():
    import time
    time.sleep(0.3)
    return tuple(sorted(os.sched_getaffinity(0))), os.environ.get("OMP_NUM_THREADS"), os.environ["PARSL_WORKER_RANK"]


def test_each_worker_gets_its_own_accelerator(htex):
    ex = htex(max_workers_per_node=4, available_accelerators=["7", "9"])
    assert ex.workers_per_node == 2, "the accelerator count caps workers"
    seen = {ex.submit(visible, {}).result(timeout=30) for _ in range(1)}
    futs = [ex.submit(visible, {}) for _ in range(6)]
    seen |= {f.result(timeout=30) for f in futs}
    by_rank = {rank: (cuda, rocr, ze) for cuda, rocr, ze, rank in seen}
    assert by_rank == {"0": ("7", "7", "7"), "1": ("9", "9", "9")}
    assert ex.connected_managers()[0]["worker_count"] == 2


def test_integer_accelerator_count(htex):
    ex = htex(max_workers_per_node=8, available_accelerators=2)
    futs = [ex.submit(visible, {}) for _ in range(6)]
    assert {f.result(timeout=30)[0] for f in futs} == {"0", "1"}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_block_affinity_pins_one_cpu_per_worker(htex):
    ex = htex(cpu_affinity="block")
    futs = [ex.submit(affinity, {}) for _ in range(6)]
    results = {f.result(timeout=30) for f in futs}
    cpus = sorted(os.sched_getaffinity(0))
    by_rank = {rank: (tuple(c), omp) for c, omp, rank in results}
    assert by_rank == {"0": ((cpus[0],), "1"), "1": ((cpus[1],), "1")}


def test_drain_period_retires_the_manager(htex):
    from parsl.jobs.states import JobState
    ex = htex(drain_period=1, heartbeat_period=0.2, provider=LocalProvider(init_blocks=1))
    assert ex.submit(os.getpid, {}).result(timeout=30)
    wait_until(lambda: not ex.connected_managers(), "the drained manager to leave", timeout=15)
    ex.poll_facade()
    wait_until(lambda: (ex._refresh_status() or True) and ex.status()["0"].state == JobState.COMPLETED,
               "block 0 to be COMPLETED", timeout=15)
