"""The radio interfaces (Parsl's names)."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Optional


class MonitoringRadioReceiver(metaclass=ABCMeta):
    @abstractmethod
    def shutdown(self) -> None:
        """Stop receiving; whatever already arrived has been put on the queue."""


class MonitoringRadioSender(metaclass=ABCMeta):
    @abstractmethod
    def send(self, message: object) -> None:
        """Send one ``(MessageType, dict)`` message; never raises for a delivery problem."""


class RadioConfig(metaclass=ABCMeta):
    """What an executor's ``remote_monitoring_radio`` holds."""

    @abstractmethod
    def create_sender(self) -> MonitoringRadioSender:
        """A sender for this radio (after ``create_receiver``, possibly in another process
        from a pickled copy of this config)."""

    @abstractmethod
    def create_receiver(self, run_dir: Optional[str] = None, resource_msgs=None, *,
                        ip: Optional[str] = None) -> MonitoringRadioReceiver:
        """Start receiving into ``resource_msgs`` (a multiprocessing queue, such as the hub's
        ``resource_msgs``), and record in this config what senders need to reach the
        receiver.  Both arguments may be given by position (Parsl's older radios) or by
        keyword."""


def need_queue(radio, resource_msgs) -> None:
    if resource_msgs is None:
        raise TypeError(f"{type(radio).__name__}.create_receiver() needs resource_msgs: the queue that "
                        "received messages go to (the monitoring hub's resource_msgs)")


class QueueRadio(RadioConfig):
    """Shared part of the in-process radios: the sender puts straight on the hub's queue.
    Subclasses name their sender and receiver classes (Parsl's names)."""

    sender_class: type
    receiver_class: type

    def __init__(self) -> None:
        self._queue = None

    def create_sender(self) -> MonitoringRadioSender:
        if self._queue is None:
            raise RuntimeError(f"{type(self).__name__}.create_sender() needs create_receiver() first")
        return self.sender_class(self._queue)

    def create_receiver(self, run_dir: Optional[str] = None, resource_msgs=None, *,
                        ip: Optional[str] = None) -> MonitoringRadioReceiver:
        need_queue(self, resource_msgs)
        self._queue = resource_msgs
        return self.receiver_class()

    def __getstate__(self):
        # A queue object does not travel (a multiprocessing queue only to a child it was
        # made for); a copy elsewhere has no receiver to send to.
        state = dict(self.__dict__)
        q = state.get("_queue")
        if q is not None and not _is_mp_queue(q):
            state["_queue"] = None
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class QueueRadioSender(MonitoringRadioSender):
    def __init__(self, queue) -> None:
        self.queue = queue

    def send(self, message: object) -> None:
        self.queue.put(message)


class NullReceiver(MonitoringRadioReceiver):
    def shutdown(self) -> None:
        pass


def _is_mp_queue(q) -> bool:
    try:
        from multiprocessing.queues import Queue
    except ImportError:
        return False
    return isinstance(q, Queue)
