"""Apps: the decorators ``python_app``, ``bash_app``, ``join_app`` and what they return.

Calling an app merges the function's defaults for the special keywords with the call's
keywords, wraps the function (walltime, the keyword filter, the bash runner) and submits
it to the kernel: the app's own ``data_flow_kernel``, else the loaded one, looked up at
call time in ``parsl._core.registry``. Public at ``parsl.app.app``, ``parsl.app.python``
and ``parsl.app.bash``.

``python_app`` warns (``CapturedGlobalWarning``, once per function, at decoration) when the
function's code assigns to a global: on HTEX the function and the globals of ``__main__`` it
uses are shipped by value, so such a change stays on the worker.
"""
from __future__ import annotations

import dis
import functools
import inspect
import types
import warnings
import weakref
from typing import Any, Callable, Dict, FrozenSet, List, Literal, Mapping, Optional, Sequence, Union

from parsl._base.errors import CapturedGlobalWarning
from parsl._core import registry
from parsl._core.bash import remote_side_bash_executor
from parsl._core.task import AppFuture, Kernel
from parsl._core.timeout import timeout

#: keyword arguments with a meaning to the kernel; taken from the function's defaults too
SPECIAL_KWARGS = ("stdout", "stderr", "walltime", "parsl_resource_specification", "inputs", "outputs")

Executors = Union[List[str], Literal["all"]]
Func = Callable[..., Any]


class AppBase:
    """What the app decorators return: a callable that submits the function as a task."""

    _join = False

    def __init__(self, func: Func, data_flow_kernel: Optional[Kernel] = None,
                 executors: Executors = "all",
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
        self.__name__: str = getattr(func, "__name__", type(func).__name__)
        self.__qualname__: str = getattr(func, "__qualname__", self.__name__)
        self.__doc__ = getattr(func, "__doc__", None)
        self.__module__ = getattr(func, "__module__", None)  # type: ignore[assignment]
        self.__wrapped__ = func
        self.data_flow_kernel = data_flow_kernel
        self.executors: Executors = executors
        self.cache = cache
        self.ignore_for_cache = list(ignore_for_cache) if ignore_for_cache else []
        params: Mapping[str, inspect.Parameter]
        try:
            params = inspect.signature(func).parameters
        except (TypeError, ValueError):
            params = {}
        self._accepts_any_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
        self._param_names: FrozenSet[str] = frozenset(params)
        self.kwargs = self._signature_defaults(params)

    def _signature_defaults(self, params: Mapping[str, inspect.Parameter]) -> Dict[str, Any]:
        out = {}
        for name in SPECIAL_KWARGS:
            p = params.get(name)
            if p is not None and p.default is not inspect.Parameter.empty:
                out[name] = p.default
        return out

    def _dfk(self) -> Kernel:
        dfk = self.data_flow_kernel
        if dfk is None:
            dfk = registry.current  # type: ignore[assignment]  # the loaded DataFlowKernel
            if dfk is None:
                registry.dfk()  # raises NoDataFlowKernelError with the fix
        return dfk  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:  # pragma: no cover - subclasses implement
        raise NotImplementedError


class PythonApp(AppBase):
    """Runs a Python function as a task."""

    def __init__(self, func: Func, data_flow_kernel: Optional[Kernel] = None, cache: bool = False,
                 executors: Executors = "all", ignore_for_cache: Optional[Sequence[str]] = None,
                 join: bool = False) -> None:
        super().__init__(func, data_flow_kernel=data_flow_kernel, executors=executors,
                         cache=cache, ignore_for_cache=ignore_for_cache)
        self._join = join

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        defaults = self.kwargs
        if defaults:
            invocation_kwargs = dict(defaults)
            invocation_kwargs.update(kwargs)
        else:
            invocation_kwargs = kwargs
        func = self.func
        walltime = invocation_kwargs.get("walltime") if invocation_kwargs else None
        if walltime is not None:
            func = timeout(func, walltime)
        if not self._accepts_any_kw and invocation_kwargs:
            # Special keywords the function does not declare are for the kernel only;
            # Parsl would pass them on and the call would fail with a TypeError.
            names = self._param_names
            for k in SPECIAL_KWARGS:
                if k in invocation_kwargs and k not in names:
                    func = DropKwargs(func, names)
                    break
        return self._dfk().submit(func, app_args=args, executors=self.executors, cache=self.cache,
                                  ignore_for_cache=self.ignore_for_cache,
                                  app_kwargs=invocation_kwargs, join=self._join)


class DropKwargs:
    """Calls the function without the special keywords it does not declare."""

    def __init__(self, func: Func, names: FrozenSet[str]) -> None:
        self.func = func
        self.names = names
        self.__name__ = getattr(func, "__name__", "app")
        self.__wrapped__ = func

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for k in SPECIAL_KWARGS:
            if k in kwargs and k not in self.names:
                del kwargs[k]
        return self.func(*args, **kwargs)


class BashApp(AppBase):
    """The function returns a command line, which runs under /bin/bash on a worker."""

    def __init__(self, func: Func, data_flow_kernel: Optional[Kernel] = None, cache: bool = False,
                 executors: Executors = "all", ignore_for_cache: Optional[Sequence[str]] = None) -> None:
        super().__init__(func, data_flow_kernel=data_flow_kernel, executors=executors,
                         cache=cache, ignore_for_cache=ignore_for_cache)
        self.wrapped_remote_function = functools.update_wrapper(
            functools.partial(remote_side_bash_executor, func), func)

    def _signature_defaults(self, params: Mapping[str, inspect.Parameter]) -> Dict[str, Any]:
        # bash apps take every default of the signature (Parsl does the same)
        return {name: p.default for name, p in params.items()
                if p.default is not inspect.Parameter.empty}

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        invocation_kwargs = dict(self.kwargs)
        invocation_kwargs.update(kwargs)
        func: Func = self.wrapped_remote_function
        if not self._accepts_any_kw:
            names = self._param_names
            if any(k in invocation_kwargs and k not in names for k in SPECIAL_KWARGS):
                func = functools.update_wrapper(
                    functools.partial(remote_side_bash_executor, DropKwargs(self.func, names)), self.func)
        return self._dfk().submit(func, app_args=args, executors=self.executors, cache=self.cache,
                                  ignore_for_cache=self.ignore_for_cache,
                                  app_kwargs=invocation_kwargs)


_GLOBAL_WRITES = frozenset(("STORE_GLOBAL", "DELETE_GLOBAL"))
#: code objects already checked (each function is warned about once, however often decorated)
_checked: weakref.WeakSet[types.CodeType] = weakref.WeakSet()


def assigned_globals(code: types.CodeType) -> List[str]:
    """The global names that ``code`` (or a function, lambda or comprehension in it) assigns
    to or deletes: what a ``global`` statement followed by an assignment compiles to."""
    names = set()
    stack = [code]
    while stack:
        c = stack.pop()
        if c.co_names:  # a write names its global in co_names: no names, nothing to scan
            for ins in dis.get_instructions(c):
                if ins.opname in _GLOBAL_WRITES:
                    names.add(str(ins.argval))
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return sorted(names)


def warn_captured_globals(func: Func, stacklevel: int) -> None:
    """Warn, once per function, if ``func`` assigns to a global (see the module docstring)."""
    try:
        inner = inspect.unwrap(func)
    except ValueError:
        inner = func
    code = getattr(inner, "__code__", None)
    if not isinstance(code, types.CodeType):
        return
    try:
        if code in _checked:
            return
        _checked.add(code)
    except TypeError:  # pragma: no cover - code objects take weak references in CPython
        pass
    names = assigned_globals(code)
    if not names:
        return
    listed = ", ".join(repr(n) for n in names)
    name = getattr(inner, "__name__", repr(inner))
    warnings.warn(
        f"app {name!r} assigns to the global name{'s' if len(names) > 1 else ''} {listed}. "
        "When the app runs outside this process (HighThroughputExecutor and other executors "
        "whose workers are separate processes), it works on a copy of the globals it uses, so "
        "the change stays on the worker and this script never sees it. Return the new value "
        "from the app (or pass the value in as an argument) instead. To silence this: "
        "warnings.filterwarnings('ignore', category=parsl.errors.CapturedGlobalWarning)",
        CapturedGlobalWarning, stacklevel=stacklevel + 1)


def python_app(function: Optional[Func] = None, data_flow_kernel: Optional[Kernel] = None,
               cache: bool = False, executors: Executors = "all",
               ignore_for_cache: Optional[List[str]] = None) -> Any:
    """Make a Python function an app: calling it submits a task and returns an ``AppFuture`` at once.

    Arguments may be futures of other apps: the task waits for them and gets their results (a
    failed dependency fails it with ``DependencyError``). On HTEX the function runs in a worker
    process, so it must import what it uses inside its body (or at the top of the script).

    Use as ``@python_app`` or ``@python_app(cache=True, executors=["htex"])``.

    Args:
        function: the function (when used without parentheses).
        data_flow_kernel: run on this DataFlowKernel instead of the loaded one.
        cache: serve a repeated call (same function body, same arguments, same input files)
            from the cache instead of running it again; see the caching guide.
        executors: labels of the executors this app may run on, or ``"all"``.
        ignore_for_cache: names of parameters left out of the cache key.

    Special keyword arguments a call may pass (the function need not declare them):
    ``inputs`` (a list of ``File`` or futures to wait for), ``outputs`` (a list of ``File``
    the app writes; their ``DataFuture`` are in ``future.outputs``), ``walltime`` (seconds;
    then the task fails with ``AppTimeout``), ``parsl_resource_specification`` (HTEX).
    """
    def decorator(func: Func, _stacklevel: int = 2) -> PythonApp:
        # Warn at the user's decorator line: @python_app goes through python_app (one frame
        # more), @python_app(...) calls this directly.
        warn_captured_globals(func, _stacklevel)
        return PythonApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                         executors=executors, ignore_for_cache=ignore_for_cache)
    if function is not None:
        return decorator(function, 3)
    return decorator


def join_app(function: Optional[Func] = None, data_flow_kernel: Optional[Kernel] = None,
             cache: bool = False, ignore_for_cache: Optional[List[str]] = None) -> Any:
    """Make a function that calls other apps and returns their future (or a list of futures) an app:
    its ``AppFuture`` completes with their results. For workflows whose shape depends on results.

    Join apps run in the workflow's own process (``_parsl_internal``), so they should only launch
    apps, not compute.

    Args:
        function: the function (when used without parentheses).
        data_flow_kernel: run on this DataFlowKernel instead of the loaded one.
        cache: serve a repeated call from the cache (see ``python_app``).
        ignore_for_cache: names of parameters left out of the cache key.
    """
    def decorator(func: Func) -> PythonApp:
        return PythonApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                         executors=["_parsl_internal"], ignore_for_cache=ignore_for_cache, join=True)
    if function is not None:
        return decorator(function)
    return decorator


def bash_app(function: Optional[Func] = None, data_flow_kernel: Optional[Kernel] = None,
             cache: bool = False, executors: Executors = "all",
             ignore_for_cache: Optional[List[str]] = None) -> Any:
    """Make a function that returns a command line an app: calling it runs the command under bash
    and returns an ``AppFuture`` whose result is the exit code (0).

    A non-zero exit fails the task with ``BashExitFailure`` (exit code, command, and the tail of
    stderr); a missing ``outputs`` file fails it with ``MissingOutputs``.

    Args:
        function: the function (when used without parentheses).
        data_flow_kernel: run on this DataFlowKernel instead of the loaded one.
        cache: serve a repeated call from the cache (see ``python_app``).
        executors: labels of the executors this app may run on, or ``"all"``.
        ignore_for_cache: names of parameters left out of the cache key.

    Besides ``inputs``, ``outputs`` and ``walltime`` (which kills the command's whole process
    tree), a call may pass ``stdout`` and ``stderr``: a path, a ``(path, mode)`` pair, or
    ``parsl.AUTO_LOGNAME`` (a file per task in the run directory).
    """
    def decorator(func: Func) -> BashApp:
        return BashApp(func, data_flow_kernel=data_flow_kernel, cache=cache,
                       executors=executors, ignore_for_cache=ignore_for_cache)
    if function is not None:
        return decorator(function)
    return decorator


AppBase.__module__ = "parsl.app.app"
PythonApp.__module__ = "parsl.app.python"
BashApp.__module__ = "parsl.app.bash"
