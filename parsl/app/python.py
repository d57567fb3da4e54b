"""``PythonApp``: runs a Python function as a task."""
from __future__ import annotations

from parsl.app.app import AppBase


class PythonApp(AppBase):
    def __init__(self, func, data_flow_kernel=None, cache=False, executors="all",
                 ignore_for_cache=None, join=False):
        super().__init__(func, data_flow_kernel=data_flow_kernel, executors=executors,
                         cache=cache, ignore_for_cache=ignore_for_cache)
        self._join = join

    def __call__(self, *args, **kwargs):
        defaults = self.kwargs
        if defaults:
            invocation_kwargs = dict(defaults)
            invocation_kwargs.update(kwargs)
        else:
            invocation_kwargs = kwargs
        func = self.func
        walltime = invocation_kwargs.get("walltime") if invocation_kwargs else None
        if walltime is not None:
            from parsl._core.timeout import timeout
            func = timeout(func, walltime)
        if not self._accepts_any_kw and invocation_kwargs:
            # Special keywords the function does not declare are for the kernel only;
            # Parsl would pass them on and the call would fail with a TypeError.
            from parsl.app.app import SPECIAL_KWARGS
            names = self._param_names
            for k in SPECIAL_KWARGS:
                if k in invocation_kwargs and k not in names:
                    func = _DropKwargs(func, names)
                    break
        return self._dfk().submit(func, app_args=args, executors=self.executors, cache=self.cache,
                                  ignore_for_cache=self.ignore_for_cache,
                                  app_kwargs=invocation_kwargs, join=self._join)


class _DropKwargs:
    """Calls the function without the special keywords it does not declare."""

    def __init__(self, func, names):
        self.func = func
        self.names = names
        self.__name__ = getattr(func, "__name__", "app")
        self.__wrapped__ = func

    def __call__(self, *args, **kwargs):
        from parsl.app.app import SPECIAL_KWARGS
        for k in SPECIAL_KWARGS:
            if k in kwargs and k not in self.names:
                del kwargs[k]
        return self.func(*args, **kwargs)
