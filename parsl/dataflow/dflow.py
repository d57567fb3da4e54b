"""The DataFlowKernel: the task graph, dependencies, retries, and the executors it owns.

Hot path (per task): ``submit`` builds a TaskRecord and an AppFuture, scans the arguments
once for futures and files, and either launches at once or registers one callback per
dependency. Launching resolves the arguments, asks the memoizer, and hands the call to the
executor; the executor future's callback completes the task (or retries it).

Re-entrancy: completing a task runs its dependents' callbacks in the same thread. To keep
long chains (memo hits, dependency failures) from recursing, launches go through a
per-thread trampoline (``_schedule_launch``): the outermost frame drains a queue.

Locking: ``self._lock`` guards only the dependency counters and the claim of a task for
launch or cancellation; it is never held while user code, executors or callbacks run.
"""
from __future__ import annotations

import atexit
import logging
import numbers
import os
import random
import sys
import threading
import time
import uuid
from collections import deque
from concurrent.futures import CancelledError, Future
from concurrent.futures._base import FINISHED, PENDING
from typing import Any, Dict, List, Optional

from parsl._base.remote import RemoteExceptionWrapper
from parsl._base.futures import DataFuture
from parsl.config import Config
from parsl._base.files import File
from parsl._base.errors import DependencyError, JoinError
from parsl.dataflow.futures import AppFuture
from parsl.dataflow.rundirs import make_rundir
from parsl._base.task_states import FINAL_STATES, States
from parsl.dataflow.taskrecord import TaskRecord
from parsl._base.errors import ConfigurationError, InternalConsistencyError, NoDataFlowKernelError
from parsl.log_utils import TRACE
from parsl._base.futures import LightFuture

# future types whose private fields we may read directly once they are FINISHED
_PLAIN_FUTURES = frozenset({Future, LightFuture, AppFuture, DataFuture})

logger = logging.getLogger(__name__)

_EMPTY_SPEC: Dict[str, Any] = {}
_time = time.time
_CLAIMED = object()     # rec.exec_fu while the task is being handed to its executor
_CANCELLED = object()   # rec.exec_fu of a task cancelled before launch
_FILE_OR_FUTURE = (Future, File)
_STD_KWARGS = ("stdout", "stderr")


def _fast_unwrap(obj):
    """The shallow resolver's unwrap, reading finished futures without their locks."""
    if isinstance(obj, Future):
        if type(obj) in _PLAIN_FUTURES and obj._state == FINISHED:
            return obj._result
        return obj.result()
    return obj

# Legal state moves. Everything else is a bug and raises InternalConsistencyError.
_LEGAL = {
    None: frozenset({States.pending}),
    States.pending: frozenset({States.launched, States.dep_fail, States.memo_done, States.failed,
                               States.fail_retryable}),
    States.launched: frozenset({States.exec_done, States.failed, States.fail_retryable, States.joining}),
    States.fail_retryable: frozenset({States.pending}),
    States.joining: frozenset({States.exec_done, States.failed}),
}


class DataFlowKernel:
    """Owns the task graph of one workflow run and every executor in its config."""

    def __init__(self, config: Optional[Config] = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeError(f"DataFlowKernel needs a parsl.config.Config, got {type(config).__name__}")
        _refuse_executors_in_use(config.executors, self)
        self.config = config
        self._closed = False
        self._cleanup_lock = threading.Lock()
        self._lock = threading.Lock()
        self._tls = threading.local()
        self.time_began = time.time()
        self.run_dir = make_rundir(config.run_dir)
        self.run_id = str(uuid.uuid4())
        self._log_close = None
        if config.initialize_logging is True:
            from parsl.log_utils import set_file_logger
            self._log_close = set_file_logger(os.path.join(self.run_dir, "parsl.log"), name="parsl",
                                              level=logging.DEBUG)
        elif config.initialize_logging not in (False, None):
            self._log_close = config.initialize_logging.initialize_logging(self.run_dir, "parsl.log")
        logger.info("Chervil DataFlowKernel starting: run_id %s, run_dir %s", self.run_id, self.run_dir)
        logger.debug("Config: %r", config)

        self.tasks: Dict[int, TaskRecord] = {}
        self._stage_outs: Dict[int, tuple] = {}  # id -> (stage-out future, its app's future)
        self._next_id = 0
        self.task_state_counts = {s: 0 for s in States}
        self._retries = config.retries
        self._retry_handler = config.retry_handler
        self._gc = config.garbage_collect
        self._resolver = config.dependency_resolver
        from parsl.dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER
        self._shallow = self._resolver is SHALLOW_DEPENDENCY_RESOLVER
        self.executors: Dict[str, Any] = {}
        self._user_labels: tuple = ()
        self.memoizer = config.memoizer
        self.monitoring = config.monitoring
        self._observe = None
        self._task_events = None
        self._radio_receivers: list = []
        self.job_status_poller = None
        self._reaper: Optional[threading.Thread] = None
        self.workflow_name = self._find_workflow_name()
        self.workflow_version = (getattr(self.monitoring, "workflow_version", None)
                                 or time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time_began)))
        from parsl.data_provider.data_manager import DataManager
        self.data_manager = DataManager(self)
        atexit.register(self._atexit_cleanup)
        try:
            self._start_services()
        except BaseException:
            self.cleanup()
            raise

    @property
    def task_count(self) -> int:
        """Tasks submitted so far. Read from the id counter: a separate store made outside the
        lock could go backwards when threads submit concurrently."""
        return self._next_id

    # ------------------------------------------------------------------ start-up
    def _start_services(self):
        config = self.config
        if self.memoizer is not None:
            self.memoizer.start(dfk=self, run_dir=self.run_dir, config_run_dir=config.run_dir)
        if self.monitoring is not None:
            self.monitoring.start(self)
            # Chervil's hub takes state changes as one list.extend of a fixed-layout event
            # (three per task: no Python-level call on the task's path); others are called.
            self._task_events = getattr(self.monitoring, "task_events", None)
            if self._task_events is None:
                self._observe = self.monitoring.task_state_changed
        try:
            from parsl.jobs.job_status_poller import JobStatusPoller
        except ImportError:
            JobStatusPoller = None
        if JobStatusPoller is not None:
            self.job_status_poller = JobStatusPoller(strategy=config.strategy,
                                                     strategy_period=config.strategy_period,
                                                     max_idletime=config.max_idletime)
        from parsl._executors.threads import ThreadPoolExecutor
        internal = ThreadPoolExecutor(label="_parsl_internal", max_threads=config.internal_tasks_max_threads)
        self.add_executors(list(config.executors) + [internal])

    def _start_radio(self, ex) -> None:
        """The receiver of the executor's ``remote_monitoring_radio``, listening until cleanup
        (Chervil's executors report without one; see ``parsl.monitoring.radios``)."""
        radio = getattr(ex, "remote_monitoring_radio", None)
        create = getattr(radio, "create_receiver", None)
        if create is None or getattr(radio, "in_band", False):
            return     # HTEXRadio: the executor itself carries the messages
        try:
            queue = self.monitoring.resource_msgs
        except (AttributeError, RuntimeError):
            return
        self._radio_receivers.append(create(run_dir=self.run_dir, resource_msgs=queue))

    def _find_workflow_name(self):
        name = getattr(self.monitoring, "workflow_name", None)
        if name:
            return name
        skip = ("dflow.py", "typeguard.py", "__init__.py", "config.py")
        f = sys._getframe(1)
        while f is not None:
            base = os.path.basename(f.f_code.co_filename)
            if base not in skip and not f.f_code.co_filename.startswith("<frozen"):
                return base
            f = f.f_back
        return "unnamed"

    def add_executors(self, executors) -> None:
        """Start executors and make them available to apps (also after load)."""
        executors = list(executors)
        _refuse_executors_in_use(executors, self)
        started = []
        try:
            for ex in executors:
                if ex.label in self.executors:
                    raise ConfigurationError(f"An executor labelled {ex.label!r} is already loaded")
                ex.run_id = self.run_id
                ex.run_dir = self.run_dir
                ex.dfk = self
                if self.monitoring is not None:
                    ex.monitoring_messages = self.monitoring.send
                    self._start_radio(ex)
                provider = getattr(ex, "provider", None)
                if provider is not None:
                    script_dir = os.path.join(self.run_dir, "submit_scripts")
                    os.makedirs(script_dir, exist_ok=True)
                    provider.script_dir = script_dir
                ex.start()
                started.append(ex)
                self.executors[ex.label] = ex
        except BaseException:
            for ex in reversed(started):
                try:
                    ex.shutdown()
                except Exception:
                    logger.exception("shutting down %s after a failed start", ex.label)
                self.executors.pop(ex.label, None)
            raise
        self._user_labels = tuple(lbl for lbl in self.executors if lbl != "_parsl_internal")
        block_executors = [ex for ex in started if hasattr(ex, "provider") and hasattr(ex, "scale_out_facade")]
        if block_executors and self.job_status_poller is not None:
            self.job_status_poller.add_executors(block_executors)

    # ------------------------------------------------------------------ submit
    def submit(self, func, app_args=(), executors="all", cache=False, ignore_for_cache=None,
               app_kwargs=None, join=False) -> AppFuture:
        """Create a task for ``func(*app_args, **app_kwargs)``; returns its AppFuture."""
        if self._closed:
            raise NoDataFlowKernelError("Cannot submit to a DataFlowKernel that has been cleaned up; "
                                        "parsl.load() a new config")
        if app_kwargs is None:
            app_kwargs = {}
        if executors == "all":
            labels = self._user_labels
        else:
            labels = executors
            for lbl in labels:
                if lbl not in self.executors:
                    raise ValueError(f"Task of app {getattr(func, '__name__', func)} asked for executor "
                                     f"{lbl!r}, which is not in the loaded config; known labels: "
                                     f"{list(self._user_labels)}")
        label = labels[0] if len(labels) == 1 else random.choice(labels)
        with self._lock:
            tid = self._next_id
            self._next_id = tid + 1
        rec = TaskRecord(tid, func, getattr(func, "__name__", type(func).__name__), app_args, app_kwargs,
                         label, self)
        rec.memoize = cache
        if ignore_for_cache:
            rec.ignore_for_cache = list(ignore_for_cache)
        rec.join = join
        rec.fail_history = []
        rec.time_invoked = time.time()
        rec.resource_specification = app_kwargs.get("parsl_resource_specification") or _EMPTY_SPEC
        fut = AppFuture(rec)
        rec.app_fu = fut

        if app_kwargs:
            for kw in _STD_KWARGS:
                if app_kwargs.get(kw) == -1 and not isinstance(app_kwargs.get(kw), bool):
                    self._auto_logname(rec, kw)
        deps = self._scan_arguments(rec)
        self.tasks[tid] = rec
        self._set_state(rec, States.pending)
        if deps:
            rec.depends = deps
            rec.pending_deps = len(deps)
            # one dependency: its callback fires once, so no counter (and no lock) is needed
            cb = rec_only_dep_done(self, rec) if len(deps) == 1 else rec_dep_done(self, rec)
            for d in deps:
                d.add_done_callback(cb)
        else:
            self._schedule_launch(rec)
        if logger.isEnabledFor(TRACE):
            logger.log(TRACE, "Task %s submitted for app %s on %s, waiting on %s", tid, rec.func_name, label,
                       [describe_future(d) for d in deps])
        return fut

    def _auto_logname(self, rec, kw):
        if self.config.std_autopath is not None:
            path = self.config.std_autopath(rec, kw)
        else:
            path = self.default_std_autopath(rec, kw)
        rec.kwargs[kw] = path
        ig = list(rec.ignore_for_cache) if rec.ignore_for_cache else []
        if kw not in ig:
            ig.append(kw)
        rec.ignore_for_cache = ig

    def default_std_autopath(self, taskrecord, kw):
        label = taskrecord.kwargs.get("label")
        suffix = f"_{label}" if label is not None else ""
        tid = taskrecord.id
        return os.path.join(self.run_dir, "task_logs", f"{tid // 10000:04d}",
                            f"task_{tid:04d}_{taskrecord.func_name}{suffix}.{kw}")

    def _scan_arguments(self, rec) -> List[Future]:
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
            for k, v in kwargs.items():
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
        has_std_file = kwargs and any(isinstance(kwargs.get(k), File) for k in _STD_KWARGS)
        if not found and not outputs and not has_std_file and self._shallow:
            return []
        return self._scan_slow(rec)

    def _scan_slow(self, rec) -> List[Future]:
        dm = self.data_manager
        label = rec.executor
        func = rec.func
        deps: List[Future] = []
        gather = self._resolver.traverse_to_gather
        # a staging task's own Files must not be staged again (Parsl's internal kwarg; the
        # staging function receives it too)
        inhibit = bool(rec.kwargs) and bool(rec.kwargs.get("_parsl_staging_inhibit"))

        def stage(v):
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
                if k in _STD_KWARGS or k == "outputs":
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

    def _add_output_deps(self, rec, kwargs, func, inhibit=False):
        app_fu = rec.app_fu
        outputs = kwargs.get("outputs")
        if inhibit:
            if outputs:
                app_fu._outputs = [DataFuture(app_fu, f, tid=rec.id) for f in outputs if isinstance(f, File)]
            return func
        # a local output is shared with the task as-is only when no provider will rewrite it
        local_shared = self.data_manager.local_outputs_untouched(rec.executor)
        if outputs:
            data_futs = []
            task_outputs = []
            for f in outputs:
                if isinstance(f, DataFuture):
                    f = f.file_obj
                if not isinstance(f, File):
                    # Parsl only stages Files; other values pass through untouched
                    task_outputs.append(f)
                    continue
                copy, data_fut, func = self._stage_out_one(rec, f, func, local_shared)
                data_futs.append(data_fut)
                task_outputs.append(copy)
            kwargs["outputs"] = task_outputs
            app_fu._outputs = data_futs
        for kw in _STD_KWARGS:
            f = kwargs.get(kw)
            if isinstance(f, File):
                copy, rec[f"_{kw}_datafuture"], func = self._stage_out_one(rec, f, func, local_shared)
                kwargs[kw] = copy
        return func

    def _stage_out_one(self, rec, f, func, local_shared):
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
        return copy, DataFuture(stage_fut if stage_fut is not None else app_fu, f, tid=rec.id), func

    def _track_stage_out(self, stage_fut, app_fu):
        """Remember a separate stage-out transfer, so cleanup() lets it finish (nothing lost)."""
        if stage_fut is None:
            return
        pending = self._stage_outs
        pending[id(stage_fut)] = (stage_fut, app_fu)
        stage_fut.add_done_callback(lambda f, key=id(stage_fut): pending.pop(key, None))

    def _finish_stage_outs(self):
        # Only transfers whose app has finished: those are moving data now and end soon.
        # A stage-out still waiting for a running app is not waited for (that app may never end).
        for stage_fut, app_fu in list(self._stage_outs.values()):
            if app_fu.done() and not stage_fut.done():
                logger.info("cleanup: waiting for the stage-out of %r", stage_fut)
                try:
                    stage_fut.exception()
                except CancelledError:
                    pass

    # ------------------------------------------------------------------ launch
    def _dep_done(self, rec):
        with self._lock:
            rec.pending_deps -= 1
            ready = rec.pending_deps == 0
        if ready:
            self._schedule_launch(rec)

    def _schedule_launch(self, rec):
        tls = self._tls
        q = getattr(tls, "q", None)
        if q is not None:
            q.append(rec)
            return
        tls.q = q = deque((rec,))
        try:
            while q:
                self._launch(q.popleft())
        finally:
            tls.q = None

    def _launch(self, rec):
        fut = rec.app_fu
        with self._lock:
            if fut._state != PENDING or rec.exec_fu is not None:
                return  # cancelled, or already claimed
            rec.exec_fu = _CLAIMED
        if rec.depends:
            if not self._unwrap_dependencies(rec):
                return
        if rec.memoize and self.memoizer is not None:
            try:
                hit = self.memoizer.check_memo(rec)
            except Exception as e:
                rec.exec_fu = None
                self._handle_failure(rec, e)
                return
            if hit is not None:
                rec.from_memo = True
                if hit.done():
                    self._complete_from_memo(rec, hit)
                else:
                    hit.add_done_callback(lambda h, rec=rec: self._memo_wait_done(rec, h))
                return
        self._submit_to_executor(rec)

    def _submit_to_executor(self, rec):
        executor = self.executors[rec.executor]
        rec.try_time_launched = time.time()
        self._set_state(rec, States.launched)
        try:
            exec_fu = executor.submit(rec.func, rec.resource_specification, *rec.args, **rec.kwargs)
        except Exception as e:
            rec.exec_fu = None
            self._handle_failure(rec, e)
            return
        rec.exec_fu = exec_fu
        exec_fu.add_done_callback(rec_exec_done(self, rec))

    def _unwrap_dependencies(self, rec) -> bool:
        """Replace futures by their results; on failed dependencies fail the task. True = go on."""
        failures = None
        for d in rec.depends:
            if type(d) in _PLAIN_FUTURES and d._state == FINISHED:
                e = d._exception  # done: read without taking the future's lock
            elif d.cancelled():
                e = CancelledError(f"{describe_future(d)} was cancelled")
            else:
                e = d.exception()
            if e is not None:
                if failures is None:
                    failures = []
                failures.append((e, describe_future(d)))
        if failures:
            exc = DependencyError(failures, rec.id)
            rec.time_returned = time.time()
            self._set_state(rec, States.dep_fail)
            if logger.isEnabledFor(logging.INFO):
                logger.info("Task %s (%s) failed: %s", rec.id, rec.func_name, exc)
            rec.app_fu.set_exception(exc)
            self._finalize(rec)
            return False
        unwrap = _fast_unwrap if self._shallow else self._resolver.traverse_to_unwrap
        try:
            rec.args = tuple([unwrap(a) for a in rec.args])
            kwargs = rec.kwargs
            if kwargs:
                for k, v in kwargs.items():
                    if k == "inputs" and isinstance(v, (list, tuple)):
                        kwargs[k] = type(v)(unwrap(x) for x in v) if isinstance(v, tuple) else [unwrap(x) for x in v]
                    elif k not in _STD_KWARGS and k != "outputs":
                        kwargs[k] = unwrap(v)
        except Exception as e:
            # A resolver that cannot rebuild an argument (a set of unhashable results, a user
            # type's unwrap raising) fails this try; raised inside a dependency callback it
            # would be logged and the task would stay pending forever.
            if hasattr(e, "add_note"):
                e.add_note(f"(raised while the dependency resolver replaced futures by their results "
                           f"in the arguments of task {rec.id})")
            rec.exec_fu = None
            self._handle_failure(rec, e)
            return False
        rec.pending_deps = 0
        return True

    # ------------------------------------------------------------------ completion
    def _exec_done(self, rec, fut):
        rec.try_time_returned = time.time()
        if type(fut) in _PLAIN_FUTURES and fut._state == FINISHED:
            exc = fut._exception  # done: read without taking the future's lock
            result = fut._result
        elif fut.cancelled():
            self._finish_cancelled(rec)
            return
        else:
            exc = fut.exception()
            result = fut.result() if exc is None else None
        if exc is None:
            if type(result) is RemoteExceptionWrapper:
                self._handle_failure(rec, result.get_exception())
                return
            if rec.join:
                self._start_join(rec, result)
                return
            self._complete(rec, States.exec_done, result)
        else:
            self._handle_failure(rec, exc)

    def _complete(self, rec, state, result):
        rec.time_returned = time.time()
        self._set_state(rec, state)
        if rec.memoize and state is States.exec_done and self.memoizer is not None:
            try:
                self.memoizer.update_memo_result(rec, result)
            except Exception:
                logger.exception("memoizer failed to record the result of task %s", rec.id)
        rec.app_fu.set_result(result)
        self._finalize(rec)

    def _complete_from_memo(self, rec, hit):
        exc = hit.exception() if not hit.cancelled() else CancelledError()
        if exc is None:
            self._complete(rec, States.memo_done, hit.result())
        else:
            rec.time_returned = time.time()
            self._set_state(rec, States.failed)
            rec.app_fu.set_exception(exc)
            self._finalize(rec)

    def _memo_wait_done(self, rec, hit):
        # An identical task was in flight: take its result; if it failed, run this one ourselves.
        if not hit.cancelled() and hit.exception() is None:
            self._complete(rec, States.memo_done, hit.result())
        else:
            rec.from_memo = False
            self._submit_to_executor(rec)

    def _handle_failure(self, rec, e):
        rec.fail_count += 1
        rec.fail_history.append(repr(e))
        retries = self._retries
        handler = self._retry_handler
        if handler is not None:
            try:
                cost = handler(e, rec)
                if not isinstance(cost, numbers.Real):
                    # checked here: a bad cost raised later, in a callback, would hang the task
                    raise TypeError(f"retry_handler {getattr(handler, '__name__', handler)!r} returned "
                                    f"{cost!r} for task {rec.id}; it must return a number, the cost "
                                    f"of this failure against Config(retries={retries})") from e
            except Exception as handler_exc:
                logger.error("retry_handler raised for task %s; failing the task", rec.id, exc_info=True)
                rec.fail_cost = retries + 1
                e = handler_exc
            else:
                rec.fail_cost += cost
        else:
            rec.fail_cost += 1
        if rec.fail_cost <= retries and not isinstance(e, (DependencyError, JoinError)):
            logger.info("Task %s (%s) failed on try %s, retrying: %r", rec.id, rec.func_name, rec.try_id, e)
            self._set_state(rec, States.fail_retryable)
            rec.try_id += 1
            rec.try_time_launched = None
            rec.try_time_returned = None
            rec.exec_fu = None
            rec.from_memo = None
            self._set_state(rec, States.pending)
            self._schedule_launch(rec)
            return
        rec.time_returned = time.time()
        self._set_state(rec, States.failed)
        if logger.isEnabledFor(logging.INFO):
            logger.info("Task %s (%s) failed after %s tries: %r", rec.id, rec.func_name, rec.fail_count, e)
        if rec.memoize and self.memoizer is not None:
            try:
                self.memoizer.update_memo_exception(rec, e)
            except Exception:
                logger.exception("memoizer failed to record the failure of task %s", rec.id)
        rec.app_fu.set_exception(e)
        self._finalize(rec)

    def _finish_cancelled(self, rec):
        rec.time_returned = time.time()
        self._set_state(rec, States.failed)
        rec.app_fu._cancel_now()
        self._finalize(rec)

    def _finalize(self, rec):
        if self._gc:
            self.tasks.pop(rec.id, None)

    # ------------------------------------------------------------------ joins
    def _start_join(self, rec, inner):
        if isinstance(inner, Future):
            inner_futs = [inner]
        elif isinstance(inner, list) and all(isinstance(f, Future) for f in inner):
            inner_futs = inner
        else:
            rec.time_returned = time.time()
            self._set_state(rec, States.failed)
            exc = TypeError(f"join_app {rec.func_name} must return a Future or a list of Futures, "
                            f"not {type(inner).__name__}")
            rec.fail_count += 1
            rec.fail_history.append(repr(exc))
            rec.app_fu.set_exception(exc)
            self._finalize(rec)
            return
        self._set_state(rec, States.joining)
        rec.joins = inner
        if not inner_futs:
            self._join_done(rec)
            return
        rec.pending_deps = len(inner_futs)

        def one_done(_f, rec=rec):
            with self._lock:
                rec.pending_deps -= 1
                ready = rec.pending_deps == 0
            if ready:
                self._join_done(rec)
        for f in inner_futs:
            f.add_done_callback(one_done)

    def _join_done(self, rec):
        inner = rec.joins
        futs = [inner] if isinstance(inner, Future) else inner
        failures = []
        for f in futs:
            if f.cancelled():
                failures.append((CancelledError(), describe_future(f)))
            elif f.exception() is not None:
                failures.append((f.exception(), describe_future(f)))
        if failures:
            exc = JoinError(failures, rec.id)
            rec.fail_count += 1
            rec.fail_history.append(repr(exc))
            rec.time_returned = time.time()
            self._set_state(rec, States.failed)
            rec.app_fu.set_exception(exc)
            self._finalize(rec)
            return
        result = inner.result() if isinstance(inner, Future) else [f.result() for f in inner]
        self._complete(rec, States.exec_done, result)

    # ------------------------------------------------------------------ cancel
    def _cancel_task(self, rec) -> bool:
        with self._lock:
            ef = rec.exec_fu
            if ef is None and rec.status in (States.pending, None):
                rec.exec_fu = _CANCELLED
                claimed = True
            else:
                claimed = False
        if claimed:
            self._finish_cancelled(rec)
            return True
        if isinstance(ef, Future) and getattr(self.executors.get(rec.executor), "_chervil_cancellable", False):
            return ef.cancel() and rec.app_fu.cancelled()
        return False

    # ------------------------------------------------------------------ state
    def _set_state(self, rec, new):
        old = rec.status
        if new not in _LEGAL.get(old, ()):
            raise InternalConsistencyError(f"Task {rec.id}: illegal state change {old} -> {new}")
        rec.status = new
        counts = self.task_state_counts
        if old is not None:
            counts[old] -= 1
        counts[new] += 1
        events = self._task_events
        if events is not None:
            events((rec, new, _time(), rec.try_id, rec.fail_count, rec.exec_fu))
            return
        obs = self._observe
        if obs is not None:
            try:
                obs(rec, new)
            except Exception:
                logger.exception("monitoring failed to record a state change of task %s", rec.id)

    # ------------------------------------------------------------------ waiting and shutdown
    def wait_for_current_tasks(self) -> None:
        """Wait until every task submitted so far (and tasks they start) has finished."""
        logger.info("Waiting for all remaining tasks to complete")
        while True:
            try:
                pending = [r.app_fu for r in list(self.tasks.values()) if not r.app_fu.done()]
            except RuntimeError:  # the dict changed under us; look again
                continue
            if not pending:
                break
            for f in pending:
                try:
                    f.exception()
                except CancelledError:
                    pass
        logger.info("All tasks have completed")

    def log_task_states(self) -> None:
        counts = {s.name: n for s, n in self.task_state_counts.items() if n}
        logger.info("Summary of task states: %s", counts)

    def checkpoint(self, tasks=None):
        """Write a checkpoint now (``manual`` mode); returns the checkpoint directory."""
        if self.memoizer is None:
            raise ConfigurationError("Checkpointing needs a memoizer; this config has none")
        return self.memoizer.checkpoint() if tasks is None else self.memoizer.checkpoint(tasks)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        mode = self.config.exit_mode
        if mode == "skip":
            return False
        if mode == "wait" and exc_type is None:
            self.wait_for_current_tasks()
        self.cleanup()
        return False

    def cleanup(self) -> None:
        """Stop everything this workflow started. Safe to call any number of times."""
        with self._cleanup_lock:
            if self._closed:
                return
            self._closed = True
        logger.info("DFK cleanup initiated")
        _quietly(self._finish_stage_outs, "finishing stage-out transfers")
        self.log_task_states()
        if self.memoizer is not None:
            _quietly(self.memoizer.close, "closing the memoizer")
        if self.job_status_poller is not None:
            _quietly(self.job_status_poller.close, "closing the job status poller")
        for label, ex in reversed(list(self.executors.items())):
            if label == "_parsl_internal":
                continue
            _quietly(ex.shutdown, f"shutting down executor {label}")
        internal = self.executors.get("_parsl_internal")
        if internal is not None:
            _quietly(internal.shutdown, "shutting down the internal executor")
        for receiver in self._radio_receivers:
            _quietly(receiver.shutdown, "shutting down a monitoring radio")
        if self.monitoring is not None:
            _quietly(self.monitoring.close, "closing monitoring")
        atexit.unregister(self._atexit_cleanup)
        if DataFlowKernelLoader._dfk is self:
            DataFlowKernelLoader._dfk = None
        logger.info("DFK cleanup complete")
        if self._log_close is not None:
            self._log_close()
            self._log_close = None

    def _release_after_clear(self):
        """``parsl.clear()`` forgot this DFK: clean it up once its tasks are done.

        Parsl leaves the executors of a cleared DFK running (the tutorial leaks an
        interchange and workers per section). We clean up at once when nothing is
        outstanding, else from a reaper thread when the last task finishes.
        """
        if self._closed:
            return
        if not any(not r.app_fu.done() for r in list(self.tasks.values())):
            self.cleanup()
            return

        def reap():
            self.wait_for_current_tasks()
            self.cleanup()
        self._reaper = threading.Thread(target=reap, name="parsl-dfk-reaper", daemon=True)
        self._reaper.start()

    def _atexit_cleanup(self):
        if not self._closed:
            logger.warning("Python is exiting with a DataFlowKernel that was not cleaned up; cleaning up now")
            self.cleanup()


def rec_dep_done(dfk, rec):
    """The callback a task registers on each of its dependencies."""
    def dep_done(_fut):
        dfk._dep_done(rec)
    return dep_done


def rec_only_dep_done(dfk, rec):
    def only_dep_done(_fut):
        dfk._schedule_launch(rec)
    return only_dep_done


def rec_exec_done(dfk, rec):
    def exec_done(fut):
        dfk._exec_done(rec, fut)
    return exec_done


def describe_future(f) -> str:
    if isinstance(f, AppFuture):
        return f"task {f.task_record.id}"
    if isinstance(f, DataFuture):
        return f"DataFuture from task {f.tid}"
    return repr(f)


def _refuse_executors_in_use(executors, dfk):
    """An executor belongs to one live kernel at a time.

    Loading a Config whose executors another kernel still runs (after ``parsl.clear()`` with
    tasks outstanding, or the same Config given to two kernels) would let the first kernel's
    cleanup shut them down under the second.
    """
    busy = [ex.label for ex in executors
            if getattr(ex, "dfk", None) is not None and ex.dfk is not dfk
            and not getattr(ex.dfk, "_closed", True)]
    if busy:
        raise ConfigurationError(
            f"Executor(s) {busy} are already in use by another DataFlowKernel that has not been "
            "cleaned up: call cleanup() on that kernel (or wait for its tasks after parsl.clear()) "
            "before loading this Config again, or build a new Config with new executors")


def _quietly(fn, what):
    try:
        fn()
    except Exception:
        logger.exception("Error while %s", what)


class DataFlowKernelLoader:
    """Holds the currently loaded DataFlowKernel: Chervil's one global."""

    _dfk: Optional[DataFlowKernel] = None

    @classmethod
    def clear(cls) -> None:
        dfk = cls._dfk
        cls._dfk = None
        if dfk is not None:
            dfk._release_after_clear()

    @classmethod
    def load(cls, config: Optional[Config] = None) -> DataFlowKernel:
        if cls._dfk is not None:
            raise ConfigurationError("Config has already been loaded: call parsl.clear() (or "
                                     "parsl.dfk().cleanup()) before loading another one")
        cls._dfk = DataFlowKernel(config)
        return cls._dfk

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        cls.dfk().wait_for_current_tasks()

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        if cls._dfk is None:
            raise NoDataFlowKernelError("Must first load config: call parsl.load(config) before using apps")
        return cls._dfk
