"""The kernel's decisions, as pure functions of their inputs.

Nothing here starts threads, waits, or calls user code: the kernel (``parsl._core.launch``)
gathers the inputs, asks, and acts on the answer. Futures passed in are already done.

- ``retry_or_fail``: after a try failed, retry the task or fail it for good;
- ``release``: one dependency of a task finished; is the task now ready to launch?
- ``dependency_failures``: which finished dependencies failed (the task then fails with
  ``DependencyError`` instead of running);
- ``join_targets`` / ``join_outcome``: what a join app returned, and the join's result or
  ``JoinError`` once those inner futures are done.
"""
from __future__ import annotations

from concurrent.futures import CancelledError, Future
from concurrent.futures._base import FINISHED
from typing import Any, FrozenSet, Iterable, List, NamedTuple, Optional, Tuple, Type

from parsl._base.errors import DependencyError, JoinError
from parsl._base.futures import DataFuture, LightFuture
from parsl._core.task import AppFuture, TaskRecord, describe_future

#: Future types whose private fields may be read directly once they are FINISHED (no lock).
PLAIN_FUTURES: FrozenSet[Type[Future[Any]]] = frozenset({Future, LightFuture, AppFuture, DataFuture})

#: Failures that no retry can mend: the task's inputs, not the try, are at fault.
NEVER_RETRIED = (DependencyError, JoinError)

Failures = List[Tuple[BaseException, str]]


class FailureDecision(NamedTuple):
    retry: bool
    fail_cost: float     # the task's accumulated cost of failures, this one included


def retry_or_fail(exc: BaseException, fail_cost: float, retries: int,
                  cost: Optional[float]) -> FailureDecision:
    """Retry or fail a task whose try raised ``exc``.

    ``fail_cost``: the cost of the task's earlier failures; ``cost``: this failure's cost
    (1, or what ``Config.retry_handler`` returned), None when the retry handler itself
    failed, which fails the task at once. A task is retried while its accumulated cost is
    within ``Config.retries``.
    """
    if cost is None:
        return FailureDecision(False, float(retries + 1))
    total = fail_cost + cost
    return FailureDecision(total <= retries and not isinstance(exc, NEVER_RETRIED), total)


def release(rec: TaskRecord) -> bool:
    """One future ``rec`` waits for has finished: count it; True when ``rec`` waits for no more.

    The caller holds the kernel's lock (several dependencies may finish at once).
    """
    left: int = rec.pending_deps - 1
    rec.pending_deps = left
    return left == 0


def dependency_failures(deps: Iterable[Future[Any]]) -> Optional[Failures]:
    """(exception, description) of each failed or cancelled dependency, or None if none failed."""
    failures: Optional[Failures] = None
    for d in deps:
        e: Optional[BaseException]
        if type(d) in PLAIN_FUTURES and d._state == FINISHED:
            e = d._exception  # done: read without the future's lock
        elif d.cancelled():
            e = CancelledError(f"{describe_future(d)} was cancelled")
        else:
            e = d.exception()
        if e is not None:
            if failures is None:
                failures = []
            failures.append((e, describe_future(d)))
    return failures


def join_targets(inner: Any, func_name: str) -> Tuple[List[Future[Any]], Optional[TypeError]]:
    """The futures a join app's return value waits for, or the TypeError if it is neither a
    Future nor a list of Futures."""
    if isinstance(inner, Future):
        return [inner], None
    if isinstance(inner, list) and all(isinstance(f, Future) for f in inner):
        return inner, None
    return [], TypeError(f"join_app {func_name} must return a Future or a list of Futures, "
                         f"not {type(inner).__name__}")


def join_outcome(inner: Any, tid: int) -> Tuple[Any, Optional[JoinError]]:
    """(result, None) of a join whose inner futures are all done, or (None, JoinError).

    The result is the inner future's result, or the list of results for a list.
    """
    futs: List[Future[Any]] = [inner] if isinstance(inner, Future) else inner
    failures: Failures = []
    for f in futs:
        if f.cancelled():
            failures.append((CancelledError(), describe_future(f)))
        else:
            e = f.exception()
            if e is not None:
                failures.append((e, describe_future(f)))
    if failures:
        return None, JoinError(failures, tid)
    if isinstance(inner, Future):
        return inner.result(), None
    return [f.result() for f in futs], None
