"""Python-app ``walltime``: raise ``AppTimeout`` inside the thread running the app.

A timer injects the exception asynchronously into the app's thread. The race Parsl has
(a stale timer firing into unrelated code after the app returned, #2774) is closed by a
lock and a done flag: the timer only injects while the app is still inside the wrapper,
and the wrapper clears any pending injection before it returns.

An app the exception cannot reach (blocked in C code or a system call) is abandoned a grace
period later where the process running it can do that (an HTEX worker; ``_base.hard_stop``).
"""
from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any, Callable, Dict, Tuple

from parsl._base import hard_stop
from parsl._base.errors import AppTimeout

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


def _inject(thread_id: int, exc_type: type) -> int:
    changed: int = _set_async_exc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))
    return changed


def _clear(thread_id: int) -> None:
    _set_async_exc(ctypes.c_ulong(thread_id), ctypes.py_object())


def _run_with_walltime(func: Callable[..., Any], walltime: float, args: Tuple[Any, ...],
                       kwargs: Dict[str, Any]) -> Any:
    lock = threading.Lock()
    state = {"done": False, "fired": False}
    tid = threading.get_ident()

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _inject(tid, AppTimeout)
                if hard_stop.abandon_running_task is not None:
                    later = threading.Timer(hard_stop.grace_s(walltime), abandon)
                    later.daemon = True
                    timers.append(later)
                    later.start()

    def abandon() -> None:
        # Still inside the app a grace period after the AppTimeout: it is blocked where the
        # exception cannot reach (hard_stop).  Under the lock, so the app cannot return
        # meanwhile; the call ends this process.
        with lock:
            handler = hard_stop.abandon_running_task
            if not state["done"] and handler is not None:
                handler(AppTimeout(f"App {getattr(func, '__name__', func)} exceeded walltime: {walltime} "
                                   "seconds, and was still running (in code the AppTimeout cannot interrupt) "
                                   f"{hard_stop.grace_s(walltime):g} s later: its worker process was ended"))

    timer = threading.Timer(walltime, fire)
    timer.daemon = True
    timers = [timer]
    timer.start()
    try:
        try:
            result = func(*args, **kwargs)
            with lock:
                state["done"] = True
        finally:
            with lock:
                state["done"] = True
            for t in timers:
                t.cancel()
            if state["fired"]:
                _clear(tid)
    except AppTimeout:
        raise AppTimeout(f"App {getattr(func, '__name__', func)} exceeded walltime: {walltime} seconds") from None
    return result


def timeout(func: Callable[..., Any], walltime: float) -> Callable[..., Any]:
    """Wrap ``func`` so that it raises AppTimeout after ``walltime`` seconds."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _run_with_walltime(func, walltime, args, kwargs)
    return wrapper
