"""Scaling strategies (re-exported at Parsl's import path ``parsl.jobs.strategy``).

``Strategy(strategy=..., max_idletime=...)`` keeps the policy's memory for each
executor and, on ``strategize(executors)``, reads each executor into a snapshot,
asks the pure policy (``parsl._scaling.policy.decide``) what to do and does it.
Strategies: ``'none'`` (only ``init_blocks``), ``'simple'`` (grow with load,
shrink to ``min_blocks`` after ``max_idletime`` of idleness) and
``'htex_auto_scale'`` (also shrink idle blocks while partly loaded).
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from parsl._base.errors import ConfigurationError
from parsl._scaling.policy import STRATEGIES, Decision, PolicyMemory, decide
from parsl._scaling.snapshot import ScalableExecutor, status_of, take_snapshot

logger = logging.getLogger(__name__)


def normalize_strategy(strategy: Optional[str]) -> str:
    if strategy is None:
        warnings.warn("strategy=None is deprecated: use strategy='none'", DeprecationWarning, stacklevel=3)
        return "none"
    if strategy not in STRATEGIES:
        raise ConfigurationError(f"strategy={strategy!r} is not a scaling strategy: "
                                 f"use one of {', '.join(repr(s) for s in STRATEGIES)}")
    return strategy


class Strategy:
    def __init__(self, *, strategy: Optional[str] = "simple", max_idletime: float = 120.0,
                 clock: Callable[[], float] = time.monotonic):
        self.strategy = normalize_strategy(strategy)
        if max_idletime is None or max_idletime < 0:
            raise ConfigurationError(f"max_idletime={max_idletime!r}: give a number of seconds >= 0")
        self.max_idletime = float(max_idletime)
        self._clock = clock
        self._memory: Dict[int, PolicyMemory] = {}

    def add_executors(self, executors: Iterable[ScalableExecutor]) -> None:
        for ex in executors:
            self._memory.setdefault(id(ex), PolicyMemory())

    def strategize(self, executors: Iterable[ScalableExecutor]) -> List[Tuple[ScalableExecutor, Decision]]:
        """One pass over ``executors``; returns the decisions that were applied."""
        applied = []
        for ex in executors:
            if getattr(ex, "bad_state_is_set", False):   # optional (see ScalableExecutor)
                continue
            memory = self._memory.get(id(ex), PolicyMemory())
            snap = take_snapshot(ex, status_of(ex))
            decision, self._memory[id(ex)] = decide(snap, memory, self._clock(), self.strategy, self.max_idletime)
            if decision.is_noop:
                continue
            logger.info("Scaling %s: %s%s (%s)", ex.label,
                        f"+{decision.scale_out}" if decision.scale_out else "",
                        f"-{decision.scale_in}" if decision.scale_in else "", decision.reason)
            apply_decision(ex, decision)
            applied.append((ex, decision))
        return applied


def apply_decision(executor: ScalableExecutor, decision: Decision) -> None:
    if decision.scale_out:
        executor.scale_out_facade(decision.scale_out)
    if decision.scale_in:
        if decision.scale_in_max_idletime is not None:
            executor.scale_in_facade(decision.scale_in, max_idletime=decision.scale_in_max_idletime)
        else:
            executor.scale_in_facade(decision.scale_in)
