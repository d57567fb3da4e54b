"""A lost manager's tasks that never started go back to the queue (issue 18, item 1).

Only the task it was running fails with ManagerLost; everything it held queued or
prefetched runs on the other manager, exactly once.
"""
import os
import signal
import sys
import time

import cloudpickle
import pytest

from parsl.executors.high_throughput.errors import ManagerLost
from parsl.providers import LocalProvider

from _htex_helpers import all_gone, htex, manager_pids  # noqa: F401
from waiting import wait_until

pytestmark = [pytest.mark.htex, pytest.mark.slow]
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def gated(gate, i):
    # Workload, not test synchronisation: each task holds its worker until the test opens the gate.
    while not os.path.exists(gate):
        time.sleep(0.01)
    return i, os.environ["PARSL_WORKER_POOL_ID"]


@pytest.mark.parametrize("how", [signal.SIGSTOP, signal.SIGKILL], ids=["stopped", "killed"])
def test_lost_manager_requeues_unstarted_tasks_and_fails_only_the_started_one(htex, tmp_path, how):
    ex = htex(max_workers_per_node=1, heartbeat_period=0.2, heartbeat_threshold=1.5,
              provider=LocalProvider(init_blocks=2, max_blocks=2))
    manager_pids(ex, count=2, timeout=30)
    gate = str(tmp_path / "gate")
    futs = [ex.submit(gated, {}, gate, i) for i in range(24)]

    def both_busy():
        ms = ex.connected_managers()
        return len(ms) == 2 and sum(m["tasks"] for m in ms) == 24 and all(m["running"] == 1 for m in ms) and ms
    managers = wait_until(both_busy, "both managers to hold the tasks and run one each")
    victim = max(managers, key=lambda m: m["tasks"])
    assert victim["tasks"] > 1, "the lost manager held queued tasks"
    os.kill(victim["pid"], how)
    try:
        wait_until(lambda: [m["manager"] for m in ex.connected_managers()] != [] and
                   victim["manager"] not in [m["manager"] for m in ex.connected_managers()],
                   "the manager to be declared lost", timeout=30)
        open(gate, "w").close()
        lost = [f for f in futs if isinstance(f.exception(timeout=60), ManagerLost)]
        done = [f.result() for f in futs if f not in lost]
    finally:
        if how == signal.SIGSTOP:
            os.kill(victim["pid"], signal.SIGCONT)
    assert len(lost) == 1, f"only the task it was running fails ({len(lost)} failed)"
    assert sorted(i for i, _ in done) == sorted(set(range(24)) - {futs.index(lost[0])}), "the rest ran once each"
    all_gone([victim["pid"]], 20)
