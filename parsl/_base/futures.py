"""The futures every layer shares: ``LightFuture`` and the file future ``DataFuture``.

``LightFuture`` is a ``concurrent.futures.Future`` that costs ~100 bytes instead of ~1,600.

The standard Future builds a ``threading.Condition`` in ``__init__``: 1.4 KB and several
microseconds per task, although most futures are never waited on by a thread. This
subclass keeps the same observable behaviour (and the private attributes that
``concurrent.futures.wait``/``as_completed`` reach into: ``_condition``, ``_waiters``,
``_state``) but creates the Condition only when somebody actually blocks.

Concurrency: one module-wide lock, ``_LOCK``, guards every state transition, the lazy
creation of a Condition and the callback list. It is held only for a few bytecodes and
never while user code (callbacks) runs. Lock order: ``_LOCK`` may be taken while holding a
future's Condition (as ``cf.wait`` does), never the other way round.
"""
from __future__ import annotations

import threading
from concurrent.futures import CancelledError, Future, TimeoutError
from concurrent.futures._base import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    LOGGER,
    PENDING,
    RUNNING,
    InvalidStateError,
)
from typing import Any, Callable, List, Optional

from parsl._base.files import File

_LOCK = threading.Lock()

Callback = Callable[["Future[Any]"], object]


class LightFuture(Future[Any]):
    __slots__ = ("_state", "_result", "_exception", "_cond", "_waiter_list", "_callbacks")

    def __init__(self) -> None:  # deliberately does not call Future.__init__
        self._state = PENDING
        self._result = None
        self._exception = None
        self._cond: Optional[threading.Condition] = None
        self._waiter_list: Optional[List[Any]] = None
        self._callbacks: Optional[List[Callback]] = None

    # -- the private attributes concurrent.futures.wait/as_completed use -----------
    # (read-only properties where Future has plain attributes: made on first use)
    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        cond = self._cond
        if cond is None:
            with _LOCK:
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition()
        return cond

    @property
    def _waiters(self) -> List[Any]:  # type: ignore[override]
        w = self._waiter_list
        if w is None:
            with _LOCK:
                w = self._waiter_list
                if w is None:
                    w = self._waiter_list = []
        return w

    @property
    def _done_callbacks(self) -> List[Callback]:
        return self._callbacks if self._callbacks is not None else []

    # -- queries ---------------------------------------------------------------
    def cancelled(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def running(self) -> bool:
        return self._state == RUNNING

    def done(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED)

    def __repr__(self) -> str:
        st = self._state
        if st == FINISHED:
            if self._exception is not None:
                raised = type(self._exception).__name__
                return f"<{type(self).__name__} at {id(self):#x} state=finished raised {raised}>"
            return f"<{type(self).__name__} at {id(self):#x} state=finished returned {type(self._result).__name__}>"
        return f"<{type(self).__name__} at {id(self):#x} state={st.lower()}>"

    # -- waiting ---------------------------------------------------------------
    def _wait_done(self, timeout: Optional[float]) -> None:
        if self._state in (FINISHED, CANCELLED_AND_NOTIFIED, CANCELLED):
            return
        cond = self._condition
        with cond:
            if self._state not in (FINISHED, CANCELLED_AND_NOTIFIED, CANCELLED):
                cond.wait_for(self.done, timeout)
        if not self.done():
            raise TimeoutError()

    def result(self, timeout: Optional[float] = None) -> Any:
        try:
            self._wait_done(timeout)
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                raise CancelledError()
            if self._exception is not None:
                raise self._exception
            return self._result
        finally:
            self = None  # type: ignore[assignment]  # break a reference cycle with the exception, as the stdlib does

    def exception(self, timeout: Optional[float] = None) -> Optional[BaseException]:
        self._wait_done(timeout)
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            raise CancelledError()
        return self._exception

    # -- callbacks -------------------------------------------------------------
    def add_done_callback(self, fn: Callback) -> None:
        if self._state not in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED):
            with _LOCK:
                if self._state not in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED):
                    cbs = self._callbacks
                    if cbs is None:
                        self._callbacks = [fn]
                    else:
                        cbs.append(fn)
                    return
        try:
            fn(self)
        except Exception:
            LOGGER.exception("exception calling callback for %r", self)

    def _invoke_callbacks(self) -> None:
        cbs = self._callbacks
        if cbs:
            self._callbacks = None
            for fn in cbs:
                try:
                    fn(self)
                except Exception:
                    LOGGER.exception("exception calling callback for %r", self)

    # -- completion ------------------------------------------------------------
    def _finish(self, new_state: str, notify_name: str, result: Any = None,
                exception: Optional[BaseException] = None) -> bool:
        """Move to a final state; wake waiters; run callbacks. Returns False if that is not allowed.

        The check of the current state and the writes of state, result and exception happen
        together under ``_LOCK``: a caller that loses a race (another completion, or a worker
        that started the task before a cancel) must not leave its value behind, and a cancel
        must not land on a RUNNING future.
        """
        cancelling = new_state == CANCELLED_AND_NOTIFIED
        cond = self._cond
        if cond is None:
            with _LOCK:
                cond = self._cond
                if cond is None:
                    st = self._state
                    if st in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED) or (cancelling and st == RUNNING):
                        return False
                    self._result = result
                    self._exception = exception
                    self._state = new_state
        if cond is not None:
            with cond:
                with _LOCK:
                    st = self._state
                    if st in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED) or (cancelling and st == RUNNING):
                        return False
                    self._result = result
                    self._exception = exception
                    self._state = new_state
                waiters = self._waiter_list
                if waiters:
                    for w in waiters:
                        getattr(w, notify_name)(self)
                cond.notify_all()
        self._invoke_callbacks()
        return True

    def set_result(self, result: Any) -> None:
        if self._state in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED):
            raise InvalidStateError(f"{self._state}: {self!r}")
        if not self._finish(FINISHED, "add_result", result, None):
            raise InvalidStateError(f"{self._state}: {self!r}")

    def set_exception(self, exception: Optional[BaseException]) -> None:
        if self._state in (FINISHED, CANCELLED, CANCELLED_AND_NOTIFIED):
            raise InvalidStateError(f"{self._state}: {self!r}")
        if not self._finish(FINISHED, "add_exception", None, exception):
            raise InvalidStateError(f"{self._state}: {self!r}")

    def _cancel_now(self) -> bool:
        """Cancel if neither final nor running; True if this call cancelled it."""
        if self._state == RUNNING:
            return False
        return self._finish(CANCELLED_AND_NOTIFIED, "add_cancelled")

    def cancel(self) -> bool:
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            return True
        return self._cancel_now()

    def set_running_or_notify_cancel(self) -> bool:
        with _LOCK:
            if self._state == PENDING:
                self._state = RUNNING
                return True
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return False
        raise RuntimeError(f"Future in unexpected state {self._state}")


class DataFuture(LightFuture):
    """Completes, with its File as the result, when its parent future completes.

    If the parent fails, the DataFuture fails with the parent's exception.
    """

    __slots__ = ("file_obj", "parent", "_tid")

    def __init__(self, fut: Optional[Future[Any]], file_obj: File, tid: Any = None) -> None:
        LightFuture.__init__(self)
        if not isinstance(file_obj, File):
            raise ValueError(f"DataFuture needs a File, got {type(file_obj).__name__}")
        self.file_obj = file_obj
        self.parent = fut
        self._tid = tid
        if fut is not None:
            fut.add_done_callback(self._parent_done)

    def _parent_done(self, parent: Future[Any]) -> None:
        if self.done():
            return
        if parent.cancelled():
            self._cancel_now()
            return
        exc = parent.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.set_result(self.file_obj)

    @property
    def tid(self) -> Any:
        return self._tid

    @property
    def filepath(self) -> str:
        return self.file_obj.filepath

    @property
    def filename(self) -> str:
        return self.filepath

    def cancel(self) -> bool:
        return False

    def __repr__(self) -> str:
        base = LightFuture.__repr__(self)[:-1]
        return f"{base} file={self.file_obj.url!r} task_id={self._tid}>"


DataFuture.__module__ = "parsl.app.futures"
