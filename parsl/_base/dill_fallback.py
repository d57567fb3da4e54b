"""The last resort for values cloudpickle refuses: dill, when it is installed.

Parsl pickles everything with dill, which also handles some objects cloudpickle cannot:
locks (``threading.Lock``, so ``queue.Queue`` too), open files (reopened at the same path and
position on the other side), ``sys.stdout``.  A Parsl script that sends such a value to
an HTEX worker should keep working, so whatever crosses a process boundary is pickled by
cloudpickle (fast, and what almost everything takes) and, only when that fails, by dill.
dill is not a dependency: the fallback is there when the environment has it (every
environment that has Parsl does), and the error says how to get it otherwise.

The bytes are an ordinary pickle that refers to dill's own functions, so the reading side
needs nothing but dill installed: ``pickle.loads`` imports it.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

#: appended to the reason when cloudpickle failed and dill is not there to try
MISSING_HINT = ("dill, which Parsl uses and which can pickle some objects cloudpickle cannot "
                "(locks, queues, open files), is not installed: pip install dill")


def dill_dumps(obj: Any, protocol: int = 5) -> Optional[bytes]:
    """``obj`` pickled by dill; None when dill is not installed.  Raises what dill raises
    when it cannot pickle ``obj`` either."""
    try:
        import dill  # type: ignore[import-untyped]  # deferred, optional: only after cloudpickle failed
    except ImportError:
        return None
    data: bytes = dill.dumps(obj, protocol=protocol)
    return data


def try_dill(first: BaseException, obj: Any, protocol: int = 5) -> Tuple[Optional[bytes], str]:
    """After cloudpickle failed with ``first``: ``(dill's bytes, "")``, or ``(None, the
    reason for the user)`` naming both failures, or the missing dill."""
    try:
        data = dill_dumps(obj, protocol)
    except Exception as e:
        return None, f"{first!r} (dill could not pickle it either: {e!r})"
    if data is None:
        return None, f"{first!r}; {MISSING_HINT}"
    return data, ""
