"""Errors of the dataflow kernel, at Parsl's import path ``parsl.dataflow.errors``."""
from parsl._base.errors import (  # noqa: F401
    BadCheckpoint,
    DataFlowException,
    DependencyError,
    JoinError,
    PropagatedException,
)

__all__ = ['DataFlowException', 'BadCheckpoint', 'PropagatedException', 'DependencyError', 'JoinError']
