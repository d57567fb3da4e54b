"""Lifted operators: ``fut[key]`` and ``fut.attr`` on an AppFuture give new AppFutures.

The machinery lives in ``parsl._core.task``.
"""
from parsl._core.task import lifted_getattr, lifted_getitem  # noqa: F401

__all__ = ["lifted_getitem", "lifted_getattr"]
