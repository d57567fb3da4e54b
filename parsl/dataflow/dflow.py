"""The DataFlowKernel and its loader, at Parsl's path ``parsl.dataflow.dflow``.

The kernel lives in ``parsl._core``: ``dfk`` (services and cleanup, the loader),
``launch`` (the per-task path), ``arguments`` (dependencies and staging), ``task`` (the
record, the future, the state table), ``decisions`` (retry, release, join) and
``registry`` (the currently loaded kernel).
"""
from parsl._core.dfk import DataFlowKernel, DataFlowKernelLoader  # noqa: F401

__all__ = ["DataFlowKernel", "DataFlowKernelLoader"]
