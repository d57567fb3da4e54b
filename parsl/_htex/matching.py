"""What the interchange knows about each manager, and its decisions as pure functions.

No sockets, no threads, no clock of their own: ``choose_dispatch`` (who gets which
tasks), ``plan_recalls`` (which unstarted tasks to take back) and ``find_lost_managers``
are functions of the records and a time they are given, tested directly.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from parsl._htex.lane import LaneConnection
from parsl._htex.protocol import Registration

#: After a manager's TCP connection closes, how long it has to answer a PING (from a new
#: connection) before it is declared lost, instead of waiting for heartbeat_threshold.
SUSPECT_GRACE_S = 2.0


def pipeline_extra(worker_count: int) -> int:
    """Tasks a manager may hold beyond workers + prefetch_capacity.

    They hide the network round trip between a worker finishing and its next task
    arriving (measured: ~2x no-op throughput on 2 workers).  They are not a commitment:
    when another manager has idle workers and nothing is pending, the interchange recalls
    unstarted tasks (``plan_recalls``), so long tasks never wait behind each other while
    a worker elsewhere idles.
    """
    return max(16, 4 * worker_count)


class ManagerRecord:
    """What the interchange knows about one connected manager."""

    __slots__ = ("uid", "block_id", "worker_count", "max_capacity", "tasks", "last_heard",
                 "idle_since", "active", "draining", "info", "committed", "recalling", "fd",
                 "suspect_since", "lane", "running")

    def __init__(self, uid: bytes, registration: Registration, now: float, pipelined: bool = True):
        self.uid = uid
        #: The registration as a plain dict, for reports (connected_managers, monitoring).
        self.info: Dict[str, Any] = registration.as_dict()
        self.block_id = registration.block_id
        self.worker_count = registration.worker_count
        #: workers + prefetch_capacity: what the manager asked for.
        self.committed = registration.max_capacity
        self.max_capacity = self.committed + (pipeline_extra(self.worker_count) if pipelined else 0)
        self.recalling = False
        self.fd: Optional[int] = None            # the TCP connection it registered on
        #: Tasks and results go here instead of ZMQ once the manager opened it (lane.py).
        self.lane: Optional[LaneConnection] = None
        self.suspect_since: Optional[float] = None
        self.tasks: Set[int] = set()
        #: The tasks of ``tasks`` it reported handed to a worker (protocol.OUTCOME_STARTED).
        self.running: Set[int] = set()
        self.last_heard = now
        self.idle_since: Optional[float] = now
        self.active = True
        self.draining = False

    def stop_pipelining(self) -> None:
        """Hold no more than the manager asked for (workers + prefetch_capacity).

        Once tasks give priorities, they must wait in the interchange's priority queue, as
        in Parsl, not in a manager's first-come queue; tasks it already holds stay there.
        """
        self.max_capacity = self.committed

    @property
    def free(self) -> int:
        if not self.active or self.draining:
            return 0
        return self.max_capacity - len(self.tasks)

    def describe(self, now: float) -> Dict[str, Any]:
        return {
            "manager": self.uid.decode(), "block_id": self.block_id, "worker_count": self.worker_count,
            "tasks": len(self.tasks), "running": len(self.running),
            "idle_duration": (now - self.idle_since) if self.idle_since else 0.0,
            "active": self.active, "parsl_version": self.info.get("parsl_v"),
            "python_version": self.info.get("python_v"), "draining": self.draining,
            "hostname": self.info.get("hostname"), "pid": self.info.get("pid"),
        }


# --- pure decisions ---------------------------------------------------------------------
def choose_dispatch(pending_count: int, ordered: Sequence[ManagerRecord]) -> List[Tuple[ManagerRecord, int]]:
    """How many of the pending tasks each manager gets, in the selector's order."""
    plan = []
    left = pending_count
    for m in ordered:
        if left <= 0:
            break
        n = min(m.free, left)
        if n > 0:
            plan.append((m, n))
            left -= n
    return plan


def plan_recalls(managers: Sequence[ManagerRecord]) -> List[Tuple[ManagerRecord, int]]:
    """Take unstarted tasks back from busy managers when others have idle workers.

    Called only when nothing is pending.  A manager's unstarted tasks are estimated as
    what it holds beyond its worker count; one recall per manager at a time.
    """
    idle = sum(max(0, m.worker_count - len(m.tasks)) for m in managers
               if m.active and not m.draining)
    plan: List[Tuple[ManagerRecord, int]] = []
    if idle <= 0:
        return plan
    for m in sorted(managers, key=lambda m: m.worker_count - len(m.tasks)):  # most excess first
        excess = len(m.tasks) - m.worker_count
        if excess <= 0 or m.recalling:
            continue
        n = min(excess, idle)
        plan.append((m, n))
        idle -= n
        if idle <= 0:
            break
    return plan


def find_lost_managers(managers: Iterable[ManagerRecord], now: float, threshold: float,
                       suspect_grace: float = SUSPECT_GRACE_S) -> List[ManagerRecord]:
    """Silent longer than the threshold, or connection closed and no answer to a PING."""
    return [m for m in managers if now - m.last_heard > threshold
            or (m.suspect_since is not None and now - m.suspect_since > suspect_grace)]


def choose_blocks_to_scale_in(live_blocks: Sequence[str], managers: Sequence[Dict[str, Any]], n: int,
                              max_idletime: Optional[float]) -> List[str]:
    """Pure: which blocks to scale in, most idle first, then fewest tasks.

    With ``max_idletime`` only blocks whose managers are all idle longer than that (and
    hold no tasks) qualify.  Blocks with no connected manager yet (still starting) are taken
    last and never under ``max_idletime``: they have not had a chance to be useful.
    """
    per_block: Dict[str, Tuple[float, int]] = {}
    for m in managers:
        b = str(m["block_id"])
        idle, tasks = per_block.get(b, (math.inf, 0))
        per_block[b] = (min(idle, m["idle_duration"] if not m["tasks"] else 0.0), tasks + m["tasks"])
    connected = [b for b in live_blocks if b in per_block]
    connected.sort(key=lambda b: (-per_block[b][0], per_block[b][1]))
    if max_idletime is not None:
        connected = [b for b in connected if per_block[b][1] == 0 and per_block[b][0] >= max_idletime]
        return connected[:n]
    unconnected = [b for b in reversed(list(live_blocks)) if b not in per_block]
    return (connected + unconnected)[:n]
