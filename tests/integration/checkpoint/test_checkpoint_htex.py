"""The tutorial's caching and checkpointing cells on the HighThroughputExecutor (as the
tutorial runs them), with short sleeps; hits are asserted through task states."""
import pytest

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.dataflow.states import States
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
from parsl.utils import get_all_checkpoints

pytestmark = pytest.mark.htex


def htex_config(**kw):
    return Config(executors=[HighThroughputExecutor(
        label="local_htex", max_workers_per_node=1, address="127.0.0.1",
        provider=LocalProvider(init_blocks=1, max_blocks=1))], **kw)


@python_app(cache=True)
def slow_message(message):
    import time
    time.sleep(0.1)
    return message


@python_app(cache=True)
def slow_double(x):
    import time
    time.sleep(0.05)
    return x * 2


def test_tutorial_caching_cell_on_htex():
    dfk = parsl.load(htex_config())
    try:
        first = slow_message("Hello World")
        assert first.result() == "Hello World"
        second = slow_message("Hello World")
        assert second.result() == "Hello World"
        third = slow_message("Hello World!")
        assert third.result() == "Hello World!"
        assert first.task_record.status == States.exec_done
        assert second.task_record.status == States.memo_done
        assert third.task_record.status == States.exec_done
    finally:
        dfk.cleanup()


def test_tutorial_checkpoint_cells_on_htex():
    first = parsl.load(htex_config(checkpoint_mode="task_exit"))
    try:
        d = [slow_double(i) for i in range(5)]
        assert [f.result() for f in d] == [0, 2, 4, 6, 8]
        parsl.clear()   # as the tutorial: no cleanup before reloading
        second = parsl.load(htex_config(checkpoint_files=get_all_checkpoints()))
        try:
            d = [slow_double(i) for i in range(5)]
            assert [f.result() for f in d] == [0, 2, 4, 6, 8]
            assert all(f.task_record.status == States.memo_done for f in d)
        finally:
            second.cleanup()
    finally:
        first.cleanup()
