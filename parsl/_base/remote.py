"""Carry an exception, with its traceback, from a worker back to the user (Parsl's
``parsl.app.errors.RemoteExceptionWrapper``)."""
from __future__ import annotations

import functools
import sys
from types import TracebackType
from typing import Any, Callable, Optional

from tblib import Traceback


class RemoteExceptionWrapper:
    """Carries an exception and its traceback across a process boundary.

    ``reraise()`` raises the original exception type with the remote traceback
    attached (via tblib), so users see where the failure happened on the worker.
    """

    def __init__(self, e_type: type, e_value: BaseException, traceback: Optional[TracebackType]) -> None:
        self.e_type = e_type
        self.e_value = e_value
        try:
            self.e_traceback = Traceback(traceback) if traceback is not None else None
        except Exception:  # pragma: no cover - tblib missing or traceback odd
            self.e_traceback = None
        cause = e_value.__cause__
        self.cause = None
        if cause is not None and cause is not e_value:
            self.cause = RemoteExceptionWrapper(type(cause), cause, cause.__traceback__)

    def get_exception(self) -> BaseException:
        v = self.e_value
        if self.e_traceback is not None:
            try:
                v = v.with_traceback(self.e_traceback.as_traceback())
            except Exception:
                pass
        if self.cause is not None:
            v.__cause__ = self.cause.get_exception()
        return v

    def reraise(self) -> None:
        raise self.get_exception()

    def __repr__(self) -> str:
        return f"RemoteExceptionWrapper({self.e_type.__name__}: {self.e_value!r})"


def wrap_error(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: return a RemoteExceptionWrapper instead of raising."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:
            return RemoteExceptionWrapper(*sys.exc_info())
    return wrapper


RemoteExceptionWrapper.__module__ = "parsl.app.errors"
