"""``Config``: what a workflow runs on and how (public at ``parsl.config``).

Both generations of Parsl's API are accepted: today's (``memoizer=``, ``usage_tracking=0..3``)
and the tutorial era's (``app_cache``, ``checkpoint_mode``, ``checkpoint_files``,
``checkpoint_period``, ``lazy_errors``, ``data_management_max_threads``). Values are checked
here, once, with messages that name the field and the fix.
"""
from __future__ import annotations

import os
import re
import warnings
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Tuple

from parsl._base.errors import ConfigurationError
from parsl._core.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER, DependencyResolver
from parsl._core.memoizer import CHECKPOINT_MODES, BasicMemoizer, Memoizer
from parsl._executors.base import ParslExecutor
from parsl._executors.threads import ThreadPoolExecutor

_STRATEGIES = ("simple", "htex_auto_scale", "none")
_EXIT_MODES = ("cleanup", "skip", "wait")
_PERIOD_RE = re.compile(r"^\d+:[0-5]?\d:[0-5]?\d$")
_UNSET: Any = object()


def _bad(field: str, value: Any, fix: str) -> ConfigurationError:
    return ConfigurationError(f"Config({field}={value!r}) is invalid: {fix}")


class Config:
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
        if executors is None:
            executors = []
        if isinstance(executors, ParslExecutor):
            raise _bad("executors", executors, "give a list of executors, e.g. executors=[ThreadPoolExecutor()]")
        executors = list(executors)
        for e in executors:
            if not isinstance(e, ParslExecutor):
                raise _bad("executors", e, "every entry must be an executor such as ThreadPoolExecutor() "
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
        self._executors = tuple(executors)

        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise _bad("retries", retries, "retries must be an int >= 0")
        if retry_handler is not None and not callable(retry_handler):
            raise _bad("retry_handler", retry_handler, "give a function (exception, task_record) -> cost")
        if strategy is None:
            warnings.warn("Config(strategy=None) is deprecated; use strategy='none'", DeprecationWarning, stacklevel=2)
            strategy = "none"
        if strategy not in _STRATEGIES:
            raise _bad("strategy", strategy, f"use one of {list(_STRATEGIES)}")
        if not isinstance(strategy_period, (int, float)) or isinstance(strategy_period, bool) or strategy_period <= 0:
            raise _bad("strategy_period", strategy_period, "strategy_period is a number of seconds > 0")
        if not isinstance(max_idletime, (int, float)) or isinstance(max_idletime, bool) or max_idletime < 0:
            raise _bad("max_idletime", max_idletime, "max_idletime is a number of seconds >= 0")
        if exit_mode not in _EXIT_MODES:
            raise _bad("exit_mode", exit_mode, f"use one of {list(_EXIT_MODES)}")
        if isinstance(usage_tracking, bool):
            usage_tracking = 1 if usage_tracking else 0
        if not isinstance(usage_tracking, int) or not 0 <= usage_tracking <= 3:
            raise _bad("usage_tracking", usage_tracking,
                       "usage_tracking is an int from 0 to 3 (Chervil never sends anything)")
        if not isinstance(internal_tasks_max_threads, int) or internal_tasks_max_threads < 1:
            raise _bad("internal_tasks_max_threads", internal_tasks_max_threads, "an int >= 1")
        if not isinstance(run_dir, str) or not run_dir:
            try:
                run_dir = os.fspath(run_dir)
            except TypeError:
                raise _bad("run_dir", run_dir, "run_dir is a directory path") from None
        if std_autopath is not None and not callable(std_autopath):
            raise _bad("std_autopath", std_autopath, "give a function (task_record, 'stdout'|'stderr') -> path")
        if not (isinstance(initialize_logging, bool) or hasattr(initialize_logging, "initialize_logging")):
            raise _bad("initialize_logging", initialize_logging, "use True, False or a LogConfig instance")

        legacy_given = {k: v for k, v in (("app_cache", app_cache), ("checkpoint_files", checkpoint_files),
                                          ("checkpoint_mode", checkpoint_mode),
                                          ("checkpoint_period", checkpoint_period)) if v is not _UNSET}
        if memoizer is not None and legacy_given:
            raise ConfigurationError(
                f"Config got both memoizer= and the legacy {sorted(legacy_given)}: configure caching "
                "and checkpointing in one place, e.g. memoizer=BasicMemoizer(checkpoint_mode=...)")
        app_cache = True if app_cache is _UNSET else app_cache
        checkpoint_files = None if checkpoint_files is _UNSET else checkpoint_files
        checkpoint_mode = None if checkpoint_mode is _UNSET else checkpoint_mode
        checkpoint_period = None if checkpoint_period is _UNSET else checkpoint_period
        if checkpoint_mode not in CHECKPOINT_MODES:
            raise _bad("checkpoint_mode", checkpoint_mode, f"use one of {list(CHECKPOINT_MODES)}")
        if checkpoint_mode == "periodic" and checkpoint_period is None:
            checkpoint_period = "00:30:00"  # the tutorial-era default
        if checkpoint_period is not None and not (isinstance(checkpoint_period, str)
                                                  and _PERIOD_RE.match(checkpoint_period)):
            raise _bad("checkpoint_period", checkpoint_period, 'use "HH:MM:SS", e.g. "00:10:00"')
        if checkpoint_files is not None and isinstance(checkpoint_files, (str, bytes)):
            raise _bad("checkpoint_files", checkpoint_files,
                       "give a list of checkpoint directories, e.g. get_all_checkpoints()")
        self.app_cache = app_cache
        self.checkpoint_files = checkpoint_files
        self.checkpoint_mode = checkpoint_mode
        self.checkpoint_period = checkpoint_period
        if lazy_errors is not _UNSET or data_management_max_threads is not _UNSET or seed is not _UNSET:
            warnings.warn("Config(lazy_errors=, data_management_max_threads=, seed=) are tutorial-era "
                          "parameters with no effect in Chervil", DeprecationWarning, stacklevel=2)
        self.lazy_errors = True if lazy_errors is _UNSET else lazy_errors
        self.data_management_max_threads = 10 if data_management_max_threads is _UNSET else data_management_max_threads

        if memoizer is None:
            memoizer = self._legacy_memoizer()
        self.memoizer = memoizer

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

    def _legacy_memoizer(self) -> Memoizer:
        return BasicMemoizer(checkpoint_files=self.checkpoint_files, checkpoint_period=self.checkpoint_period,
                             checkpoint_mode=self.checkpoint_mode, memoize=self.app_cache)

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
