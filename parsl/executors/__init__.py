"""Executors at Parsl's import path; the heavy ones load on first use."""
from parsl._base.lazy import submodule_getattr
from parsl.executors.base import ParslExecutor

_LAZY = {
    "ThreadPoolExecutor": "parsl.executors.threads",
    "HighThroughputExecutor": "parsl.executors.high_throughput.executor",
    "MPIExecutor": "parsl.executors.high_throughput.mpi_executor",
    # Parsl's other executors: importable; constructing one says Chervil does not provide it
    "WorkQueueExecutor": "parsl.executors.unsupported",
    "TaskVineExecutor": "parsl.executors.unsupported",
    "FluxExecutor": "parsl.executors.unsupported",
    "GlobusComputeExecutor": "parsl.executors.unsupported",
}

__all__ = ["ParslExecutor", *_LAZY]


__getattr__ = submodule_getattr(__name__, _LAZY)
