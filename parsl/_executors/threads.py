"""``ThreadPoolExecutor``: runs apps on threads of the submitting process."""
from __future__ import annotations

import logging
import threading
import time
from queue import SimpleQueue
from typing import Any, Callable, Dict, List, Optional, Tuple

from parsl._base.errors import ConfigurationError, InvalidResourceSpecification
from parsl._base.futures import LightFuture
from parsl._executors.base import ParslExecutor

logger = logging.getLogger(__name__)

_STOP = None  # sentinel put on the queue once per thread at shutdown
_WorkItem = Tuple[LightFuture, Callable[..., Any], Tuple[Any, ...], Dict[str, Any]]


class ThreadPoolExecutor(ParslExecutor):
    """Run apps on a pool of threads in this process: no start-up cost, no pickling.

    The right executor for apps that wait (I/O, subprocesses, bash apps) or release the GIL, and
    for trying things out. Threads start on demand, up to ``max_threads``; ``shutdown()`` lets
    queued work finish, then joins them.

    Args:
        label: the executor's name, used by ``@python_app(executors=[label])``.
        max_threads: the most threads running apps at once.
        thread_name_prefix: prefix of the threads' names (seen in debuggers and logs).
        storage_access: staging providers for ``File`` arguments (default: local, HTTP(S), FTP).
        working_dir: where staged files go; default: the current directory.
        remote_monitoring_radio: accepted for compatibility (threads report directly).

    Example::

        Config(executors=[ThreadPoolExecutor(label="threads", max_threads=8)])
    """

    runs_in_process = True
    cancels_queued_tasks = True

    def __init__(self, label: str = "threads", max_threads: Optional[int] = 2,
                 thread_name_prefix: str = "", storage_access: Optional[List[Any]] = None,
                 working_dir: Optional[str] = None, remote_monitoring_radio: Any = None) -> None:
        if not isinstance(label, str) or not label:
            raise ConfigurationError(f"ThreadPoolExecutor label must be a non-empty str, got {label!r}")
        if max_threads is None:
            max_threads = 2
        if not isinstance(max_threads, int) or isinstance(max_threads, bool) or max_threads < 1:
            raise ConfigurationError(
                f"ThreadPoolExecutor(max_threads={max_threads!r}): max_threads must be an int >= 1")
        self.label = label
        self.max_threads = max_threads
        self.thread_name_prefix = thread_name_prefix or ""
        self.storage_access = storage_access
        self.working_dir = working_dir
        self.remote_monitoring_radio = remote_monitoring_radio
        self._queue: SimpleQueue[Optional[_WorkItem]] = SimpleQueue()
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False

    def start(self) -> None:
        # A Config may be loaded again once its kernel is cleaned up (notebooks re-run the
        # cell that loads it): start afresh, as Parsl's thread pool does. Threads of the old
        # run drain their own queue and exit on its stop sentinels.
        with self._lock:
            if self._shutdown:
                self._queue = SimpleQueue()
                self._threads = []
                self._shutdown = False

    def submit(self, func: Callable[..., Any], resource_specification: Dict[str, Any], *args: Any,
               **kwargs: Any) -> LightFuture:
        if resource_specification:
            raise InvalidResourceSpecification(
                set(resource_specification),
                f"ThreadPoolExecutor {self.label} does not support resource specifications "
                f"(got {sorted(resource_specification)}); run the app on a HighThroughputExecutor")
        if self._shutdown:
            raise RuntimeError(f"ThreadPoolExecutor {self.label} has been shut down")
        fut = LightFuture()
        self._queue.put((fut, func, args, kwargs))
        if len(self._threads) < self.max_threads:
            self._spawn()
        return fut

    def _spawn(self) -> None:
        with self._lock:
            if self._shutdown or len(self._threads) >= self.max_threads:
                return
            n = len(self._threads)
            name = f"{self.thread_name_prefix or self.label}-{n}"
            t = threading.Thread(target=self._work, name=name, daemon=True)
            self._threads.append(t)
        t.start()

    def _work(self) -> None:
        get = self._queue.get
        while True:
            item = get()
            if item is _STOP:
                return
            fut, func, args, kwargs = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                result = func(*args, **kwargs)
            except BaseException as e:
                fut.set_exception(e)
            else:
                fut.set_result(result)
            del item, fut, func, args, kwargs

    def shutdown(self, block: bool = True, timeout: Optional[float] = None) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(_STOP)
        if block:
            deadline = None if timeout is None else time.monotonic() + timeout
            for t in threads:
                if t is threading.current_thread():
                    continue
                t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def monitor_resources(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ThreadPoolExecutor(label={self.label!r}, max_threads={self.max_threads})"


ThreadPoolExecutor.__module__ = "parsl.executors.threads"
