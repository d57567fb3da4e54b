"""htex_auto_scale removes idle blocks while others still work, and no task is lost."""
import time

import pytest

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

pytestmark = [pytest.mark.htex]


@python_app
def nap(seconds):
    import os
    import time
    time.sleep(seconds)
    return os.getpid()


def test_idle_blocks_go_busy_ones_stay_and_every_task_succeeds():
    provider = LocalProvider(init_blocks=0, min_blocks=0, max_blocks=3, parallelism=1)
    ex = HighThroughputExecutor(label="auto", max_workers_per_node=1, provider=provider,
                                heartbeat_period=1, heartbeat_threshold=5)
    dfk = parsl.load(Config(executors=[ex], strategy="htex_auto_scale", strategy_period=0.2, max_idletime=0.5))
    try:
        long_one = nap(8)
        short = [nap(0.2) for _ in range(6)]
        assert all(isinstance(f.result(timeout=60), int) for f in short)
        assert isinstance(long_one.result(timeout=60), int)     # its block was never taken away
        t_done = time.time()
        scale_ins = [e for e in ex.block_history.events() if e.event == "scale_in"]
    finally:
        dfk.cleanup()
        parsl.clear()
    assert scale_ins and scale_ins[0].time < t_done, "expected an idle block to be removed under load"
