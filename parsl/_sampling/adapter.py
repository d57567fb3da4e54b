"""A plain callable as a ``MonitoringSink``: Parsl's form of ``executor.monitoring_messages``.

Chervil's hub takes worker batches and end-of-task structs unopened (its writer process
opens them).  A callable ``(message_type, payload)`` set as an executor's
``monitoring_messages`` instead (a third-party hub, a test) gets Parsl's messages: this
adapter opens the records here, remembering each worker's hello (what its structs leave
out).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Optional

from parsl._base.monitoring_sink import MonitoringSink
from parsl._sampling import records


class CallableSink(MonitoringSink):
    """Wraps ``target(message_type, payload)``; thread-safe as far as ``target`` is (the
    hello table is only ever added to)."""

    __slots__ = ("target", "_hellos")

    def __init__(self, target: Callable[[Any, dict], None]):
        self.target = target
        self._hellos: Dict[int, dict] = {}

    def send(self, message_type: Any, payload: dict) -> None:
        self.target(message_type, payload)

    def worker_batch(self, executor_label: str, data: bytes) -> None:
        for m in records.split_frames(data):
            message_type, body = records.decode_message(m)
            if message_type == records.WORKER_HELLO:
                if isinstance(body, dict) and "worker_key" in body:
                    self._hellos[body["worker_key"]] = body      # Chervil's own: not a Parsl message
                continue
            if isinstance(body, dict):
                body.setdefault("executor_label", executor_label)   # workers know only their task ids
            self.target(message_type, body)

    def task_ends(self, executor_label: str, data: bytes) -> None:
        hellos = self._hellos
        for fields in records.iter_task_ends(data):
            hello = hellos.get(fields[1])
            if hello is None:
                continue          # its worker never said hello: it cannot be put on a host
            self.target(*records.task_end_message(fields, hello, executor_label))


def as_sink(target: Any, cached: Optional[CallableSink] = None) -> Optional[MonitoringSink]:
    """``target`` as a ``MonitoringSink`` (None stays None).  ``cached``: the adapter made
    for an earlier call, reused while the target is the same (it holds the workers' hellos)."""
    if target is None or isinstance(target, MonitoringSink):
        return target
    if cached is not None and cached.target is target:
        return cached
    return CallableSink(target)
