"""``ParslPoolExecutor``: the standard ``concurrent.futures.Executor`` interface over a kernel.

A pool either owns its kernel (made from a ``Config`` and loaded as *the* kernel, so apps
called directly take the pool's futures as dependencies, as in the user guide's
``parity(pool.submit(f, 1))``) or borrows one (``dfk=``, left running at shutdown).  Every
function submitted becomes a ``PythonApp`` once (cached), and each call returns that
app's ``AppFuture``, which the kernel treats as a dependency like any other.
"""
from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import Executor
from typing import Any, Callable, Dict, Iterable, Iterator, List, Literal, Optional, Set, Union

from parsl._core import registry
from parsl._core.apps import PythonApp
from parsl._core.config import Config
from parsl._core.dfk import DataFlowKernel
from parsl._core.task import AppFuture


class ParslPoolExecutor(Executor):
    """Run plain functions as tasks through the ``concurrent.futures.Executor`` interface.

    Give exactly one of ``config`` (a kernel is created, loaded, and cleaned up at
    ``shutdown``) or ``dfk`` (an existing kernel, left running at ``shutdown``).
    """

    def __init__(self, config: Optional[Config] = None, dfk: Optional[DataFlowKernel] = None,
                 executors: Union[List[str], Literal["all"]] = "all") -> None:
        if config is None and dfk is None:
            raise ValueError("ParslPoolExecutor needs a config= (to load a DataFlowKernel it owns) "
                             "or a dfk= (an existing DataFlowKernel); got neither")
        if config is not None and dfk is not None:
            raise ValueError("ParslPoolExecutor takes config= or dfk=, not both: pass config= to "
                             "let the pool load and own a DataFlowKernel, or dfk= to use yours")
        self._config = config
        self._owns_dfk = dfk is None
        # Loaded as the current kernel (as parsl.load would): apps called outside the pool
        # then find it, and a second kernel cannot be loaded while the pool owns this one.
        self._dfk: DataFlowKernel = dfk if dfk is not None else registry.install(lambda: DataFlowKernel(config))
        self.executors = executors
        self._app_cache: Dict[Callable[..., Any], PythonApp] = {}
        #: This pool's futures not yet done: what shutdown(cancel_futures=True) may cancel.
        self._pending: Set[AppFuture] = set()
        self._lock = threading.Lock()
        self._shut_down = False

    @property
    def app_count(self) -> int:
        """How many distinct functions this pool has made into apps."""
        return len(self._app_cache)

    def get_app(self, fn: Callable[..., Any]) -> PythonApp:
        """The app that runs ``fn`` on this pool's kernel (made once per function)."""
        app = self._app_cache.get(fn)
        if app is None:
            app = PythonApp(fn, data_flow_kernel=self._dfk, executors=self.executors)
            self._app_cache[fn] = app
        return app

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AppFuture:
        """Run ``fn(*args, **kwargs)`` as a task; its future may be passed to other apps."""
        if self._shut_down:
            raise RuntimeError("cannot submit to a ParslPoolExecutor after shutdown(): "
                               "make a new pool (or call the app on a loaded DataFlowKernel)")
        fut = self.get_app(fn)(*args, **kwargs)
        pending = self._pending
        pending.add(fut)
        fut.add_done_callback(pending.discard)
        return fut

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1, buffersize: Optional[int] = None) -> Iterator[Any]:
        """Submit ``fn`` over the zipped ``iterables`` now; yield the results in order.

        ``timeout`` counts from this call, as in ``concurrent.futures``: a result not ready
        by then raises ``TimeoutError``.  ``chunksize`` and ``buffersize`` are accepted for
        the interface's sake: each call is its own task.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        futures = [self.submit(fn, *args) for args in zip(*iterables)]
        return _results_in_order(futures, deadline)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse further submissions; clean up the kernel if this pool made it.  Idempotent.

        ``cancel_futures=True`` cancels this pool's tasks that have not started (a task
        already running cannot be stopped, hence the warning).
        """
        with self._lock:
            already, self._shut_down = self._shut_down, True
        if cancel_futures:
            warnings.warn("ParslPoolExecutor.shutdown(cancel_futures=True): only tasks that have not "
                          "started are cancelled; running tasks finish", stacklevel=2)
            for fut in list(self._pending):
                fut.cancel()
        if already or not self._owns_dfk:
            return
        if wait:
            self._dfk.wait_for_current_tasks()
        self._dfk.cleanup()

    def __enter__(self) -> ParslPoolExecutor:
        return self

    def __exit__(self, *exc_info: object) -> Literal[False]:
        self.shutdown()
        return False


def _results_in_order(futures: List[AppFuture], deadline: Optional[float]) -> Iterator[Any]:
    # Unlike concurrent.futures, tasks are not cancelled when the caller stops iterating:
    # Parsl leaves them running, and scripts rely on their side effects.
    for fut in futures:
        yield fut.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
