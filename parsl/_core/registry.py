"""The currently loaded DataFlowKernel: Chervil's one global.

Writers (``install``, ``clear``, ``forget``) take ``_lock``; readers read ``current``
without it (one attribute read, atomic in CPython), because every app call looks the
kernel up. The lock is re-entrant: a kernel whose start-up fails cleans itself up, and its
cleanup calls ``forget`` while ``install`` still holds the lock.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional, Protocol, TypeVar

from parsl._base.errors import ConfigurationError, NoDataFlowKernelError


class LoadedKernel(Protocol):
    """What the registry needs from a kernel."""

    def wait_for_current_tasks(self) -> None: ...

    def release_after_clear(self) -> None: ...


K = TypeVar("K", bound=LoadedKernel)

_lock = threading.RLock()

#: The loaded kernel, or None. Read freely; write only through the functions below.
current: Optional[LoadedKernel] = None


def install(make: Callable[[], K]) -> K:
    """Make a kernel with ``make()`` and make it the loaded one; refuse if one is loaded."""
    global current
    with _lock:
        if current is not None:
            raise ConfigurationError("Config has already been loaded: call parsl.clear() (or "
                                     "parsl.dfk().cleanup()) before loading another one")
        kernel = make()
        current = kernel
        return kernel


def dfk() -> LoadedKernel:
    """The loaded kernel; NoDataFlowKernelError (saying what to do) if there is none."""
    kernel = current
    if kernel is None:
        raise NoDataFlowKernelError("Must first load config: call parsl.load(config) before using apps")
    return kernel


def clear() -> None:
    """Forget the loaded kernel; it cleans itself up once its tasks are done."""
    global current
    with _lock:
        kernel, current = current, None
    if kernel is not None:
        kernel.release_after_clear()


def forget(kernel: object) -> None:
    """``kernel`` has been cleaned up: forget it if it is the loaded one."""
    global current
    with _lock:
        if current is kernel:
            current = None


def replace(kernel: Optional[LoadedKernel]) -> None:
    """Set the loaded kernel directly (``DataFlowKernelLoader._dfk = ...``, used by tests)."""
    global current
    with _lock:
        current = kernel


def wait_for_current_tasks() -> None:
    """Wait for every task of the loaded kernel."""
    dfk().wait_for_current_tasks()
