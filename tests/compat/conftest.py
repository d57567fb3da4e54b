"""Fixtures the compat tests share."""
import pytest

import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


@pytest.fixture
def one_worker_htex():
    """A loaded DFK with one local HTEX block of one worker (unencrypted, loopback only)."""
    dfk = parsl.load(Config(executors=[HighThroughputExecutor(
        label="htex", address="127.0.0.1", max_workers_per_node=1, encrypted=False,
        provider=LocalProvider(init_blocks=1, max_blocks=1))]))
    yield dfk
    dfk.cleanup()
