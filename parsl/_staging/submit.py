"""How staging providers put work into the task graph.

A separate staging task is an ordinary app submitted to the DFK (so it gets the task's
retries, monitoring and a place in the graph); these helpers build and cache those apps.
"""
from __future__ import annotations

from typing import Callable, Tuple

INTERNAL_EXECUTOR = "_parsl_internal"


def executor_of(dm, executor) -> Tuple[str, object]:
    """(label, executor object) from what the data manager passed: Parsl passes the label;
    a provider written against an object gets that too."""
    if isinstance(executor, str):
        return executor, dm.dfk.executors[executor]
    return executor.label, executor


def working_dir_of(dm, executor):
    return getattr(executor_of(dm, executor)[1], "working_dir", None)


def staging_app(dm, func: Callable, label: str):
    """A ``python_app`` running ``func`` on executor ``label`` of ``dm``'s DFK, made once per
    (function, executor) and kept on the data manager."""
    cache = dm.__dict__.setdefault("_staging_apps", {})
    key = (func, label)
    app = cache.get(key)
    if app is None:
        from parsl.app.app import python_app
        app = python_app(func, executors=[label], data_flow_kernel=dm.dfk)
        cache[key] = app
    return app


def data_future(app_fut, file):
    """A DataFuture for ``file`` that completes when ``app_fut`` does."""
    from parsl._base.futures import DataFuture
    return DataFuture(app_fut, file, tid=getattr(app_fut, "tid", None))
