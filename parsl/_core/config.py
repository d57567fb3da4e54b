"""``Config``: what a workflow runs on and how (public at ``parsl.config``).

Both generations of Parsl's API are accepted: today's (``memoizer=``, ``usage_tracking=0..3``)
and the tutorial era's (``app_cache``, ``checkpoint_mode``, ``checkpoint_files``,
``checkpoint_period``, ``lazy_errors``, ``data_management_max_threads``). Values are checked
here, once, with messages that name the field and the fix: a value of the wrong type raises
``ConfigurationTypeError`` (a ``ConfigurationError`` and a ``TypeError``, as Parsl's type
checking raises a ``TypeError``), a value of the right type that is not allowed raises
``ConfigurationError``.

The four tutorial-era caching fields are properties: set on an existing ``Config`` before
``parsl.load`` (the 1.0 docs' ``config.checkpoint_mode = 'task_exit'``), each is validated as
at construction and rebuilds the default memoizer the kernel will use.
"""
from __future__ import annotations

import os
import re
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from parsl._base.errors import ConfigurationError, ConfigurationTypeError
from parsl._core.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER, DependencyResolver
from parsl._core.memoizer import CHECKPOINT_MODES, BasicMemoizer, Memoizer
from parsl._executors.base import ParslExecutor
from parsl._executors.threads import ThreadPoolExecutor

_STRATEGIES = ("simple", "htex_auto_scale", "none")
_EXIT_MODES = ("cleanup", "skip", "wait")
_PERIOD_RE = re.compile(r"^\d+:[0-5]?\d:[0-5]?\d$")
_DEFAULT_PERIOD = "00:30:00"  # the tutorial-era default of periodic checkpoints
_UNSET: Any = object()


def _bad(field: str, value: Any, fix: str) -> ConfigurationError:
    return ConfigurationError(f"Config({field}={value!r}) is invalid: {fix}")


def _bad_type(field: str, value: Any, fix: str) -> ConfigurationTypeError:
    return ConfigurationTypeError(f"Config({field}={value!r}) is invalid: {fix}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_executors(executors: Any) -> Tuple[ParslExecutor, ...]:
    if executors is None:
        executors = []
    if isinstance(executors, ParslExecutor) or isinstance(executors, (str, bytes)):
        raise _bad_type("executors", executors,
                        "give a list of executors, e.g. executors=[ThreadPoolExecutor()]")
    try:
        executors = list(executors)
    except TypeError:
        raise _bad_type("executors", executors,
                        "give a list of executors, e.g. executors=[ThreadPoolExecutor()]") from None
    for e in executors:
        if not isinstance(e, ParslExecutor):
            raise _bad_type("executors", e, "every entry must be an executor such as ThreadPoolExecutor() "
                                            "or HighThroughputExecutor()")
    if not executors:
        executors = [ThreadPoolExecutor()]
    labels = [e.label for e in executors]
    dups = sorted({lbl for lbl in labels if labels.count(lbl) > 1})
    if dups:
        raise ConfigurationError(f"Executors must have unique labels; duplicated: {dups}. "
                                 "Give each executor its own label=...")
    if "_parsl_internal" in labels:
        raise ConfigurationError(
            "The executor label '_parsl_internal' is reserved for the kernel; pick another label")
    return tuple(executors)


def _check_seconds(field: str, value: Any, zero_ok: bool) -> None:
    bound = ">= 0" if zero_ok else "> 0"
    if not _is_number(value):
        raise _bad_type(field, value, f"{field} is a number of seconds {bound}")
    if value < 0 or (value == 0 and not zero_ok):
        raise _bad(field, value, f"{field} is a number of seconds {bound}")


def _check_callable(field: str, value: Any, fix: str) -> None:
    if value is not None and not callable(value):
        raise _bad_type(field, value, fix)


def _check_usage_tracking(value: Any) -> int:
    if isinstance(value, bool):
        return 1 if value else 0
    if not isinstance(value, int):
        raise _bad_type("usage_tracking", value,
                        "usage_tracking is an int from 0 to 3 (Chervil never sends anything)")
    if not 0 <= value <= 3:
        raise _bad("usage_tracking", value,
                   "usage_tracking is an int from 0 to 3 (Chervil never sends anything)")
    return value


def _check_run_dir(value: Any) -> str:
    if not isinstance(value, str):
        try:
            value = os.fspath(value)
        except TypeError:
            raise _bad_type("run_dir", value, "run_dir is a directory path") from None
        if not isinstance(value, str):
            raise _bad_type("run_dir", value, "run_dir is a directory path (a str)")
    if not value:
        raise _bad("run_dir", value, "run_dir is a directory path")
    return value


def _check_checkpoint_mode(value: Any) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise _bad_type("checkpoint_mode", value, f"use one of {list(CHECKPOINT_MODES)}")
    if value not in CHECKPOINT_MODES:
        raise _bad("checkpoint_mode", value, f"use one of {list(CHECKPOINT_MODES)}")
    return value


def _check_checkpoint_period(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad_type("checkpoint_period", value, 'use "HH:MM:SS", e.g. "00:10:00"')
    if not _PERIOD_RE.match(value):
        raise _bad("checkpoint_period", value, 'use "HH:MM:SS", e.g. "00:10:00"')
    return value


def _check_checkpoint_files(value: Any) -> Optional[List[str]]:
    if value is None:
        return None
    fix = "give a list of checkpoint directories, e.g. get_all_checkpoints()"
    if isinstance(value, (str, bytes, os.PathLike)):
        raise _bad_type("checkpoint_files", value, fix)
    try:
        return list(value)
    except TypeError:
        raise _bad_type("checkpoint_files", value, fix) from None


class Config:
    # set through the properties below
    """What a workflow runs on and how: executors, retries, caching and checkpoints, elasticity,
    monitoring. Pass it to ``parsl.load(config)``.

    Every value is checked here: a wrong type raises ``ConfigurationTypeError`` and a bad value
    ``ConfigurationError``, each naming the field and the fix.

    Args:
        executors: where apps run; default ``[ThreadPoolExecutor()]``. Labels must be unique.
        app_cache: tutorial era: allow ``cache=True`` apps to be cached (default ``True``).
            Today's spelling: ``memoizer=BasicMemoizer(memoize=...)``.
        checkpoint_files: tutorial era: checkpoint directories or files to load cached results
            from, e.g. ``get_all_checkpoints()``. ``None`` with a ``checkpoint_mode`` loads every
            earlier checkpoint under ``run_dir`` (automatic resume); ``[]`` loads none.
        checkpoint_mode: tutorial era: when successful cached results are written:
            ``"task_exit"``, ``"periodic"``, ``"dfk_exit"``, ``"manual"`` or ``None`` (only when
            ``dfk.checkpoint()`` is called).
        checkpoint_period: tutorial era: ``"HH:MM:SS"`` between checkpoints in ``"periodic"`` mode.
        dependency_resolver: which argument structures are searched for futures (default: the
            arguments themselves and ``inputs=``, not nested containers).
        exit_mode: what leaving ``with parsl.load(config):`` does: ``"cleanup"`` (default),
            ``"skip"`` (leave it running), or ``"wait"`` (wait for every task, then clean up).
        garbage_collect: forget a task's record once its future is done (saves memory in long runs).
        internal_tasks_max_threads: threads for join apps and data staging.
        retries: how many times a failed task is tried again (default 0).
        retry_handler: a function ``(exception, task_record) -> float`` giving the cost of a
            failure; a task is retried while its summed costs stay within ``retries``.
        run_dir: the directory of run directories (``runinfo``): each ``load`` makes ``NNN/`` in it
            with ``parsl.log``, batch scripts and worker logs.
        std_autopath: a function ``(task_record, "stdout"|"stderr") -> path`` giving bash apps
            stdout/stderr files when the call names none.
        strategy: how blocks follow the load: ``"simple"`` (scale out and in), ``"htex_auto_scale"``
            (also scale in idle blocks one by one), ``"none"`` (only ``init_blocks``).
        strategy_period: seconds between two passes of the strategy.
        max_idletime: seconds an executor stays idle before its extra blocks are released.
        monitoring: a ``MonitoringHub`` to record the run in a database (default: none).
        usage_tracking: accepted (0-3 or a bool) for compatibility; Chervil never sends anything.
        project_name: a label stored with the run.
        initialize_logging: write ``parsl.log`` in the run directory (default ``True``).
        memoizer: today's way to configure caching and checkpoints, e.g.
            ``BasicMemoizer(checkpoint_mode="task_exit")``; not with the four tutorial-era fields.
        lazy_errors: tutorial era, no effect (warns).
        data_management_max_threads: tutorial era, no effect (warns).
        seed: tutorial era, no effect (warns).

    Example::

        Config(executors=[HighThroughputExecutor(provider=LocalProvider())],
               retries=2, checkpoint_mode="task_exit", monitoring=MonitoringHub())
    """

    _app_cache: bool
    _checkpoint_files: Optional[List[str]]
    _checkpoint_mode: Optional[str]
    _checkpoint_period: Optional[str]
    _memoizer: Memoizer
    _legacy_memo: bool      # the memoizer is the one built from the four fields above

    def __init__(self,
                 executors: Optional[Iterable[ParslExecutor]] = None,
                 app_cache: bool = _UNSET,
                 checkpoint_files: Optional[Sequence[str]] = _UNSET,
                 checkpoint_mode: Optional[str] = _UNSET,
                 checkpoint_period: Optional[str] = _UNSET,
                 dependency_resolver: Optional[DependencyResolver] = None,
                 exit_mode: str = "cleanup",
                 garbage_collect: bool = True,
                 internal_tasks_max_threads: int = 10,
                 retries: int = 0,
                 retry_handler: Optional[Callable[..., Any]] = None,
                 run_dir: str = "runinfo",
                 std_autopath: Optional[Callable[..., Any]] = None,
                 strategy: Optional[str] = "simple",
                 strategy_period: float = 5,
                 max_idletime: float = 120.0,
                 monitoring: Any = None,
                 usage_tracking: Any = 0,
                 project_name: Optional[str] = None,
                 initialize_logging: Any = True,
                 memoizer: Optional[Memoizer] = None,
                 # tutorial-era parameters that no longer do anything
                 lazy_errors: bool = _UNSET,
                 data_management_max_threads: int = _UNSET,
                 seed: Any = _UNSET,
                 ) -> None:
        self._executors = _check_executors(executors)

        if not _is_int(retries):
            raise _bad_type("retries", retries, "retries must be an int >= 0")
        if retries < 0:
            raise _bad("retries", retries, "retries must be an int >= 0")
        _check_callable("retry_handler", retry_handler, "give a function (exception, task_record) -> cost")
        if strategy is None:
            warnings.warn("Config(strategy=None) is deprecated; use strategy='none'", DeprecationWarning, stacklevel=2)
            strategy = "none"
        if not isinstance(strategy, str):
            raise _bad_type("strategy", strategy, f"use one of {list(_STRATEGIES)}")
        if strategy not in _STRATEGIES:
            raise _bad("strategy", strategy, f"use one of {list(_STRATEGIES)}")
        _check_seconds("strategy_period", strategy_period, zero_ok=False)
        _check_seconds("max_idletime", max_idletime, zero_ok=True)
        if exit_mode not in _EXIT_MODES:
            # a Literal type in Parsl, so a TypeError there too
            raise _bad_type("exit_mode", exit_mode, f"use one of {list(_EXIT_MODES)}")
        if not isinstance(garbage_collect, bool):
            raise _bad_type("garbage_collect", garbage_collect, "garbage_collect is True or False")
        usage_tracking = _check_usage_tracking(usage_tracking)
        if project_name is not None and not isinstance(project_name, str):
            raise _bad_type("project_name", project_name, "project_name is a str (or None)")
        if not _is_int(internal_tasks_max_threads):
            raise _bad_type("internal_tasks_max_threads", internal_tasks_max_threads, "an int >= 1")
        if internal_tasks_max_threads < 1:
            raise _bad("internal_tasks_max_threads", internal_tasks_max_threads, "an int >= 1")
        run_dir = _check_run_dir(run_dir)
        _check_callable("std_autopath", std_autopath, "give a function (task_record, 'stdout'|'stderr') -> path")
        if not (isinstance(initialize_logging, bool) or hasattr(initialize_logging, "initialize_logging")):
            raise _bad_type("initialize_logging", initialize_logging, "use True, False or a LogConfig instance")

        legacy_given = {k: v for k, v in (("app_cache", app_cache), ("checkpoint_files", checkpoint_files),
                                          ("checkpoint_mode", checkpoint_mode),
                                          ("checkpoint_period", checkpoint_period)) if v is not _UNSET}
        if memoizer is not None and legacy_given:
            raise ConfigurationError(
                f"Config got both memoizer= and the legacy {sorted(legacy_given)}: configure caching "
                "and checkpointing in one place, e.g. memoizer=BasicMemoizer(checkpoint_mode=...)")
        if memoizer is not None and not isinstance(memoizer, Memoizer):
            raise _bad_type("memoizer", memoizer, "give a parsl.dataflow.memoization.Memoizer, e.g. BasicMemoizer()")
        # The legacy fields are set without building a memoizer each time; one is built below.
        self._building = True
        self._checkpoint_period = None
        self.app_cache = True if app_cache is _UNSET else app_cache
        self.checkpoint_files = None if checkpoint_files is _UNSET else checkpoint_files
        self.checkpoint_period = None if checkpoint_period is _UNSET else checkpoint_period
        self.checkpoint_mode = None if checkpoint_mode is _UNSET else checkpoint_mode
        self._building = False
        if lazy_errors is not _UNSET or data_management_max_threads is not _UNSET or seed is not _UNSET:
            warnings.warn("Config(lazy_errors=, data_management_max_threads=, seed=) are tutorial-era "
                          "parameters with no effect in Chervil", DeprecationWarning, stacklevel=2)
        self.lazy_errors = True if lazy_errors is _UNSET else lazy_errors
        self.data_management_max_threads = 10 if data_management_max_threads is _UNSET else data_management_max_threads

        self._legacy_memo = memoizer is None
        self._memoizer: Memoizer = self._legacy_memoizer() if memoizer is None else memoizer

        if dependency_resolver is None:
            dependency_resolver = SHALLOW_DEPENDENCY_RESOLVER
        self.dependency_resolver = dependency_resolver
        self.exit_mode = exit_mode
        self.garbage_collect = garbage_collect
        self.internal_tasks_max_threads = internal_tasks_max_threads
        self.retries = retries
        self.retry_handler = retry_handler
        self.run_dir = run_dir
        self.std_autopath = std_autopath
        self.strategy = strategy
        self.strategy_period = strategy_period
        self.max_idletime = max_idletime
        self.monitoring = monitoring
        self.usage_tracking = usage_tracking
        self.project_name = project_name
        self.initialize_logging = initialize_logging

    # -- caching and checkpointing: the memoizer, and the tutorial-era fields it is built from

    def _legacy_memoizer(self) -> Memoizer:
        return BasicMemoizer(checkpoint_files=self._checkpoint_files, checkpoint_period=self._checkpoint_period,
                             checkpoint_mode=self._checkpoint_mode, memoize=self._app_cache)

    def _set_legacy(self, field: str, value: Any, period: Optional[str] = _UNSET) -> None:
        """Set a tutorial-era field (and, for periodic mode, the default period) and rebuild
        the default memoizer from the four of them; on a refusal nothing changes."""
        saved = (getattr(self, "_" + field, None), getattr(self, "_checkpoint_period", None))
        setattr(self, "_" + field, value)
        if period is not _UNSET:
            self._checkpoint_period = period
        if self._building:
            return
        try:
            if not self._legacy_memo:
                raise ConfigurationError(
                    f"Config.{field} cannot be set on a Config given memoizer=: configure caching and "
                    "checkpointing in one place, e.g. memoizer=BasicMemoizer(checkpoint_mode=...)")
            self._memoizer = self._legacy_memoizer()
        except ConfigurationError:
            setattr(self, "_" + field, saved[0])
            self._checkpoint_period = saved[1]
            raise

    @property
    def memoizer(self) -> Memoizer:
        return self._memoizer

    @memoizer.setter
    def memoizer(self, value: Memoizer) -> None:
        if not isinstance(value, Memoizer):
            raise _bad_type("memoizer", value, "give a parsl.dataflow.memoization.Memoizer, e.g. BasicMemoizer()")
        self._memoizer = value
        self._legacy_memo = False

    @property
    def app_cache(self) -> bool:
        return self._app_cache

    @app_cache.setter
    def app_cache(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise _bad_type("app_cache", value, "app_cache is True or False")
        self._set_legacy("app_cache", value)

    @property
    def checkpoint_mode(self) -> Optional[str]:
        return self._checkpoint_mode

    @checkpoint_mode.setter
    def checkpoint_mode(self, value: Optional[str]) -> None:
        mode = _check_checkpoint_mode(value)
        if mode == "periodic" and self._checkpoint_period is None:
            self._set_legacy("checkpoint_mode", mode, period=_DEFAULT_PERIOD)
        else:
            self._set_legacy("checkpoint_mode", mode)

    @property
    def checkpoint_period(self) -> Optional[str]:
        return self._checkpoint_period

    @checkpoint_period.setter
    def checkpoint_period(self, value: Optional[str]) -> None:
        self._set_legacy("checkpoint_period", _check_checkpoint_period(value))

    @property
    def checkpoint_files(self) -> Optional[List[str]]:
        return self._checkpoint_files

    @checkpoint_files.setter
    def checkpoint_files(self, value: Optional[Sequence[str]]) -> None:
        self._set_legacy("checkpoint_files", _check_checkpoint_files(value))

    @property
    def executors(self) -> Tuple[ParslExecutor, ...]:
        return self._executors

    @executors.setter
    def executors(self, value: Iterable[ParslExecutor]) -> None:
        self._executors = tuple(value)

    def __repr__(self) -> str:
        shown = ["executors", "retries", "run_dir", "strategy", "checkpoint_mode", "monitoring"]
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in shown)
        return f"Config({args})"

    def get_usage_information(self) -> Dict[str, Any]:
        return {"executors_len": len(self.executors), "dependency_resolver": self.dependency_resolver is not None}


Config.__module__ = "parsl.config"
