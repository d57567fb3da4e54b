"""HighThroughputExecutor errors, at Parsl's import path."""
from parsl._base.errors import (  # noqa: F401
    CommandClientBadError,
    CommandClientTimeoutError,
    ManagerLost,
    VersionMismatch,
    WorkerLost,
    WorkerPoolError,
)

__all__ = [
    'ManagerLost', 'WorkerLost', 'VersionMismatch', 'CommandClientTimeoutError', 'CommandClientBadError',
    'WorkerPoolError',
]
