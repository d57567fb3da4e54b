"""Executors (``parsl.executors``); heavy ones are imported on first use."""
from parsl.executors.base import ParslExecutor
from parsl.executors.threads import ThreadPoolExecutor

_LAZY = {
    "HighThroughputExecutor": ("parsl.executors.high_throughput.executor", "HighThroughputExecutor"),
    "MPIExecutor": ("parsl.executors.high_throughput.mpi_executor", "MPIExecutor"),
}

__all__ = ["ParslExecutor", "ThreadPoolExecutor", "HighThroughputExecutor", "MPIExecutor"]


def __getattr__(name):
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'parsl.executors' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(spec[0]), spec[1])
    globals()[name] = value
    return value
