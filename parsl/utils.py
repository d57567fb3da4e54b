"""Utilities at Parsl's import path ``parsl.utils``."""
from __future__ import annotations

import itertools
import logging
import shlex
import threading
from typing import Callable, List, Optional, Sequence, Tuple, Union

from parsl._base.version import VERSION

logger = logging.getLogger(__name__)

# The helpers below import their machinery when first called (deferred: it pulls in
# subprocess, pickle and the error classes, ~30 ms, while this module is also imported just
# for RepresentationMixin or wtime_to_minutes).


def get_version() -> str:
    return VERSION


def get_all_checkpoints(rundir: str = "runinfo") -> List[str]:
    """Absolute ``<rundir>/<run>/checkpoint`` directories that exist, oldest run first."""
    from parsl._core.checkpoint import get_all_checkpoints as impl
    return impl(rundir)


def get_last_checkpoint(rundir: str = "runinfo") -> List[str]:
    """A list holding the checkpoint directory of the latest run that has one (or empty)."""
    from parsl._core.checkpoint import get_last_checkpoint as impl
    return impl(rundir)


def execute_wait(cmd: Union[str, Sequence[str]], walltime: Optional[float] = None,
                 env=None) -> Tuple[int, str, str]:
    """Run a command (a shell string or an argv list); return (exit code, stdout, stderr).

    Never raises on failure; a command still running after ``walltime`` seconds is killed
    with its process group. The machinery lives in ``parsl._batch.commands``.
    """
    from parsl._batch.commands import execute_wait as impl
    return impl(cmd, walltime, env)


def wtime_to_minutes(time_string: str) -> int:
    """``"HH:MM:SS"`` → whole minutes (rounded up), as Slurm's --time takes."""
    hours, mins, seconds = (int(x) for x in time_string.split(":"))
    total = hours * 60 + mins
    if seconds > 0:
        total += 1
    return total


class RepresentationMixin:
    """A ``__repr__`` built from the constructor's parameters that are stored as attributes."""

    __max_width__ = 80

    def __repr__(self):
        import inspect  # deferred: only repr() needs it, and providers import this module early
        try:
            params = inspect.signature(type(self).__init__).parameters
        except (TypeError, ValueError):
            return object.__repr__(self)
        parts = []
        for name, p in params.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            if hasattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class Timer:
    """Calls ``callback`` every ``interval`` seconds from a daemon thread until ``close()``."""

    def __init__(self, callback: Callable, *args, interval: float = 5, name: Optional[str] = None):
        self.callback = callback
        self.args = args
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or "parsl-timer", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.callback(*self.args)
            except Exception:
                logger.exception("Timer callback failed")

    def close(self):
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


class AtomicIDCounter:
    """A thread-safe counter of ids."""

    def __init__(self):
        self._count = itertools.count()

    def get_id(self) -> int:
        return next(self._count)


def setproctitle(title: str) -> None:
    """Set the process title if the optional setproctitle package is present."""
    try:
        import setproctitle as spt  # type: ignore  # deferred: an optional package
        spt.setproctitle(title)
    except ImportError:
        pass


def get_std_fname_mode(fdname, stdfspec):
    """(path, mode) of a stdout/stderr spec, as Parsl's helper of the same name."""
    from parsl._core.bash import _std_target
    return _std_target(stdfspec, "a+")


def quote(s: str) -> str:
    return shlex.quote(s)
