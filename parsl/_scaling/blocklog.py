"""The observable life of each block: every state change and every scaling action.

Pure bookkeeping: ``observe`` compares a status map with the previous one and
records what changed; the poller feeds it after each poll and logs what it
returns.  Users read it from ``executor.block_history`` (or the poller's
``history(label)``) to see when a block was pending, running, scaled in or failed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, List, Optional

from parsl._base.job_states import JobStatus

_MAX_EVENTS = 10_000   # bounded: a long run with short blocks must not grow without end


@dataclass(frozen=True)
class BlockEvent:
    time: float            # wall clock (time.time()) of the observation
    block_id: Optional[str]
    event: str             # a JobState name, or "scale_out"/"scale_in" for actions
    detail: str = ""

    def __str__(self) -> str:
        who = f"block {self.block_id}" if self.block_id is not None else "executor"
        return f"{who}: {self.event}" + (f" ({self.detail})" if self.detail else "")


class BlockLifeLog:
    def __init__(self) -> None:
        self._last: Dict[str, str] = {}
        self._events: List[BlockEvent] = []
        self._lock = threading.Lock()   # read by user threads, written by the poller thread

    def observe(self, status: Dict[str, JobStatus], now: float) -> List[BlockEvent]:
        new = []
        for block_id, js in status.items():
            name = js.state.name
            if self._last.get(block_id) != name:
                self._last[block_id] = name
                new.append(BlockEvent(now, block_id, name, js.message or ""))
        self._append(new)
        return new

    def record_action(self, action: str, count: int, reason: str, now: float) -> BlockEvent:
        ev = BlockEvent(now, None, action, f"{count} block(s): {reason}")
        self._append([ev])
        return ev

    def events(self, block_id: Optional[str] = None) -> List[BlockEvent]:
        with self._lock:
            evs = list(self._events)
        return evs if block_id is None else [e for e in evs if e.block_id == block_id]

    def states_seen(self, block_id: str) -> List[str]:
        return [e.event for e in self.events(block_id)]

    def _append(self, evs: List[BlockEvent]) -> None:
        if not evs:
            return
        with self._lock:
            self._events.extend(evs)
            if len(self._events) > _MAX_EVENTS:
                del self._events[: len(self._events) - _MAX_EVENTS]
