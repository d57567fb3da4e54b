"""Tutorial-era import path of the dataflow errors (Parsl renamed it ``parsl.dataflow.errors``
in 2023; ``ConfigurationError`` moved to ``parsl.errors``). Kept so old scripts import."""
from parsl.dataflow.errors import BadCheckpoint, DataFlowException, DependencyError, JoinError, PropagatedException  # noqa: F401
from parsl.errors import ConfigurationError, NoDataFlowKernelError  # noqa: F401
