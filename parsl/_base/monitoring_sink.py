"""The two seams between the workflow and monitoring, named by both sides.

* ``MonitoringSink``: what an executor hands monitoring data to (``executor.monitoring_messages``).
  Chervil's hub gives executors one (``parsl._monitoring.router.QueueSink``); a plain
  callable ``(message_type, payload)`` set there instead (Parsl's form: a third-party hub,
  or a test) is wrapped by ``parsl._sampling.adapter.as_sink``, which opens the packed
  records into Parsl's messages for it.
* ``MonitoringHubBase``: what the DataFlowKernel calls on ``Config.monitoring``
  (``parsl.monitoring.MonitoringHub`` implements it).  A hub of another make is driven
  through Parsl's ``task_state_changed``/``send`` instead.

The byte layouts named here (``worker_batch``, ``task_ends``) are defined in
``parsl._sampling.records``; this module only names the calls.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Dict, Optional, Tuple

#: One task state change as the kernel reports it: ``(task_record, new_state, epoch_seconds,
#: try_id, fail_count, exec_fu)``.  ``try_id``, ``fail_count`` and ``exec_fu`` are taken at
#: the change (the kernel goes on mutating the record: a retry replaces them).
TaskEvent = Tuple[Any, Any, float, int, int, Any]


class MonitoringSink(ABC):
    """Where an executor sends monitoring data.  Every method is thread-safe, cheap and
    never blocks on the database (the data is queued)."""

    __slots__ = ()

    def sampling_interval(self) -> Optional[float]:
        """Seconds between a running task's resource samples in an executor's workers;
        None: workers report only each task's start and end."""
        return None

    @abstractmethod
    def send(self, message_type: Any, payload: Dict[str, Any]) -> None:
        """One Parsl message: a ``MessageType`` and a dict of the columns it fills."""

    @abstractmethod
    def worker_batch(self, executor_label: str, data: bytes) -> None:
        """Framed worker messages (``records.join_frames`` of ``records.encode_message``),
        as an executor's workers sent them; ``data`` is not opened by the caller."""

    @abstractmethod
    def task_ends(self, executor_label: str, data: bytes) -> None:
        """Packed end-of-task records (``records.TASK_END``, back to back)."""

    def __call__(self, message_type: Any, payload: Dict[str, Any]) -> None:
        """Parsl's form of ``executor.monitoring_messages``: a callable."""
        self.send(message_type, payload)


class TryObserver(ABC):
    """Told about tries by the kernel, in the kernel's thread, at the moment they happen
    (before a retry can start), so what it records belongs to that try alone.  Every
    method is quick and never raises."""

    @abstractmethod
    def try_started(self, rec: Any) -> None:
        """A try of a task that names ``stdout``/``stderr`` is about to be submitted."""

    @abstractmethod
    def try_returned(self, rec: Any) -> None:
        """That try's executor future completed (its output files are final)."""

    @abstractmethod
    def try_failed(self, rec: Any, exc: BaseException) -> None:
        """A try of any task failed with ``exc`` (``rec.try_id`` is still that try's)."""


class MonitoringHubBase(ABC):
    """What the DataFlowKernel calls on ``Config.monitoring``, in this order:
    ``start(dfk)``; ``task_event_writer()`` once; ``attach_executor(ex)`` for every executor
    before it starts; then, after every executor has shut down, ``close()``."""

    @abstractmethod
    def start(self, dfk: Any) -> None:
        """Open the store; called once, after the run directory exists."""

    @abstractmethod
    def task_event_writer(self) -> Callable[[TaskEvent], None]:
        """The callable the kernel passes every ``TaskEvent`` to (valid after ``start``).
        Chervil's is a bound ``list.extend``: no Python-level frame per state change."""

    def try_observer(self) -> Optional[TryObserver]:
        """What records each try's output and failure (see ``TryObserver``); None (the
        default): nothing is recorded.  Called once, after ``start``."""
        return None

    @abstractmethod
    def attach_executor(self, executor: Any) -> None:
        """Set ``executor.monitoring_messages`` to this hub's ``MonitoringSink`` and start
        the receiver of the executor's ``remote_monitoring_radio`` if it has one (the hub
        owns it and shuts it down in ``close``)."""

    @abstractmethod
    def close(self) -> None:
        """Write what is queued and stop (idempotent); radio receivers first."""
