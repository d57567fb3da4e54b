"""The executor interface every Chervil executor implements (Parsl's ``ParslExecutor``).

The DataFlowKernel sets ``run_dir``, ``run_id`` and ``monitoring_messages`` (a callable
sink for monitoring events, or None) before calling ``start()``; it then calls
``submit(func, resource_specification, *args, **kwargs)`` for each ready task and
``shutdown()`` once at cleanup.  ``submit`` returns a ``concurrent.futures.Future``
whose result or exception is the task's.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Literal, Optional


class ParslExecutor(metaclass=ABCMeta):
    label: str = "undefined"
    run_dir: str = "."
    run_id: Optional[str] = None
    #: Callable ``(message_type, dict)`` set by the DFK when monitoring is on, else None.
    monitoring_messages: Optional[Callable[[Any, Dict[str, Any]], Any]] = None
    remote_monitoring_radio: Any = None
    #: The DataFlowKernel that owns this executor (set before ``start``).
    dfk: Any = None
    storage_access: Optional[List[Any]] = None
    working_dir: Optional[str] = None
    #: True for executors that run tasks in this process (threads): monitoring then reads
    #: their tries' start and end from the kernel instead of waiting for worker reports.
    runs_in_process: bool = False
    #: True when ``Future.cancel()`` on a future this executor returned withdraws a task
    #: that has not started (the thread pool's queued calls); the DFK then offers
    #: ``AppFuture.cancel()`` for launched tasks too.
    cancels_queued_tasks: bool = False

    def __enter__(self) -> ParslExecutor:
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self.shutdown()
        return False

    @abstractmethod
    def start(self) -> None:
        """Start the executor (threads, processes, connections)."""

    @abstractmethod
    def submit(self, func: Callable[..., Any], resource_specification: Dict[str, Any], *args: Any,
               **kwargs: Any) -> Future[Any]:
        """Run ``func(*args, **kwargs)`` and return a Future for its outcome."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop everything this executor started.  Must be idempotent and quick."""

    def monitor_resources(self) -> bool:
        """Whether resource monitoring should be done for tasks of this executor."""
        return True

    @property
    def hub_address(self) -> Optional[str]:
        return None

    @property
    def hub_zmq_port(self) -> Optional[int]:
        return None

    def get_usage_information(self) -> Dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} label={self.label!r}>"


ParslExecutor.__module__ = "parsl.executors.base"
