"""App decorators: ``python_app``, ``bash_app``, ``join_app`` (``parsl.app.app``)."""
from __future__ import annotations

import inspect
from typing import Callable, List, Literal, Optional, Sequence, Union

_Loader = None  # DataFlowKernelLoader, imported on first app call (keeps decorating cheap)

#: keyword arguments with a meaning to the kernel; taken from the function's defaults too
SPECIAL_KWARGS = ("stdout", "stderr", "walltime", "parsl_resource_specification", "inputs", "outputs")


class AppBase:
    """What the app decorators return: a callable that submits the function as a task."""

    _join = False

    def __init__(self, func: Callable, data_flow_kernel=None,
                 executors: Union[List[str], Literal["all"]] = "all",
                 cache: bool = False, ignore_for_cache: Optional[Sequence[str]] = None) -> None:
        if not callable(func):
            raise TypeError(f"An app decorator was applied to {func!r}, which is not callable: "
                            "decorate a function, e.g. @python_app above 'def f(...):'")
        if executors != "all":
            if isinstance(executors, str):
                raise TypeError(f"executors={executors!r}: give a list of executor labels, e.g. "
                                f"executors=[{executors!r}], or 'all'")
            executors = list(executors)
            for e in executors:
                if not isinstance(e, str):
                    raise TypeError(f"executors must be a list of label strings, got {e!r}")
        self.func = func
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self.__qualname__ = getattr(func, "__qualname__", self.__name__)
        self.__doc__ = getattr(func, "__doc__", None)
        self.__module__ = getattr(func, "__module__", None)
        self.__wrapped__ = func
        self.data_flow_kernel = data_flow_kernel
        self.executors = executors
        self.cache = cache
        self.ignore_for_cache = list(ignore_for_cache) if ignore_for_cache else []
        try:
            params = inspect.signature(func).parameters
        except (TypeError, ValueError):
            params = {}
        self._accepts_any_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
        self._param_names = frozenset(params)
        self.kwargs = self._signature_defaults(params)

    def _signature_defaults(self, params):
        out = {}
        for name in SPECIAL_KWARGS:
            p = params.get(name)
            if p is not None and p.default is not inspect.Parameter.empty:
                out[name] = p.default
        return out

    def _dfk(self):
        dfk = self.data_flow_kernel
        if dfk is None:
            global _Loader
            if _Loader is None:
                from parsl.dataflow.dflow import DataFlowKernelLoader as _Loader
            dfk = _Loader._dfk
            if dfk is None:
                dfk = _Loader.dfk()  # raises NoDataFlowKernelError with the fix
        return dfk

    def __repr__(self):
        return f"<{type(self).__name__} {self.__name__}>"

    def __call__(self, *args, **kwargs):  # pragma: no cover - subclasses implement
        raise NotImplementedError


def python_app(function=None, data_flow_kernel=None, cache: bool = False,
               executors: Union[List[str], Literal["all"]] = "all",
               ignore_for_cache: Optional[List[str]] = None):
    """Decorate a function so that calling it runs it as a task and returns an AppFuture."""
    from parsl.app.python import PythonApp

    def decorator(func):
        return PythonApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                         executors=executors, ignore_for_cache=ignore_for_cache)
    if function is not None:
        return decorator(function)
    return decorator


def join_app(function=None, data_flow_kernel=None, cache: bool = False,
             ignore_for_cache: Optional[List[str]] = None):
    """Decorate a function that returns futures (of other apps); its result is theirs."""
    from parsl.app.python import PythonApp

    def decorator(func):
        return PythonApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                         executors=["_parsl_internal"], ignore_for_cache=ignore_for_cache, join=True)
    if function is not None:
        return decorator(function)
    return decorator


def bash_app(function=None, data_flow_kernel=None, cache: bool = False,
             executors: Union[List[str], Literal["all"]] = "all",
             ignore_for_cache: Optional[List[str]] = None):
    """Decorate a function returning a command line; calling it runs the command under bash."""
    from parsl.app.bash import BashApp

    def decorator(func):
        return BashApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                       executors=executors, ignore_for_cache=ignore_for_cache)
    if function is not None:
        return decorator(function)
    return decorator
