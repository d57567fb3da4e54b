"""Executor errors, at Parsl's import path ``parsl.executors.errors``."""
from parsl._base.errors import (  # noqa: F401
    ExecutorError,
    BadStateException,
    UnsupportedFeatureError,
    InvalidResourceSpecification,
    ScalingFailed,
    BadMessage,
)

__all__ = ['ExecutorError', 'BadStateException', 'UnsupportedFeatureError', 'InvalidResourceSpecification', 'ScalingFailed', 'BadMessage']
