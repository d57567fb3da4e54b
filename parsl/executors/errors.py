"""Executor errors, at Parsl's import path ``parsl.executors.errors``."""
from parsl._base.errors import (  # noqa: F401
    BadMessage,
    BadStateException,
    ExecutorError,
    InvalidResourceSpecification,
    ScalingFailed,
    UnsupportedFeatureError,
)

__all__ = [
    'ExecutorError', 'BadStateException', 'UnsupportedFeatureError', 'InvalidResourceSpecification', 'ScalingFailed',
    'BadMessage',
]
