"""Errors of the dataflow kernel, at Parsl's import path ``parsl.dataflow.errors``."""
from __future__ import annotations

from typing import List, Sequence, Tuple

from parsl.errors import ParslError


class DataFlowException(ParslError):
    """Base class of dataflow errors."""


class BadCheckpoint(DataFlowException):
    """A checkpoint could not be loaded; the message names the file and the cause."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self):
        return self.reason


class PropagatedException(DataFlowException):
    """A task failed because other futures it depends on failed.

    ``dependent_exceptions_tids`` is a list of (exception, description) pairs where
    the description is ``"task N"``, ``"DataFuture from task N"`` or a repr.
    """

    kind = "Propagated"

    def __init__(self, dependent_exceptions_tids: Sequence[Tuple[BaseException, str]], task_id,
                 *, failure_description: str = None):
        super().__init__(list(dependent_exceptions_tids), task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id = task_id
        self.failure_description = failure_description or self.kind
        root = self._find_any_root_cause()
        if root is not None:
            self.__cause__ = root

    def __reduce__(self):
        return (_rebuild_propagated, (type(self), self.dependent_exceptions_tids, self.task_id,
                                      self.failure_description))

    def _find_any_root_cause(self):
        for e, _ in self.dependent_exceptions_tids:
            while isinstance(e, PropagatedException) and e.dependent_exceptions_tids:
                e = e.dependent_exceptions_tids[0][0]
            if not isinstance(e, PropagatedException):
                return e
        return None

    def _chain(self) -> List[str]:
        """The chain of ids from this task back to the first root cause."""
        chain = []
        e = self
        while isinstance(e, PropagatedException) and e.dependent_exceptions_tids:
            exc, desc = e.dependent_exceptions_tids[0]
            chain.append(desc)
            e = exc
        return chain

    def __str__(self):
        chain = " <- ".join(self._chain())
        others = " (+ others)" if len(self.dependent_exceptions_tids) > 1 else ""
        root = self.__cause__
        why = ""
        if root is not None:
            from concurrent.futures import CancelledError
            if isinstance(root, CancelledError):
                why = ": the upstream task was cancelled"
            else:
                why = f": {type(root).__name__}: {root}"
        return f"{self.failure_description} failure for task {self.task_id} with failed dependencies from {chain}{others}{why}"


def _rebuild_propagated(cls, deps, task_id, desc):
    return cls(deps, task_id, failure_description=desc)


class DependencyError(PropagatedException):
    """A task could not run because a task it depends on failed (or was cancelled)."""

    kind = "Dependency"

    def __init__(self, dependent_exceptions_tids, task_id):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Dependency")

    def __reduce__(self):
        return (type(self), (self.dependent_exceptions_tids, self.task_id))


class JoinError(PropagatedException):
    """A join app's inner futures failed."""

    kind = "Join"

    def __init__(self, dependent_exceptions_tids, task_id):
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Join")

    def __reduce__(self):
        return (type(self), (self.dependent_exceptions_tids, self.task_id))
