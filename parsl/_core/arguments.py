"""Reading an app call's arguments at submit: dependencies, stage-in and stage-out.

``ArgumentScanner`` is a part of the DataFlowKernel (a base class of it). At submit it
finds the futures a task waits for and hands each ``File``/``DataFuture`` to the data
manager: inputs (positional, keyword and ``inputs``) are staged in, ``outputs`` and
File-valued ``stdout``/``stderr`` staged out. The fast path (no futures, no files, the
shallow resolver) looks at each argument once and allocates nothing.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import CancelledError, Future
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple, Union

from parsl._base.files import File
from parsl._base.futures import DataFuture
from parsl._core.dependency_resolvers import DependencyResolver
from parsl._core.task import AppFuture, TaskRecord

logger = logging.getLogger("parsl.dataflow.dflow")

_FILE_OR_FUTURE = (Future, File)
STD_KWARGS = ("stdout", "stderr")

Func = Callable[..., Any]


class DataStager(Protocol):
    """What the kernel asks of its data manager (``parsl._staging.manager.DataManager``)."""

    def stage_in(self, file: Union[File, DataFuture], func: Func, executor_label: str) -> Tuple[Any, Func]: ...

    def stage_out(self, file: File, executor_label: str, app_fut: AppFuture) -> Optional[Future[Any]]: ...

    def replace_task_stage_out(self, file: File, func: Func, executor_label: str) -> Func: ...

    def local_outputs_untouched(self, executor_label: str) -> bool: ...


def output_file(value: Any, app_name: str) -> File:
    """An ``outputs`` entry that is not a File: a path (``str`` or ``os.PathLike``) becomes a
    ``File`` (the user guide's ``outputs=['output.txt']``); anything else is refused here, at
    the call, rather than dropped (Parsl fails at the call too, with an AttributeError)."""
    if isinstance(value, str):
        return File(value)
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        if isinstance(path, str):
            # a path is a local file even where it would read as a URL ("a:b")
            return File("file:" + path) if ":" in path.split("/", 1)[0] else File(path)
    raise TypeError(f"outputs of app {app_name!r} must be Files or paths (str or os.PathLike), "
                    f"not {type(value).__name__}: {value!r}")


class ArgumentScanner:
    """Finds a task's dependencies and hooks its files up to the data manager."""

    # set by DataFlowKernel.__init__
    config: Any
    run_dir: str
    data_manager: DataStager
    _resolver: DependencyResolver
    _shallow: bool
    _stage_outs: Dict[int, Tuple[Future[Any], AppFuture]]   # id -> (stage-out future, its app's)

    def _auto_logname(self, rec: TaskRecord, kw: str) -> None:
        if self.config.std_autopath is not None:
            path = self.config.std_autopath(rec, kw)
        else:
            path = self.default_std_autopath(rec, kw)
        rec.kwargs[kw] = path
        ig = list(rec.ignore_for_cache) if rec.ignore_for_cache else []
        if kw not in ig:
            ig.append(kw)
        rec.ignore_for_cache = ig

    def default_std_autopath(self, taskrecord: TaskRecord, kw: str) -> str:
        label = taskrecord.kwargs.get("label")
        suffix = f"_{label}" if label is not None else ""
        tid = taskrecord.id
        return os.path.join(self.run_dir, "task_logs", f"{tid // 10000:04d}",
                            f"task_{tid:04d}_{taskrecord.func_name}{suffix}.{kw}")

    def _scan_arguments(self, rec: TaskRecord) -> List[Future[Any]]:
        """Find dependencies; stage files in and out. Fast path: no futures, no files."""
        args = rec.args
        kwargs = rec.kwargs
        found = False
        for a in args:
            if isinstance(a, _FILE_OR_FUTURE):
                found = True
                break
        inputs = None
        if not found and kwargs:
            for v in kwargs.values():
                if isinstance(v, _FILE_OR_FUTURE):
                    found = True
                    break
            inputs = kwargs.get("inputs")
            if not found and inputs:
                for v in inputs:
                    if isinstance(v, _FILE_OR_FUTURE):
                        found = True
                        break
        outputs = kwargs.get("outputs") if kwargs else None
        has_std_file = kwargs and any(isinstance(kwargs.get(k), File) for k in STD_KWARGS)
        if not found and not outputs and not has_std_file and self._shallow:
            return []
        return self._scan_slow(rec)

    def _scan_slow(self, rec: TaskRecord) -> List[Future[Any]]:
        dm = self.data_manager
        label = rec.executor
        func = rec.func
        deps: List[Future[Any]] = []
        gather = self._resolver.traverse_to_gather
        # a staging task's own Files must not be staged again (Parsl's internal kwarg; the
        # staging function receives it too)
        inhibit = bool(rec.kwargs) and bool(rec.kwargs.get("_parsl_staging_inhibit"))

        def stage(v: Any) -> Any:
            nonlocal func
            if not inhibit and isinstance(v, (File, DataFuture)):
                v, func = dm.stage_in(v, func, label)
            return v

        new_args = []
        for a in rec.args:
            a = stage(a)
            deps.extend(gather(a))
            new_args.append(a)
        rec.args = tuple(new_args)
        kwargs = rec.kwargs
        if kwargs:
            kwargs = dict(kwargs)
            for k, v in kwargs.items():
                if k in STD_KWARGS or k == "outputs":
                    continue
                if k == "inputs" and isinstance(v, (list, tuple)):
                    new_inputs = []
                    for x in v:
                        x = stage(x)
                        deps.extend(gather(x))
                        new_inputs.append(x)
                    kwargs[k] = type(v)(new_inputs) if isinstance(v, tuple) else new_inputs
                else:
                    v = stage(v)
                    deps.extend(gather(v))
                    kwargs[k] = v
            func = self._add_output_deps(rec, kwargs, func, inhibit)
            rec.kwargs = kwargs
        rec.func = func
        # the same future may appear twice; wait for it once
        if len(deps) > 1:
            seen = set()
            uniq = []
            for d in deps:
                if id(d) not in seen:
                    seen.add(id(d))
                    uniq.append(d)
            deps = uniq
        return deps

    def _add_output_deps(self, rec: TaskRecord, kwargs: Dict[str, Any], func: Func,
                         inhibit: bool = False) -> Func:
        app_fu = rec.app_fu
        outputs = kwargs.get("outputs")
        if inhibit:
            if outputs:
                app_fu.outputs = [DataFuture(app_fu, f, tid=rec.id)
                                   for f in outputs if isinstance(f, File)]
            return func
        # a local output is shared with the task as-is only when no provider will rewrite it
        local_shared = self.data_manager.local_outputs_untouched(rec.executor)
        if outputs:
            data_futs = []
            task_outputs = []
            for f in outputs:
                if isinstance(f, DataFuture):
                    f = f.file_obj
                elif not isinstance(f, File):
                    f = output_file(f, rec.func_name)
                copy, data_fut, func = self._stage_out_one(rec, f, func, local_shared)
                data_futs.append(data_fut)
                task_outputs.append(copy)
            kwargs["outputs"] = task_outputs
            app_fu.outputs = data_futs
        for kw in STD_KWARGS:
            f = kwargs.get(kw)
            if isinstance(f, File):
                copy, rec[f"_{kw}_datafuture"], func = self._stage_out_one(rec, f, func, local_shared)
                kwargs[kw] = copy
        return func

    def _stage_out_one(self, rec: TaskRecord, f: File, func: Func,
                       local_shared: bool) -> Tuple[File, DataFuture, Func]:
        """Stage out one File the task writes: (the task's copy, the user's DataFuture, func).

        The user's DataFuture holds the original File and completes when the file has
        arrived: with the stage-out task if there is one, else with the app."""
        dm = self.data_manager
        label = rec.executor
        app_fu = rec.app_fu
        copy = f if local_shared and f.scheme == "file" else f.cleancopy()
        stage_fut = dm.stage_out(copy, label, app_fu)
        self._track_stage_out(stage_fut, app_fu)
        func = dm.replace_task_stage_out(copy, func, label)
        data_fut = DataFuture(stage_fut if stage_fut is not None else app_fu, f,
                              tid=rec.id)
        return copy, data_fut, func

    def _track_stage_out(self, stage_fut: Optional[Future[Any]], app_fu: AppFuture) -> None:
        """Remember a separate stage-out transfer, so cleanup() lets it finish (nothing lost)."""
        if stage_fut is None:
            return
        pending = self._stage_outs
        key = id(stage_fut)
        pending[key] = (stage_fut, app_fu)
        stage_fut.add_done_callback(lambda _f: pending.pop(key, None))

    def _finish_stage_outs(self) -> None:
        # Only transfers whose app has finished: those are moving data now and end soon.
        # A stage-out still waiting for a running app is not waited for (that app may never end).
        for stage_fut, app_fu in list(self._stage_outs.values()):
            if app_fu.done() and not stage_fut.done():
                logger.info("cleanup: waiting for the stage-out of %r", stage_fut)
                try:
                    stage_fut.exception()
                except CancelledError:
                    pass
