"""Fixtures for kernel integration tests: a real DataFlowKernel on thread pools."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import parsl  # noqa: E402

from kernel_helpers import threads_config  # noqa: E402


@pytest.fixture
def load():
    """``load(config=None, **config_kwargs)`` loads a config; whatever it loaded is cleaned up."""
    loaded = []

    def _load(config=None, **kwargs):
        if config is None:
            config = threads_config(**kwargs)
        d = parsl.load(config)
        loaded.append(d)
        return d
    yield _load
    for d in reversed(loaded):
        d.cleanup()
    parsl.clear()


@pytest.fixture
def dfk(load):
    """The default test kernel: one ThreadPoolExecutor 'threads' with 2 threads."""
    return load()
