"""App caching (memoization) and checkpointing: the ``Memoizer`` interface and ``BasicMemoizer``.

Public at ``parsl.dataflow.memoization``, with ``id_for_memo`` (extend with
``@id_for_memo.register(T)``), ``make_hash`` and ``explain`` (why a call was not a cache hit).
Keys are computed in ``parsl._core.memo``, miss explanations in ``parsl._core.memo_explain``,
checkpoint files in ``parsl._core.checkpoint``.

How Chervil differs from Parsl, on purpose (see docs/checkpoint-format.md):
  * the key covers the app's body (normalised: comments, formatting and the docstring do not
    count), so editing an app recomputes it, as the tutorial says;
  * ``File`` arguments work, keyed by content (outputs by name);
  * two identical calls in flight at once run once (if the first fails, the others run);
  * every miss of a ``cache=True`` app records why in ``task_record['memo_miss_reason']``;
  * checkpoints are an append-only, checksummed log that a crash cannot truncate, and with a
    checkpoint mode set and no ``checkpoint_files``, earlier runs' checkpoints are loaded.
"""
from __future__ import annotations

import logging
import os
import threading
from abc import ABC, abstractmethod
from concurrent.futures import Future
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from parsl._base.errors import ConfigurationError
from parsl._base.futures import LightFuture as _Future
from parsl._core import memo as _memo
from parsl._core.checkpoint import (
    CHECKPOINT_DIRNAME,
    CheckpointWriter,
    get_all_checkpoints,
    load_checkpoint_set,
    parse_period,
)
from parsl._core.logs import TRACE as _TRACE
from parsl._core.memo_explain import Manifest, MemoIndex, MissReason, describe_call
from parsl._core.parsl_format import parsl_key
from parsl._core.task import TaskRecord

logger = logging.getLogger("parsl.dataflow.memoization")

CHECKPOINT_MODES = (None, "task_exit", "periodic", "dfk_exit", "manual")

# How long the task_exit writer lets completions accumulate before one write + fsync.
# It bounds what a SIGKILL can lose, and is short enough that nobody waits on it.
TASK_EXIT_FLUSH_DELAY = 0.05


def make_hash(task: TaskRecord) -> str:
    """The cache key (hex) of a task record: name and body of the function, arguments
    minus ``ignore_for_cache``, ``outputs`` by name, input files by content."""
    return _memo.compute_key(task.func, task.func_name, task.args, task.kwargs,
                             task.ignore_for_cache)


def explain(obj: Any) -> Optional[MissReason]:
    """Why an app call was not a cache hit. Takes an AppFuture or a task record.

    None if it was a hit (or waited for an identical call), or if caching was not asked for.
    """
    rec = getattr(obj, "task_record", None) or obj   # an AppFuture, or the record itself
    reason: Optional[MissReason] = rec["memo_miss_reason"]
    return reason


def _done(value: Any) -> Future[Any]:
    fut = _Future()
    fut.set_result(value)
    return fut


def _failed(exception: BaseException) -> Future[Any]:
    fut = _Future()
    fut.set_exception(exception)
    return fut


class Memoizer(ABC):
    """What the DataFlowKernel needs from a memoizer (Parsl's plugin interface)."""

    def start(self, *, dfk: Any = None, run_dir: str, config_run_dir: Optional[str] = None) -> None:
        """Called once when a DataFlowKernel loads this config."""

    @abstractmethod
    def check_memo(self, task: TaskRecord) -> Optional[Future[Any]]:
        """At launch: a done Future is a cache hit; a pending one means "wait for the identical
        call already running"; None means run the task. Sets ``task.hashsum``."""

    @abstractmethod
    def update_memo_result(self, task: TaskRecord, result: Any) -> None:
        """A task with ``memoize=True`` succeeded."""

    @abstractmethod
    def update_memo_exception(self, task: TaskRecord, exception: BaseException) -> None:
        """A task with ``memoize=True`` failed."""

    def checkpoint(self, tasks: Optional[Iterable[TaskRecord]] = None) -> Optional[str]:
        """Write pending results now; returns the checkpoint directory (or None)."""
        return None

    def close(self) -> None:
        """Called at DataFlowKernel cleanup; idempotent."""


class _InFlight:
    """The first of several identical calls running at the same time, and who waits for it."""

    __slots__ = ("task_id", "waiters")

    def __init__(self, task_id: int) -> None:
        self.task_id = task_id
        self.waiters: List[Future[Any]] = []


class BasicMemoizer(Memoizer):
    """In-memory cache of ``cache=True`` app results, with optional checkpoint files.

    ``checkpoint_mode``: None, ``'task_exit'`` (each result is recorded within ~50 ms of its
    task finishing), ``'periodic'`` (every ``checkpoint_period`` "HH:MM:SS"), ``'dfk_exit'``
    (at cleanup) or ``'manual'`` (``dfk.checkpoint()``, and at cleanup).
    ``checkpoint_files``: checkpoint directories to load (e.g. ``get_all_checkpoints()``);
    if None and a mode is set, every earlier run's checkpoint under the config's run_dir.
    ``memoize=False`` turns caching off for every app (legacy ``Config(app_cache=False)``).
    """

    def __init__(self, *, checkpoint_files: Union[None, str, os.PathLike[str], Sequence[str]] = None,
                 checkpoint_period: Optional[str] = None, checkpoint_mode: Optional[str] = None,
                 memoize: bool = True) -> None:
        if checkpoint_mode not in CHECKPOINT_MODES:
            raise ConfigurationError(
                f"checkpoint_mode={checkpoint_mode!r} is not a checkpoint mode; use one of "
                f"{', '.join(repr(m) for m in CHECKPOINT_MODES)}")
        self.period_s: Optional[float] = None
        if checkpoint_mode == "periodic" or checkpoint_period is not None:
            if checkpoint_period is None:
                raise ConfigurationError(
                    "checkpoint_mode='periodic' needs checkpoint_period='HH:MM:SS', e.g. '00:30:00'")
            try:
                self.period_s = parse_period(checkpoint_period)
            except ValueError as e:
                raise ConfigurationError(f"{e}; use e.g. checkpoint_period='00:30:00'") from None
        if isinstance(checkpoint_files, (str, os.PathLike)):
            checkpoint_files = [os.fspath(checkpoint_files)]
        self.checkpoint_files: Optional[List[str]] = (list(checkpoint_files) if checkpoint_files is not None
                                                      else None)
        self.checkpoint_period = checkpoint_period
        self.checkpoint_mode = checkpoint_mode
        self.memoize = bool(memoize)
        self._reset()

    def __repr__(self) -> str:
        return (f"BasicMemoizer(checkpoint_files={self.checkpoint_files!r}, "
                f"checkpoint_period={self.checkpoint_period!r}, "
                f"checkpoint_mode={self.checkpoint_mode!r}, memoize={self.memoize!r})")

    def _reset(self) -> None:
        self.run_dir: Optional[str] = None
        self.loaded = 0                                   # results loaded from checkpoints
        self._results: Dict[str, Any] = {}                # key -> result (dict ops are GIL-atomic)
        # Results from checkpoints written by reference Parsl, by Parsl's key, and the pickle
        # protocols those keys were made with. Empty unless such a checkpoint was loaded.
        self._parsl_results: Dict[str, Any] = {}
        self._parsl_protocols: List[int] = []
        self._failures: Dict[str, BaseException] = {}     # key -> exception, for this run only
        self._lock = threading.Lock()                     # guards the three below
        self._in_flight: Dict[str, _InFlight] = {}
        self._manifests: Dict[str, Manifest] = {}         # of in-flight leaders, by key
        self._index = MemoIndex()
        self._writer: Optional[CheckpointWriter] = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, *, dfk: Any = None, run_dir: str, config_run_dir: Optional[str] = None) -> None:
        self._reset()  # a Config (and so its memoizer) may be loaded again after cleanup
        self.run_dir = run_dir
        if not self.memoize:
            return
        mode = self.checkpoint_mode
        files = self.checkpoint_files
        automatic = files is None and mode is not None and config_run_dir is not None
        if automatic and config_run_dir is not None:
            mine = os.path.abspath(os.path.join(run_dir, CHECKPOINT_DIRNAME))
            files = [d for d in get_all_checkpoints(config_run_dir) if d != mine]
        if files:
            loaded = load_checkpoint_set(files, skip_empty_dirs=automatic)
            self._results.update(loaded.results)
            for data, origin in loaded.manifests:
                self._index.add_encoded(data, origin)
            self._parsl_results = loaded.parsl_results
            self._parsl_protocols = loaded.parsl_protocols
            self.loaded = len(loaded.results) + len(loaded.parsl_results)
            logger.info("Loaded %d cached results from %d checkpoint(s)", self.loaded, len(files))
            if loaded.parsl_results:
                logger.info("%d of them were written by reference Parsl: calls that miss are also "
                            "looked up by Parsl's cache key", len(loaded.parsl_results))
        # Without a mode, results still queue for an explicit dfk.checkpoint() (as in Parsl);
        # only a mode writes on its own and at close.
        delay = {"task_exit": TASK_EXIT_FLUSH_DELAY, "periodic": self.period_s}.get(mode or "")
        self._writer = CheckpointWriter(os.path.join(run_dir, CHECKPOINT_DIRNAME), delay=delay,
                                        flush_at_close=mode is not None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        w = self._writer
        if w is not None:
            w.close()  # the final checkpoint of every mode
        with self._lock:
            stranded = [f for entry in self._in_flight.values() for f in entry.waiters]
            self._in_flight.clear()
        for f in stranded:
            # The DFK runs a waiting task itself when the call it waited on fails.
            if not f.done():
                f.set_exception(RuntimeError("the identical task this task waited for never finished"))

    # -- the per-task path -------------------------------------------------------------
    def check_memo(self, task: TaskRecord) -> Optional[Future[Any]]:
        if not self.memoize or not task.memoize:
            task.hashsum = None
            return None
        key = _memo.compute_key(task.func, task.func_name, task.args, task.kwargs,
                                task.ignore_for_cache)
        task.hashsum = key
        results = self._results
        if key in results:
            return _done(results[key])
        if self._parsl_results:
            hit = self._parsl_hit(task, key)
            if hit is not None:
                return hit
        with self._lock:
            if key in results:  # it completed while we took the lock
                return _done(results[key])
            failure = self._failures.get(key)
            if failure is not None:
                # As Parsl: a failed call fails again, with the very same exception object,
                # for the rest of the run (failures are never checkpointed).
                return _failed(failure)
            entry = self._in_flight.get(key)
            if entry is not None and entry.task_id != task.id:
                waiter: Future[Any] = _Future()
                entry.waiters.append(waiter)
                logger.debug("Task %s waits for identical task %s (cache key %s)",
                             task.id, entry.task_id, key)
                return waiter
            if entry is None:  # (else: this is a retry of the leader itself)
                self._in_flight[key] = _InFlight(task.id)
            reason = self._explain_locked(task, key)
        task.memo_miss_reason = reason
        if reason is not None:
            if reason.kind in (MissReason.FUNCTION_CHANGED, MissReason.INPUT_FILES_CHANGED):
                logger.info("Task %s (%s) not served from cache: %s", task.id, task.func_name, reason)
            elif logger.isEnabledFor(_TRACE):
                # Everyday misses (new arguments) are per-task chatter: TRACE, not the DEBUG
                # file log, which would cost more than the whole task. The reason stays on the
                # task record (task_record['memo_miss_reason']) either way.
                logger.log(_TRACE, "Task %s (%s) not served from cache: %s", task.id, task.func_name, reason)
        return None

    def _parsl_hit(self, task: TaskRecord, key: str) -> Optional[Future[Any]]:
        """A result from a Parsl-written checkpoint for this call, found by Parsl's key."""
        for protocol in self._parsl_protocols:
            pkey = parsl_key(task.func, task.args, task.kwargs, task.ignore_for_cache, protocol)
            if pkey is not None and pkey in self._parsl_results:
                result = self._parsl_results[pkey]
                # From now on this call hits by Chervil's key; and it goes into this run's
                # checkpoint, so later runs find it without the Parsl file.
                self._results[key] = result
                w = self._writer
                if w is not None:
                    w.add(key, b"", result)
                logger.debug("Task %s served from a Parsl checkpoint (Parsl key %s)", task.id, pkey)
                return _done(result)
        return None

    def _explain_locked(self, task: TaskRecord, key: str) -> Optional[MissReason]:
        try:
            manifest = describe_call(task.func, task.func_name, task.args,
                                           task.kwargs, task.ignore_for_cache)
        except Exception:  # the key succeeded, so this should not fail; never fail a task over it
            logger.debug("Could not describe task %s for miss explanations", task.id, exc_info=True)
            return None
        # Kept until the task ends: then it goes into the index and the checkpoint record.
        self._manifests[key] = manifest
        return self._index.explain(manifest)

    def update_memo_result(self, task: TaskRecord, result: Any) -> None:
        key = task.hashsum
        if key is None or not self.memoize:
            return
        self._results[key] = result
        if self._failures:
            self._failures.pop(key, None)
        waiters: Sequence[Future[Any]] = ()
        manifest = None
        with self._lock:
            entry = self._in_flight.pop(key, None)
            if entry is not None:
                waiters = entry.waiters
            manifest = self._manifests.pop(key, None)
            if manifest is not None:
                self._index.add(manifest, f"task {task['id']}")
        w = self._writer
        if w is not None and not task.from_memo:
            w.add(key, manifest.encode() if manifest is not None else b"", result)
        for f in waiters:
            f.set_result(result)

    def update_memo_exception(self, task: TaskRecord, exception: BaseException) -> None:
        # The failure is replayed to later identical calls for the rest of the run (as in
        # Parsl; never checkpointed). Calls that waited for this one are told it failed; the
        # DFK then runs each of them itself, as Parsl would have run them.
        key = task.hashsum
        if key is None or not self.memoize:
            return
        with self._lock:
            if key not in self._results:
                self._failures[key] = exception
            entry = self._in_flight.get(key)
            if entry is None or entry.task_id != task.id:
                return
            del self._in_flight[key]
            self._manifests.pop(key, None)
            waiters = entry.waiters
        for f in waiters:
            f.set_exception(exception)

    def checkpoint(self, tasks: Optional[Iterable[TaskRecord]] = None) -> Optional[str]:
        """Write every result not yet written; returns the checkpoint directory.

        ``tasks`` is accepted for compatibility with Parsl's ``dfk.checkpoint(tasks)``; all
        queued results are written either way.
        """
        w = self._writer
        if w is None:
            if self.run_dir is None:
                return None     # not started: no run directory to write in
            # memoize=False: nothing is cached, but the call still leaves a (loadable, empty)
            # checkpoint where Parsl's users look for it, as Parsl does.
            w = self._writer = CheckpointWriter(os.path.join(self.run_dir, CHECKPOINT_DIRNAME),
                                                flush_at_close=False)
        w.flush(create=True)
        return w.dir

    # -- introspection -----------------------------------------------------------------
    @property
    def checkpointed_tasks(self) -> int:
        """Results written to this run's checkpoint so far (as Parsl's attribute): only what
        reached the file, never what a failed write left queued."""
        w = self._writer
        return w.records_written if w is not None else 0

    def cached(self, key: str) -> bool:
        return key in self._results

    def __len__(self) -> int:
        return len(self._results)


Memoizer.__module__ = "parsl.dataflow.memoization"
BasicMemoizer.__module__ = "parsl.dataflow.memoization"
