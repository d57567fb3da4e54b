"""Errors of batch jobs, providers and launchers (part of the tree in ``parsl._base.errors``).

Each class names the public module where Parsl's users import it as its ``__module__``.
"""
from __future__ import annotations

from typing import Any, Optional

from parsl._base.errors import ParslError


# ---- at Parsl's path parsl.providers.errors
class ExecutionProviderException(ParslError):
    """Base class of provider errors."""


class ScaleOutFailed(ExecutionProviderException):
    """A provider could not start a block; the scheduler's own message is quoted."""

    def __init__(self, provider: Any, reason: Any) -> None:
        super().__init__(provider, reason)
        self.provider = provider
        self.reason = reason

    def __str__(self) -> str:
        return f"Unable to scale out {self.provider}: {self.reason}"


class SchedulerMissingArgs(ExecutionProviderException):
    """A provider was used without a setting its scheduler requires (the message names it)."""

    def __init__(self, missing_keywords: Any, sitename: Any) -> None:
        super().__init__(missing_keywords, sitename)
        self.missing_keywords = missing_keywords
        self.sitename = sitename

    def __str__(self) -> str:
        return f"Missing keyword arguments {self.missing_keywords} for provider {self.sitename}"


class ScriptPathError(ExecutionProviderException):
    """A provider could not write or move the job script (the path is in the message)."""

    def __init__(self, script_path: Any, reason: Any) -> None:
        super().__init__(script_path, reason)
        self.script_path = script_path
        self.reason = reason

    def __str__(self) -> str:
        return f"Unable to write submit script {self.script_path}: {self.reason}"


class SubmitException(ExecutionProviderException):
    """The scheduler refused a job; its own output is quoted."""

    def __init__(self, job_name: Any, message: Any, stdout: Optional[str] = None, stderr: Optional[str] = None,
                 retcode: Optional[int] = None) -> None:
        super().__init__(job_name, message, stdout, stderr, retcode)
        self.job_name = job_name
        self.message = message
        self.stdout = stdout
        self.stderr = stderr
        self.retcode = retcode

    @property
    def task_name(self) -> Any:
        return self.job_name

    def __str__(self) -> str:
        return (f"Cannot launch job {self.job_name}: {self.message}; recode={self.retcode}, "
                f"stdout={self.stdout!r}, stderr={self.stderr!r}")


class SchedulerCommandError(ExecutionProviderException):
    """A scheduler command failed or printed something we cannot read; its own words are quoted."""

    def __init__(self, cmd: Any, retcode: Optional[int], stdout: Optional[str], stderr: Optional[str],
                 reason: Optional[str] = None) -> None:
        super().__init__(cmd, retcode, stdout, stderr, reason)
        self.cmd = cmd
        self.retcode = retcode
        self.stdout = stdout
        self.stderr = stderr
        self.reason = reason

    def __str__(self) -> str:
        what = self.reason or f"exited with code {self.retcode}"
        msg = f"Scheduler command {self.cmd!r} {what}"
        if self.stderr and self.stderr.strip():
            msg += f"; it said: {self.stderr.strip()}"
        elif self.stdout and self.stdout.strip() and not self.reason:
            msg += f"; it printed: {self.stdout.strip()}"
        return msg


# ---- at Parsl's path parsl.jobs.errors
class TooManyJobFailuresError(ParslError):
    """Too many blocks of an executor failed; the executor gave up.

    The message quotes each failed job's own state, exit code, scheduler message
    and the head and tail of its stdout/stderr, because the real cause (a missing
    module, a bad ``worker_init``, an unknown partition) is almost always there
    and nowhere else (users reported hunting for it under ``submit_scripts/``).
    """

    def __init__(self, message: str = "Too many blocks failed") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# ---- at Parsl's path parsl.launchers.errors
class BadLauncher(TypeError):
    """A provider was given something that is not a Launcher instance."""

    def __init__(self, launcher: Any, reason: Any = None) -> None:
        super().__init__(launcher, reason)
        self.launcher = launcher
        self.reason = reason

    def __str__(self) -> str:
        hint = ""
        if isinstance(self.launcher, type):
            hint = " (pass an instance, e.g. SingleNodeLauncher(), not the class)"
        return f"Bad launcher {self.launcher!r}: a parsl.launchers.Launcher instance is required{hint}"


_PUBLIC_HOMES = {
    "parsl.providers.errors": (ExecutionProviderException, ScaleOutFailed, SchedulerMissingArgs,
                               ScriptPathError, SubmitException, SchedulerCommandError),
    "parsl.jobs.errors": (TooManyJobFailuresError,),
    "parsl.launchers.errors": (BadLauncher,),
}
for _home, _classes in _PUBLIC_HOMES.items():
    for _cls in _classes:
        _cls.__module__ = _home
del _home, _classes, _cls
