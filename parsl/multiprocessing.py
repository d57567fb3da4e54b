"""Process and queue helpers with an explicit start method (Parsl's names).

"spawn" starts a fresh interpreter: safe from a process that runs threads (the DFK, the
HTEX interchange, the monitoring router all do), where a fork would copy locks held by
other threads."""
from __future__ import annotations

import multiprocessing
import multiprocessing.queues

SpawnContext = multiprocessing.get_context("spawn")
ForkContext = multiprocessing.get_context("fork")

SpawnProcess = SpawnContext.Process
ForkProcess = ForkContext.Process


def SpawnQueue(maxsize: int = 0) -> multiprocessing.queues.Queue:
    """A queue that can be handed to spawned processes."""
    return SpawnContext.Queue(maxsize)


def SpawnEvent():
    return SpawnContext.Event()


def join_terminate_close_proc(process, *, timeout: float = 30) -> None:
    """Wait for a process to end, terminate (then kill) it if it does not, and release it:
    afterwards ``process.exitcode`` raises ValueError, as for any closed process."""
    process.join(timeout)
    if process.is_alive():
        process.terminate()
        process.join(5)
    if process.is_alive():
        process.kill()
        process.join()
    process.close()
