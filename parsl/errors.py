"""The root of Chervil's error hierarchy, at Parsl's import path (defined in ``parsl._base.errors``)."""
from parsl._base.errors import (  # noqa: F401
    CapturedGlobalWarning,
    ConfigurationError,
    ConfigurationTypeError,
    InternalConsistencyError,
    NoDataFlowKernelError,
    OptionalModuleMissing,
    ParslError,
)

__all__ = [
    'ParslError', 'ConfigurationError', 'ConfigurationTypeError', 'OptionalModuleMissing',
    'InternalConsistencyError', 'NoDataFlowKernelError',
    'CapturedGlobalWarning',
]
