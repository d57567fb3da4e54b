"""``ParslPoolExecutor``: a ``concurrent.futures.Executor`` backed by Chervil (``parsl.concurrent``)."""
from __future__ import annotations

import time
import warnings
from concurrent.futures import Executor
from typing import Callable, Dict, Iterable, Iterator, List, Literal, Optional, Union

from parsl._core.apps import PythonApp
from parsl._core.dfk import DataFlowKernel


class ParslPoolExecutor(Executor):
    """Run plain functions as Chervil tasks through the standard Executor interface.

    Give exactly one of ``config`` (a DataFlowKernel is created and owned by this pool) or
    ``dfk`` (an existing one, left running at shutdown).
    """

    def __init__(self, config=None, dfk=None, executors: Union[List[str], Literal["all"]] = "all"):
        if (config is None) == (dfk is None):
            raise ValueError("ParslPoolExecutor needs exactly one of config= or dfk=")
        if config is not None:
            self._dfk = DataFlowKernel(config)
            self._owns_dfk = True
        else:
            self._dfk = dfk
            self._owns_dfk = False
        self._executors = executors
        self._apps: Dict[Callable, PythonApp] = {}

    @property
    def app_count(self):
        return len(self._apps)

    def get_app(self, fn: Callable) -> PythonApp:
        app = self._apps.get(fn)
        if app is None:
            app = PythonApp(fn, data_flow_kernel=self._dfk, executors=self._executors)
            self._apps[fn] = app
        return app

    def submit(self, fn, /, *args, **kwargs):
        return self.get_app(fn)(*args, **kwargs)

    def map(self, fn: Callable, *iterables: Iterable, timeout: Optional[float] = None, chunksize: int = 1,
            buffersize: Optional[int] = None) -> Iterator:
        app = self.get_app(fn)
        futures = [app(*args) for args in zip(*iterables)]

        def results():
            deadline = None if timeout is None else time.monotonic() + timeout
            for f in futures:
                yield f.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return results()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            warnings.warn("ParslPoolExecutor.shutdown(cancel_futures=True): only tasks that have not "
                          "started can be cancelled; running tasks finish", stacklevel=2)
            for rec in list(self._dfk.tasks.values()):
                rec.app_fu.cancel()
        if self._owns_dfk:
            if wait:
                self._dfk.wait_for_current_tasks()
            self._dfk.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()
        return False
