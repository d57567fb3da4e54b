"""Executors Parsl has and Chervil does not: importable, refuse to construct with a clear message."""
from parsl._base.errors import ExecutorError


class _Unavailable:
    _what = "this executor"

    def __init__(self, *args, **kwargs):
        raise ExecutorError(type(self).__name__,
                            f"{self._what} is not implemented in Chervil; use HighThroughputExecutor "
                            "(pilot jobs on any provider) or ThreadPoolExecutor")


class WorkQueueExecutor(_Unavailable):
    _what = "WorkQueueExecutor (CCTools Work Queue)"


class TaskVineExecutor(_Unavailable):
    _what = "TaskVineExecutor (CCTools TaskVine)"


class FluxExecutor(_Unavailable):
    _what = "FluxExecutor (Flux)"


class GlobusComputeExecutor(_Unavailable):
    _what = "GlobusComputeExecutor (Globus Compute)"
