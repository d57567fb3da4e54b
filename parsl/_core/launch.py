"""The per-task path of the DataFlowKernel: submit, launch, complete (or retry).

``TaskEngine`` is a part of the DataFlowKernel (a base class of it). Per task: ``submit``
builds a TaskRecord and an AppFuture, scans the arguments once for futures and files
(``ArgumentScanner``), and either launches at once or registers one callback per
dependency. Launching resolves the arguments, asks the memoizer, and hands the call to the
executor; the executor future's callback completes the task, or retries it.

Every task ends in ``_finish``: success, failure, dependency failure, cache hit,
cancellation and the end of a join all go through it. What to do after a failure, which
waiting task is released, and how a join ends are decided by ``parsl._core.decisions``.

Re-entrancy: completing a task runs its dependents' callbacks in the same thread. To keep
long chains (memo hits, dependency failures) from recursing, launches go through a
per-thread trampoline (``_schedule_launch``): the outermost frame drains a queue.

Locking: ``self._lock`` guards only the dependency counters and the claim of a task for
launch or cancellation; it is never held while user code, executors or callbacks run.
"""
from __future__ import annotations

import logging
import numbers
import random
import threading
import time
from collections import deque
from concurrent.futures import CancelledError, Future
from concurrent.futures._base import FINISHED, PENDING
from typing import Any, Callable, Deque, Dict, Optional, Sequence, Union

from parsl._base.errors import DependencyError, NoDataFlowKernelError
from parsl._base.monitoring_sink import TryObserver
from parsl._base.remote import RemoteExceptionWrapper
from parsl._base.task_states import States
from parsl._core.arguments import STD_KWARGS, ArgumentScanner
from parsl._core.decisions import PLAIN_FUTURES, dependency_failures, join_outcome, join_targets, release, retry_or_fail
from parsl._core.logs import TRACE
from parsl._core.memoizer import Memoizer
from parsl._core.task import EMPTY_SPEC, NO_KWARGS, AppFuture, StateEvent, TaskRecord, describe_future, set_state

logger = logging.getLogger("parsl.dataflow.dflow")

_time = time.time
_CLAIMED = object()     # rec.exec_fu while the task is being handed to its executor
_CANCELLED = object()   # rec.exec_fu of a task cancelled before launch
_CANCEL = CancelledError()  # the outcome given to _finish for a cancelled task
_PLAIN_FUTURES = PLAIN_FUTURES
_release = release


def _fast_unwrap(obj: Any) -> Any:
    """The shallow resolver's unwrap, reading finished futures without their locks."""
    if isinstance(obj, Future):
        if type(obj) in _PLAIN_FUTURES and obj._state == FINISHED:
            return obj._result
        return obj.result()
    return obj


class TaskEngine(ArgumentScanner):
    """Submits, launches and completes tasks."""

    # set by DataFlowKernel.__init__
    tasks: Dict[int, TaskRecord]
    executors: Dict[str, Any]
    memoizer: Optional[Memoizer]
    task_state_counts: Dict[States, int]
    _task_events: Optional[Callable[[StateEvent], None]]
    _observe: Optional[Callable[[TaskRecord, States], None]]
    _try_observer: Optional[TryObserver]
    _closed: bool
    _lock: threading.Lock
    _tls: threading.local
    _next_id: int
    _retries: int
    _retry_handler: Optional[Callable[[BaseException, TaskRecord], Any]]
    _gc: bool
    _user_labels: Sequence[str]

    _set_state = set_state

    # ------------------------------------------------------------------ submit
    def submit(self, func: Callable[..., Any], app_args: Sequence[Any] = (),
               executors: Union[str, Sequence[str]] = "all", cache: bool = False,
               ignore_for_cache: Optional[Sequence[str]] = None,
               app_kwargs: Optional[Dict[str, Any]] = None, join: bool = False) -> AppFuture:
        """Create a task for ``func(*app_args, **app_kwargs)``; returns its AppFuture."""
        if self._closed:
            raise NoDataFlowKernelError("Cannot submit to a DataFlowKernel that has been cleaned up; "
                                        "parsl.load() a new config")
        if app_kwargs is None:
            app_kwargs = {}
        labels: Sequence[str]
        if executors == "all":
            labels = self._user_labels
        else:
            labels = executors
            for lbl in labels:
                if lbl not in self.executors:
                    raise ValueError(f"Task of app {getattr(func, '__name__', func)} asked for executor "
                                     f"{lbl!r}, which is not in the loaded config; known labels: "
                                     f"{list(self._user_labels)}")
        label = labels[0] if len(labels) == 1 else random.choice(labels)
        with self._lock:
            tid = self._next_id
            self._next_id = tid + 1
        rec = TaskRecord(tid, func, getattr(func, "__name__", type(func).__name__),
                         app_args, app_kwargs or NO_KWARGS, label, self)
        rec.memoize = cache
        if ignore_for_cache:
            rec.ignore_for_cache = list(ignore_for_cache)
        rec.join = join
        rec.time_invoked = _time()
        rec.resource_specification = app_kwargs.get("parsl_resource_specification") or EMPTY_SPEC
        fut = AppFuture(rec)
        rec.app_fu = fut

        if app_kwargs:
            for kw in STD_KWARGS:
                if app_kwargs.get(kw) == -1 and not isinstance(app_kwargs.get(kw), bool):
                    self._auto_logname(rec, kw)
        deps = self._scan_arguments(rec)
        self.tasks[tid] = rec
        self._set_state(rec, States.pending)
        if deps:
            rec.depends = deps
            if len(deps) == 1:
                # one dependency fires once, so no counter (and no lock) is needed, and the
                # record itself is the callback (TaskRecord.__call__): no object per task
                deps[0].add_done_callback(rec)
            else:
                rec.pending_deps = len(deps)
                cb = rec_dep_done(self, rec)
                for d in deps:
                    d.add_done_callback(cb)
        else:
            self._schedule_launch(rec)
        if logger.isEnabledFor(TRACE):
            logger.log(TRACE, "Task %s submitted for app %s on %s, waiting on %s", tid, rec.func_name, label,
                       [describe_future(d) for d in deps])
        return fut

    # ------------------------------------------------------------------ launch
    def _schedule_launch(self, rec: TaskRecord) -> None:
        tls = self._tls
        q: Optional[Deque[TaskRecord]] = getattr(tls, "q", None)
        if q is not None:
            q.append(rec)
            return
        tls.q = q = deque((rec,))
        try:
            while q:
                self._launch(q.popleft())
        finally:
            tls.q = None

    def _launch(self, rec: TaskRecord) -> None:
        fut = rec.app_fu
        with self._lock:
            if fut._state != PENDING or rec.exec_fu is not None:
                return  # cancelled, or already claimed
            rec.exec_fu = _CLAIMED
        if rec.depends:
            if not self._unwrap_dependencies(rec):
                return
        memoizer = self.memoizer
        if rec.memoize and memoizer is not None:
            try:
                hit = memoizer.check_memo(rec)
            except Exception as e:
                rec.exec_fu = None
                self._handle_failure(rec, e)
                return
            if hit is not None:
                rec.from_memo = True
                if hit.done():
                    self._complete_from_memo(rec, hit)
                else:
                    hit.add_done_callback(lambda h: self._memo_wait_done(rec, h))
                return
        self._submit_to_executor(rec)

    def _submit_to_executor(self, rec: TaskRecord) -> None:
        executor = self.executors[rec.executor]
        rec.try_time_launched = _time()
        observer = self._try_observer
        if observer is not None and rec.kwargs and ("stdout" in rec.kwargs or "stderr" in rec.kwargs):
            observer.try_started(rec)       # where this try's output will start in its files
        self._set_state(rec, States.launched)
        try:
            exec_fu = executor.submit(rec.func, rec.resource_specification, *rec.args, **rec.kwargs)
        except Exception as e:
            rec.exec_fu = None
            self._handle_failure(rec, e)
            return
        rec.exec_fu = exec_fu
        exec_fu.add_done_callback(rec_exec_done(self, rec))

    def _unwrap_dependencies(self, rec: TaskRecord) -> bool:
        """Replace futures by their results; on failed dependencies fail the task. True = go on."""
        failures = dependency_failures(rec.depends)
        if failures:
            exc = DependencyError(failures, rec.id)
            if logger.isEnabledFor(logging.INFO):
                logger.info("Task %s (%s) failed: %s", rec.id, rec.func_name, exc)
            self._finish(rec, States.dep_fail, None, exc)
            return False
        unwrap = _fast_unwrap if self._shallow else self._resolver.traverse_to_unwrap
        try:
            rec.args = tuple([unwrap(a) for a in rec.args])
            kwargs = rec.kwargs
            if kwargs:
                for k, v in kwargs.items():
                    if k == "inputs" and isinstance(v, (list, tuple)):
                        kwargs[k] = type(v)(unwrap(x) for x in v) if isinstance(v, tuple) else [unwrap(x) for x in v]
                    elif k not in STD_KWARGS and k != "outputs":
                        kwargs[k] = unwrap(v)
        except Exception as e:
            # A resolver that cannot rebuild an argument (a set of unhashable results, a user
            # type's unwrap raising) fails this try; raised inside a dependency callback it
            # would be logged and the task would stay pending forever.
            if hasattr(e, "add_note"):
                e.add_note(f"(raised while the dependency resolver replaced futures by their results "
                           f"in the arguments of task {rec.id})")
            rec.exec_fu = None
            self._handle_failure(rec, e)
            return False
        rec.pending_deps = 0
        return True

    # ------------------------------------------------------------------ completion
    def _exec_done(self, rec: TaskRecord, fut: Future[Any]) -> None:
        rec.try_time_returned = _time()
        observer = self._try_observer
        if observer is not None and rec.kwargs and ("stdout" in rec.kwargs or "stderr" in rec.kwargs):
            observer.try_returned(rec)      # the try's output, recorded before a retry can append more
        exc: Optional[BaseException]
        if type(fut) in _PLAIN_FUTURES and fut._state == FINISHED:
            exc = fut._exception  # done: read without the future's lock
            result = fut._result
        elif fut.cancelled():
            self._finish(rec, States.failed, None, _CANCEL)
            return
        else:
            exc = fut.exception()
            result = fut.result() if exc is None else None
        if exc is None:
            if type(result) is RemoteExceptionWrapper:
                self._handle_failure(rec, result.get_exception())
                return
            if rec.join:
                self._start_join(rec, result)
                return
            self._finish(rec, States.exec_done, result, None)
        else:
            self._handle_failure(rec, exc)

    def _finish(self, rec: TaskRecord, state: States, result: Any, exc: Optional[BaseException]) -> None:
        """The end of every task: record the time, move to its final ``state``, tell the
        memoizer, complete the AppFuture with ``result`` or ``exc``, forget the record."""
        rec.time_returned = _time()
        self._set_state(rec, state)
        memoizer = self.memoizer
        if rec.memoize and memoizer is not None:
            if state is States.exec_done:
                try:
                    memoizer.update_memo_result(rec, result)
                except Exception:
                    logger.exception("memoizer failed to record the result of task %s", rec.id)
            elif state is States.failed and exc is not None:
                try:
                    memoizer.update_memo_exception(rec, exc)
                except Exception:
                    logger.exception("memoizer failed to record the failure of task %s", rec.id)
        fut = rec.app_fu
        if exc is None:
            fut.set_result(result)
        elif exc is _CANCEL:
            fut._cancel_now()
        else:
            fut.set_exception(exc)
        if self._gc:
            self.tasks.pop(rec.id, None)

    def _complete_from_memo(self, rec: TaskRecord, hit: Future[Any]) -> None:
        exc = hit.exception() if not hit.cancelled() else CancelledError()
        if exc is None:
            self._finish(rec, States.memo_done, hit.result(), None)
        else:
            # a replayed failure: not retried, a retry would replay it again
            self._fail_now(rec, exc)

    def _memo_wait_done(self, rec: TaskRecord, hit: Future[Any]) -> None:
        # An identical task was in flight: take its result; if it failed, run this one ourselves.
        if not hit.cancelled() and hit.exception() is None:
            self._finish(rec, States.memo_done, hit.result(), None)
        else:
            rec.from_memo = False
            self._submit_to_executor(rec)

    def _handle_failure(self, rec: TaskRecord, e: BaseException) -> None:
        rec.fail_count += 1
        rec.fail_history = [*rec.fail_history, repr(e)]
        observer = self._try_observer
        if observer is not None:
            observer.try_failed(rec, e)     # its traceback, while rec.try_id is still this try's
        cost: Optional[float] = 1.0
        handler = self._retry_handler
        if handler is not None:
            try:
                cost = self._failure_cost(handler, rec, e)
            except Exception as handler_exc:
                logger.error("retry_handler raised for task %s; failing the task", rec.id, exc_info=True)
                cost = None
                e = handler_exc
        decision = retry_or_fail(e, rec.fail_cost, self._retries, cost)
        rec.fail_cost = decision.fail_cost
        if decision.retry:
            logger.info("Task %s (%s) failed on try %s, retrying: %r", rec.id, rec.func_name, rec.try_id, e)
            self._set_state(rec, States.fail_retryable)
            rec.try_id += 1
            rec.try_time_launched = None
            rec.try_time_returned = None
            rec.exec_fu = None
            rec.from_memo = None
            self._set_state(rec, States.pending)
            self._schedule_launch(rec)
            return
        if logger.isEnabledFor(logging.INFO):
            logger.info("Task %s (%s) failed after %s tries: %r", rec.id, rec.func_name, rec.fail_count, e)
        self._finish(rec, States.failed, None, e)

    def _failure_cost(self, handler: Callable[[BaseException, TaskRecord], Any], rec: TaskRecord,
                      e: BaseException) -> float:
        """What ``Config.retry_handler`` says this failure costs (user code: may raise)."""
        cost = handler(e, rec)
        if not isinstance(cost, numbers.Real):
            # checked here: a bad cost raised later, in a callback, would hang the task
            raise TypeError(f"retry_handler {getattr(handler, '__name__', handler)!r} returned "
                            f"{cost!r} for task {rec.id}; it must return a number, the cost "
                            f"of this failure against Config(retries={self._retries})") from e
        return cost  # type: ignore[return-value]  # a numbers.Real: adds to a float

    def _fail_now(self, rec: TaskRecord, exc: BaseException) -> None:
        """Fail without a retry (a join that cannot complete)."""
        rec.fail_count += 1
        rec.fail_history = [*rec.fail_history, repr(exc)]
        self._finish(rec, States.failed, None, exc)

    # ------------------------------------------------------------------ joins
    def _start_join(self, rec: TaskRecord, inner: Any) -> None:
        inner_futs, bad = join_targets(inner, rec.func_name)
        if bad is not None:
            self._fail_now(rec, bad)
            return
        self._set_state(rec, States.joining)
        rec.joins = inner
        if not inner_futs:
            self._join_done(rec)
            return
        rec.pending_deps = len(inner_futs)

        def one_done(_f: Future[Any]) -> None:
            with self._lock:
                ready = _release(rec)
            if ready:
                self._join_done(rec)
        for f in inner_futs:
            f.add_done_callback(one_done)

    def _join_done(self, rec: TaskRecord) -> None:
        result, err = join_outcome(rec.joins, rec.id)
        if err is not None:
            self._fail_now(rec, err)
        else:
            self._finish(rec, States.exec_done, result, None)

    # ------------------------------------------------------------------ cancel
    def cancel_task(self, rec: TaskRecord) -> bool:
        """Cancel a task that has not been handed to its executor (or that a cancellable
        executor has not started); returns whether it is cancelled."""
        with self._lock:
            ef = rec.exec_fu
            if ef is None and rec.status in (States.pending, None):
                rec.exec_fu = _CANCELLED
                claimed = True
            else:
                claimed = False
        if claimed:
            self._finish(rec, States.failed, None, _CANCEL)
            return True
        # the executor says whether its queued calls can be withdrawn (the thread pool's can)
        ex = self.executors.get(rec.executor)
        if isinstance(ef, Future) and ex is not None and ex.cancels_queued_tasks:
            return ef.cancel() and rec.app_fu.cancelled()
        return False

    # ------------------------------------------------------------------ waiting
    def wait_for_current_tasks(self) -> None:
        """Wait until every task submitted so far (and tasks they start) has finished."""
        logger.info("Waiting for all remaining tasks to complete")
        while True:
            try:
                pending = [r.app_fu for r in list(self.tasks.values()) if not r.app_fu.done()]
            except RuntimeError:  # the dict changed under us; look again
                continue
            if not pending:
                break
            for f in pending:
                try:
                    f.exception()
                except CancelledError:
                    pass
        logger.info("All tasks have completed")


# The callbacks a task hangs on futures: small slotted objects rather than closures (a
# closure and its two cells cost ~200 bytes per pending task; these ~50).
class rec_dep_done:
    """The callback a task registers on each of its dependencies (when it has several)."""

    __slots__ = ("dfk", "rec")

    def __init__(self, dfk: TaskEngine, rec: TaskRecord) -> None:
        self.dfk = dfk
        self.rec = rec

    def __call__(self, _fut: Future[Any]) -> None:
        dfk, rec = self.dfk, self.rec
        with dfk._lock:
            ready = _release(rec)
        if ready:
            dfk._schedule_launch(rec)


class rec_exec_done(rec_dep_done):
    """The callback on the executor's future of one try."""

    __slots__ = ()

    def __call__(self, fut: Future[Any]) -> None:
        self.dfk._exec_done(self.rec, fut)
