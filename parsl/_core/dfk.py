"""The DataFlowKernel: owns one workflow run's services, and the loader of the current one.

The kernel starts, in order: the run directory and its log, the memoizer, monitoring, the
job status poller, then the executors (the config's and the internal thread pool). Cleanup
stops them in reverse order and is idempotent. The per-task path (submit, launch,
complete) is ``parsl._core.launch.TaskEngine``, a base class of the kernel; argument
scanning and the data manager hookup are ``parsl._core.arguments``.

Public at ``parsl.dataflow.dflow`` (and ``parsl.DataFlowKernel``).
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any, Callable, Dict, Iterable, List, Literal, Optional, Tuple, Type, cast

from parsl._base.errors import ConfigurationError
from parsl._base.monitoring_sink import MonitoringHubBase, TryObserver
from parsl._base.task_states import States
from parsl._core import gcpolicy, registry
from parsl._core.arguments import DataStager
from parsl._core.config import Config
from parsl._core.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER
from parsl._core.launch import TaskEngine
from parsl._core.logs import set_file_logger
from parsl._core.rundirs import make_rundir
from parsl._core.task import AppFuture, StateEvent, TaskRecord
from parsl._executors.base import ParslExecutor
from parsl._executors.blocks import BlockProviderExecutor
from parsl._executors.threads import ThreadPoolExecutor
from parsl._scaling.poller import JobStatusPoller
from parsl._staging.manager import DataManager

# The staging side's class, seen through the interface the kernel uses.
_make_data_manager: Callable[[Any], DataStager] = DataManager

logger = logging.getLogger("parsl.dataflow.dflow")

INTERNAL_LABEL = "_parsl_internal"

# The frames _find_workflow_name looks past: the kernel's own, and these file names.
_PARSL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SKIPPED_NAMES = ("dflow.py", "typeguard.py", "__init__.py", "config.py")


class DataFlowKernel(TaskEngine):
    """Owns the task graph of one workflow run and every executor in its config."""

    def __init__(self, config: Optional[Config] = None) -> None:
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeError(f"DataFlowKernel needs a parsl.config.Config, got {type(config).__name__}")
        _refuse_executors_in_use(config.executors, self)
        self.config: Config = config
        self._closed = False
        self._cleanup_lock = threading.Lock()
        self._lock = threading.Lock()
        self._tls = threading.local()
        self.time_began = time.time()
        self.run_dir = make_rundir(config.run_dir)
        self.run_id = str(uuid.uuid4())
        self._log_close: Optional[Callable[[], None]] = None
        if config.initialize_logging is True:
            self._log_close = set_file_logger(os.path.join(self.run_dir, "parsl.log"), name="parsl",
                                              level=logging.DEBUG)
        elif config.initialize_logging not in (False, None):
            self._log_close = config.initialize_logging.initialize_logging(self.run_dir, "parsl.log")
        logger.info("Chervil DataFlowKernel starting: run_id %s, run_dir %s", self.run_id, self.run_dir)
        logger.debug("Config: %r", config)

        self.tasks: Dict[int, TaskRecord] = {}
        self._stage_outs: Dict[int, Tuple[Future[Any], AppFuture]] = {}
        self._next_id = 0
        self.task_state_counts: Dict[States, int] = {s: 0 for s in States}
        self._retries = config.retries
        self._retry_handler = config.retry_handler
        self._gc = config.garbage_collect
        self._resolver = config.dependency_resolver
        self._shallow = self._resolver is SHALLOW_DEPENDENCY_RESOLVER
        self.executors: Dict[str, Any] = {}
        self._user_labels: Tuple[str, ...] = ()
        self.memoizer = config.memoizer
        self.monitoring: Any = config.monitoring
        self._observe: Optional[Callable[[TaskRecord, States], None]] = None
        self._task_events: Optional[Callable[[StateEvent], None]] = None
        self._try_observer: Optional[TryObserver] = None
        self.job_status_poller: Optional[JobStatusPoller] = None
        self._reaper: Optional[threading.Thread] = None
        self.workflow_name = self._find_workflow_name()
        self.workflow_version = (getattr(self.monitoring, "workflow_version", None)
                                 or time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time_began)))
        self.data_manager = _make_data_manager(self)
        gcpolicy.acquire()      # collections off the task path while loaded (gcpolicy.py)
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
    def _start_services(self) -> None:
        config = self.config
        if self.memoizer is not None:
            self.memoizer.start(dfk=self, run_dir=self.run_dir, config_run_dir=config.run_dir)
        if self.monitoring is not None:
            self.monitoring.start(self)
            if isinstance(self.monitoring, MonitoringHubBase):
                # Chervil's hub takes state changes as one list.extend of a fixed-layout
                # event (three per task: no Python-level call on the task's path).
                self._task_events = self.monitoring.task_event_writer()
                self._try_observer = self.monitoring.try_observer()
            else:   # a hub of another make: Parsl's per-change call
                self._observe = self.monitoring.task_state_changed
        self.job_status_poller = JobStatusPoller(strategy=config.strategy,
                                                 strategy_period=config.strategy_period,
                                                 max_idletime=config.max_idletime)
        internal = ThreadPoolExecutor(label=INTERNAL_LABEL, max_threads=config.internal_tasks_max_threads)
        self.add_executors(list(config.executors) + [internal])

    def _find_workflow_name(self) -> str:
        name = getattr(self.monitoring, "workflow_name", None)
        if name:
            return str(name)
        f = sys._getframe(1)
        while f is not None:
            path = f.f_code.co_filename
            base = os.path.basename(path)
            if (base not in _SKIPPED_NAMES and not path.startswith("<frozen")
                    and not path.startswith(_PARSL_DIR + os.sep)):
                return base
            f = f.f_back  # type: ignore[assignment]  # None ends the walk
        return "unnamed"

    def add_executors(self, executors: Iterable[ParslExecutor]) -> None:
        """Start executors and make them available to apps (also after load)."""
        executors = list(executors)
        _refuse_executors_in_use(executors, self)
        started: List[ParslExecutor] = []
        try:
            for ex in executors:
                if ex.label in self.executors:
                    raise ConfigurationError(f"An executor labelled {ex.label!r} is already loaded")
                ex.run_id = self.run_id
                ex.run_dir = self.run_dir
                ex.dfk = self  # the base class declares it None until set
                if isinstance(self.monitoring, MonitoringHubBase):
                    self.monitoring.attach_executor(ex)    # its sink, and its radio's receiver
                elif self.monitoring is not None:
                    ex.monitoring_messages = self.monitoring.send
                provider = getattr(ex, "provider", None)  # third-party executors may have one too
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
        self._user_labels = tuple(lbl for lbl in self.executors if lbl != INTERNAL_LABEL)
        block_executors = [ex for ex in started if isinstance(ex, BlockProviderExecutor)]
        if block_executors and self.job_status_poller is not None:
            self.job_status_poller.add_executors(block_executors)

    # ------------------------------------------------------------------ reporting
    def log_task_states(self) -> None:
        counts = {s.name: n for s, n in self.task_state_counts.items() if n}
        logger.info("Summary of task states: %s", counts)

    def checkpoint(self, tasks: Optional[Iterable[TaskRecord]] = None) -> Optional[str]:
        """Write a checkpoint now (``manual`` mode); returns the checkpoint directory."""
        if self.memoizer is None:
            raise ConfigurationError("Checkpointing needs a memoizer; this config has none")
        return self.memoizer.checkpoint() if tasks is None else self.memoizer.checkpoint(tasks)

    # ------------------------------------------------------------------ shutdown
    def __enter__(self) -> DataFlowKernel:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Any) -> Literal[False]:
        mode = self.config.exit_mode
        if mode == "skip":
            return False
        if mode == "wait" and exc_type is None:
            self.wait_for_current_tasks()
        self.cleanup()
        return False

    def cleanup(self) -> None:
        """Stop everything this workflow started, in the reverse order of start-up.
        Safe to call any number of times."""
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
            if label == INTERNAL_LABEL:
                continue
            _quietly(ex.shutdown, f"shutting down executor {label}")
        internal = self.executors.get(INTERNAL_LABEL)
        if internal is not None:
            _quietly(internal.shutdown, "shutting down the internal executor")
        if self.monitoring is not None:
            _quietly(self.monitoring.close, "closing monitoring")
        atexit.unregister(self._atexit_cleanup)
        gcpolicy.release()
        registry.forget(self)
        logger.info("DFK cleanup complete")
        if self._log_close is not None:
            self._log_close()
            self._log_close = None

    def release_after_clear(self) -> None:
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

        def reap() -> None:
            self.wait_for_current_tasks()
            self.cleanup()
        self._reaper = threading.Thread(target=reap, name="parsl-dfk-reaper", daemon=True)
        self._reaper.start()

    def _atexit_cleanup(self) -> None:
        if not self._closed:
            logger.warning("Python is exiting with a DataFlowKernel that was not cleaned up; cleaning up now")
            self.cleanup()


def _refuse_executors_in_use(executors: Iterable[ParslExecutor], dfk: DataFlowKernel) -> None:
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


def _quietly(fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except Exception:
        logger.exception("Error while %s", what)


class _LoaderType(type):
    # Parsl's tests and ours read and reset ``DataFlowKernelLoader._dfk``: it reads and
    # writes the registry.
    @property
    def _dfk(cls) -> Optional[DataFlowKernel]:
        return cast(Optional[DataFlowKernel], registry.current)

    @_dfk.setter
    def _dfk(cls, value: Optional[DataFlowKernel]) -> None:
        registry.replace(value)


class DataFlowKernelLoader(metaclass=_LoaderType):
    """The currently loaded DataFlowKernel (Parsl's class-level singleton), kept in
    ``parsl._core.registry``."""

    @classmethod
    def clear(cls) -> None:
        registry.clear()

    @classmethod
    def load(cls, config: Optional[Config] = None) -> DataFlowKernel:
        return registry.install(lambda: DataFlowKernel(config))

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        registry.wait_for_current_tasks()

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        return cast(DataFlowKernel, registry.dfk())


DataFlowKernel.__module__ = "parsl.dataflow.dflow"
DataFlowKernelLoader.__module__ = "parsl.dataflow.dflow"
