"""Errors raised by apps, at Parsl's import path ``parsl.app.errors``."""
from __future__ import annotations

import sys
from types import TracebackType
from typing import Optional

from parsl.errors import ParslError


class ParslAppError(ParslError):
    pass


class AppException(ParslAppError):
    """An app failed in a way that is not the user's own exception."""


class AppBadFormatting(ParslAppError):
    """A bash app's command string could not be formatted."""


class BashExitFailure(AppException):
    """A bash app's command exited with a non-zero code.

    The message says the exit code and where the command's stdout and stderr went,
    so the user can go straight to the evidence.
    """

    def __init__(self, app_name, exitcode, stdout=None, stderr=None):
        super().__init__(app_name, exitcode, stdout, stderr)
        self.app_name = app_name
        self.exitcode = exitcode
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self):
        msg = f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"
        if self.exitcode is not None and self.exitcode < 0:
            msg += f" (killed by signal {-self.exitcode})"
        where = []
        if self.stdout:
            where.append(f"stdout: {self.stdout}")
        if self.stderr:
            where.append(f"stderr: {self.stderr}")
        if where:
            msg += "; " + ", ".join(where)
        else:
            msg += "; stdout/stderr were not redirected (pass stdout=/stderr= to keep them)"
        return msg


class AppTimeout(AppException):
    """An app ran longer than its ``walltime``."""


class BashAppNoReturn(AppException, ValueError):
    """A bash app's function did not return a command string.

    Also a ``ValueError``, which is what Parsl raises for a non-string command.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self):
        return f"Bash app returned no command: {self.reason}"


class MissingOutputs(ParslAppError):
    """An app finished but some of its declared ``outputs`` do not exist."""

    def __init__(self, reason, outputs):
        super().__init__(reason, outputs)
        self.reason = reason
        self.outputs = outputs

    def __str__(self):
        return f"Missing Outputs: {self.outputs}, Reason: {self.reason}"


class BadStdStreamFile(ParslAppError):
    """A stdout/stderr target could not be opened."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self):
        return f"Bad stdout/stderr file: {self.reason}"


class RemoteExceptionWrapper:
    """Carries an exception and its traceback across a process boundary.

    ``reraise()`` raises the original exception type with the remote traceback
    attached (via tblib), so users see where the failure happened on the worker.
    """

    def __init__(self, e_type: type, e_value: BaseException, traceback: Optional[TracebackType]) -> None:
        self.e_type = e_type
        self.e_value = e_value
        try:
            from tblib import Traceback
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

    def __repr__(self):
        return f"RemoteExceptionWrapper({self.e_type.__name__}: {self.e_value!r})"


def wrap_error(func):
    """Decorator: return a RemoteExceptionWrapper instead of raising."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception:
            return RemoteExceptionWrapper(*sys.exc_info())
    return wrapper
