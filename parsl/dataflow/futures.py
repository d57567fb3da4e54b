"""``AppFuture``: the future an app call returns (``parsl.dataflow.futures``).

The machinery lives in ``parsl._core.task``.
"""
from parsl._core.task import AppFuture  # noqa: F401

__all__ = ["AppFuture"]
