"""The seam through which a python app's ``walltime`` ends a task its ``AppTimeout`` cannot.

The timeout raises ``AppTimeout`` inside the app's thread, which only takes effect when the
thread next runs Python code: an app blocked in C code or a system call (``time.sleep``, a
socket read, a long NumPy call that releases the GIL) would run on to its end, and the task
would fail only then (Parsl's behaviour, its users' issue #1118).  A process that can give
up on its running task (an HTEX worker: it is one task's process, and the manager replaces
it) sets ``abandon_running_task``; the timeout calls it, from its timer thread, when the
app has not returned a grace period after the ``AppTimeout``.  The call reports the given
exception as the task's outcome and ends the process (it returns only if no task is
running).  Where nothing set it (a thread-pool executor: the app runs in the user's
process), the app runs on.
"""
from __future__ import annotations

from typing import Callable, Optional

#: set by the process running the app when it can abandon the task; see the module's text
abandon_running_task: Optional[Callable[[BaseException], None]] = None


def grace_s(walltime: float) -> float:
    """How long after its ``AppTimeout`` an app has to return before it is abandoned: time
    to run an ``except``/``finally`` that cleans up, never under 1 s or over 30 s."""
    return min(max(1.0, 0.1 * walltime), 30.0)
