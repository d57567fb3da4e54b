"""The tutorial's elasticity section (notebook 2, §2) on a real HTEX with local blocks.

With one worker per block, ``init_blocks=1, max_blocks=2``:
- ``parallelism=0.1``: 10 tasks over 1 slot is exactly the wanted ratio, so no block is
  added and every task runs in the same worker process;
- ``parallelism=1``: the strategy adds the second block and the tasks spread over two.
"""
import pytest

import parsl
from parsl.app.app import python_app
from parsl.channels import LocalChannel
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

pytestmark = [pytest.mark.htex]


def tutorial_config(parallelism, **config_kw):
    # The notebook's configuration, unchanged (tutorial-era spellings included).
    return Config(
        executors=[
            HighThroughputExecutor(
                label="local_htex",
                max_workers=1,
                provider=LocalProvider(
                    channel=LocalChannel(),
                    init_blocks=1,
                    max_blocks=2,
                    parallelism=parallelism,
                ),
            )
        ],
        **config_kw,
    )


def run_hello(seconds):
    @python_app
    def py_hello(seconds=seconds):
        import os
        import time
        time.sleep(seconds)
        return "(%s) Hello World!" % os.getpid()  # noqa: UP031 (the tutorial's own line)

    results = {i: py_hello() for i in range(10)}
    return [results[i].result() for i in range(10)]


def pids(lines):
    return {line.split(")")[0].lstrip("(") for line in lines}


def run_tutorial(parallelism, seconds, **config_kw):
    dfk = parsl.load(tutorial_config(parallelism, **config_kw))
    try:
        lines = run_hello(seconds)
        ex = dfk.executors["local_htex"]
        blocks = dict(ex.status())
        history = ex.block_history
    finally:
        dfk.cleanup()
        parsl.clear()
    return lines, blocks, history, ex


def test_parallelism_point_one_runs_everything_on_one_block():
    # The decision does not depend on the period, so a short one only makes the test quick.
    lines, blocks, history, _ = run_tutorial(0.1, 0.2, strategy_period=0.2)
    assert all(line.endswith("Hello World!") for line in lines)
    assert len(pids(lines)) == 1
    assert list(blocks) == ["0"]
    assert not [e for e in history.events() if e.event == "scale_out"]


def test_parallelism_one_starts_a_second_block_and_spreads_the_tasks():
    lines, blocks, history, ex = run_tutorial(1, 1.0, strategy_period=0.2)
    assert len(pids(lines)) == 2
    assert sorted(blocks) == ["0", "1"]
    assert [e.event for e in history.events() if e.event == "scale_out"] == ["scale_out"]
    # After cleanup every block we started has been cancelled.
    assert all(st.terminal for st in ex.status().values())


@pytest.mark.slow
@pytest.mark.parametrize("parallelism,expected_pids", [(0.1, 1), (1, 2)])
def test_tutorial_cells_unchanged(parallelism, expected_pids):
    # The notebook's cells as written: 5 s tasks, default strategy period.
    lines, _, _, _ = run_tutorial(parallelism, 5)
    assert len(pids(lines)) == expected_pids
