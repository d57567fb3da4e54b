"""The root of Chervil's error hierarchy, at Parsl's import path (defined in ``parsl._base.errors``)."""
from parsl._base.errors import (  # noqa: F401
    ParslError,
    ConfigurationError,
    OptionalModuleMissing,
    InternalConsistencyError,
    NoDataFlowKernelError,
)

__all__ = ['ParslError', 'ConfigurationError', 'OptionalModuleMissing', 'InternalConsistencyError', 'NoDataFlowKernelError']
