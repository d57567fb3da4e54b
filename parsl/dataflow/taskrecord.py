"""The task record: everything the kernel knows about one task (``parsl.dataflow.taskrecord``).

A slotted object that also answers ``rec['key']`` as Parsl's dict-typed record does. The
machinery lives in ``parsl._core.task``.
"""
from parsl._core.task import TaskRecord  # noqa: F401

__all__ = ["TaskRecord"]
