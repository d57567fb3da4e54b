"""The cyclic garbage collector's thresholds while a workflow is loaded.

With CPython's defaults (700, 10, 10) a workflow holding many task futures pays for full
collections that scan every live object again and again: at 1,000,000 no-op tasks they
took half of the run (measured: 12.8 s of 25 s), and the cost per task doubled from
10,000 to 1,000,000 tasks.  While a DataFlowKernel is loaded, Chervil raises the
thresholds to ``WORKFLOW_THRESHOLDS``: young collections run every 50,000 allocations
instead of 700, and a full collection is considered only every 10,000,000 (still also
bounded by CPython's own rule of 25% growth), so collections stay off the task path.
Cyclic garbage still goes: reference cycles among young objects are collected at the
next young collection, as before, only later.

Only the defaults are changed: a program that set its own thresholds keeps them.
``PARSL_GC_THRESHOLDS=python`` keeps CPython's defaults; ``PARSL_GC_THRESHOLDS=a,b,c``
uses those.  The thresholds in force before are restored when the last kernel is
cleaned up (unless the program changed them meanwhile).
"""
from __future__ import annotations

import gc
import logging
import os
import threading
from typing import Optional, Tuple

logger = logging.getLogger(__name__)

WORKFLOW_THRESHOLDS: Tuple[int, int, int] = (50_000, 5, 40)
PYTHON_DEFAULTS: Tuple[int, int, int] = (700, 10, 10)
ENV = "PARSL_GC_THRESHOLDS"

_lock = threading.Lock()
_users = 0
_saved: Optional[Tuple[int, ...]] = None
_applied: Optional[Tuple[int, ...]] = None


def wanted_thresholds() -> Optional[Tuple[int, int, int]]:
    """The thresholds to apply, or None to leave the collector alone (from ``PARSL_GC_THRESHOLDS``)."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return WORKFLOW_THRESHOLDS
    if text.lower() in ("python", "default", "off", "none"):
        return None
    try:
        a, b, c = (int(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"{ENV}={text!r}: expected 'python' or three integers 'gen0,gen1,gen2' "
                         f"(Chervil's default is {','.join(map(str, WORKFLOW_THRESHOLDS))})") from None
    return (a, b, c)


def acquire() -> None:
    """A kernel starts: apply the workflow thresholds if the collector still has CPython's defaults."""
    global _users, _saved, _applied
    wanted = wanted_thresholds()
    with _lock:
        _users += 1
        if _users > 1 or wanted is None:
            return
        current = gc.get_threshold()
        if current != PYTHON_DEFAULTS and not os.environ.get(ENV):
            return          # the program tuned them itself
        _saved = current
        gc.set_threshold(*wanted)
        _applied = gc.get_threshold()
        logger.debug("garbage collector thresholds %s -> %s while the workflow runs", current, _applied)


def release() -> None:
    """A kernel was cleaned up: the last one restores the thresholds it found."""
    global _users, _saved, _applied
    with _lock:
        if _users == 0:
            return
        _users -= 1
        if _users or _saved is None:
            return
        if gc.get_threshold() == _applied:
            gc.set_threshold(*_saved)
        _saved = _applied = None
