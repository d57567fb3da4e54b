"""What the interchange knows about each manager, and its decisions as pure functions.

No sockets, no threads, no clock of their own: ``choose_dispatch`` (who gets which
tasks), ``plan_recalls`` (which unstarted tasks to take back) and ``find_lost_managers``
are functions of the records and a time they are given, tested directly.
"""
from __future__ import annotations

import heapq
import math
import random
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from parsl._htex.lane import LaneConnection
from parsl._htex.protocol import Registration
from parsl._htex.selectors import BlockIdManagerSelector, ManagerSelector, RandomManagerSelector

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


def pipeline_limit(worker_count: int) -> int:
    """The most a manager's pipeline may grow to (``grow_pipeline``): enough for a 10 ms round
    trip at ~10,000 short tasks/s per node, bounded so a recall never has much to move."""
    return max(256, 64 * worker_count)


def grow_pipeline(m: ManagerRecord) -> None:
    """The manager ran dry (idle workers) while tasks were waiting and its window was full:
    the round trip, not the workers, bounds it; double its window (up to ``pipeline_limit``)."""
    if m.max_capacity > m.committed:        # pipelining on (off once tasks carry priorities)
        m.max_capacity = min(2 * m.max_capacity, m.committed + pipeline_limit(m.worker_count))


class ManagerRecord:
    """What the interchange knows about one connected manager."""

    __slots__ = ("uid", "block_id", "worker_count", "max_capacity", "tasks", "last_heard",
                 "idle_since", "active", "draining", "info", "committed", "recalling", "fd",
                 "suspect_since", "lane")

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
            "tasks": len(self.tasks), "idle_duration": (now - self.idle_since) if self.idle_since else 0.0,
            "active": self.active, "parsl_version": self.info.get("parsl_v"),
            "python_version": self.info.get("python_v"), "draining": self.draining,
            "hostname": self.info.get("hostname"), "pid": self.info.get("pid"),
        }


def _block_key(m: ManagerRecord) -> Tuple[int, int, bytes]:
    """BlockIdManagerSelector's order, as a heap key."""
    try:
        return (0, int(m.block_id), m.uid)
    except (TypeError, ValueError):
        return (1, 0, m.uid)


class ReadyManagers:
    """The managers that may have free capacity, kept up to date as they change, never rebuilt.

    Dispatch must not cost more with more managers: scanning every manager for free capacity
    on each dispatch made the task path linear in their number.  The interchange adds a
    manager whenever it may have gained capacity (it registered, results came back, tasks were
    returned); managers that lost it (full, draining, held, gone) are dropped lazily when met,
    so every other change costs nothing here.  The set is a superset of the managers with
    ``free > 0``.

    ``pick`` orders them as the selector would and stops once the wanted tasks are covered:
    the built-in selectors cost O(k) (random: a partial Fisher-Yates shuffle) or O(k log n)
    (block id: a heap); any other selector gets the whole ready set through its
    ``sort_managers``, as its interface says.  ``excess`` holds the managers that may hold
    more tasks than workers (candidates for a recall).
    """

    __slots__ = ("_members", "_pos", "_heap", "_in_heap", "_mode", "_seq", "selector", "excess")

    def __init__(self, selector: ManagerSelector):
        self.selector = selector
        sel_type = type(selector)
        self._mode = "random" if sel_type is RandomManagerSelector else (
            "block" if sel_type is BlockIdManagerSelector else "generic")
        self._members: List[ManagerRecord] = []
        self._pos: Dict[bytes, int] = {}
        self._heap: List[Tuple[Tuple[int, int, bytes], int, ManagerRecord]] = []
        self._in_heap: Set[bytes] = set()
        self._seq = 0       # heap tie-breaker: records never compare
        self.excess: Dict[bytes, ManagerRecord] = {}

    def __len__(self) -> int:
        return len(self._members)

    def add(self, m: ManagerRecord) -> None:
        uid = m.uid
        pos = self._pos.get(uid)
        replaced = False
        if pos is None:
            self._pos[uid] = len(self._members)
            self._members.append(m)
        elif self._members[pos] is not m:
            self._members[pos] = m      # a re-registration replaces the record
            replaced = True
        if self._mode == "block" and (replaced or uid not in self._in_heap):
            self._push(m)

    def _push(self, m: ManagerRecord) -> None:
        self._in_heap.add(m.uid)
        self._seq += 1
        heapq.heappush(self._heap, (_block_key(m), self._seq, m))

    def _drop_at(self, i: int) -> None:
        members, pos = self._members, self._pos
        gone = members[i]
        last = members.pop()
        del pos[gone.uid]
        if last is not gone:
            members[i] = last
            pos[last.uid] = i

    def _valid(self, m: ManagerRecord, managers: Mapping[bytes, ManagerRecord]) -> bool:
        return m.free > 0 and managers.get(m.uid) is m

    def pick(self, managers: Mapping[bytes, ManagerRecord], wanted: int) -> List[ManagerRecord]:
        """Ready managers in the selector's order, enough to take ``wanted`` tasks (or all)."""
        if self._mode == "random":
            return self._pick_random(managers, wanted)
        if self._mode == "block":
            return self._pick_block(managers, wanted)
        members = self._members
        i = 0
        while i < len(members):
            if self._valid(members[i], managers):
                i += 1
            else:
                self._drop_at(i)
        if not members:
            return []
        order = self.selector.sort_managers({m.uid for m in members}, managers)
        return [managers[u] for u in order]

    def _pick_random(self, managers: Mapping[bytes, ManagerRecord], wanted: int) -> List[ManagerRecord]:
        members, pos = self._members, self._pos
        out: List[ManagerRecord] = []
        covered = 0
        t = 0
        randrange = random.randrange
        while covered < wanted and t < len(members):
            i = randrange(t, len(members))
            if i != t:
                members[t], members[i] = members[i], members[t]
                pos[members[t].uid] = t
                pos[members[i].uid] = i
            m = members[t]
            if self._valid(m, managers):
                out.append(m)
                covered += m.free
                t += 1
            else:
                self._drop_at(t)
        return out

    def _pick_block(self, managers: Mapping[bytes, ManagerRecord], wanted: int) -> List[ManagerRecord]:
        heap, pop = self._heap, heapq.heappop
        out: List[ManagerRecord] = []
        covered = 0
        while covered < wanted and heap:
            m = pop(heap)[2]
            pos = self._pos.get(m.uid)
            if pos is None or self._members[pos] is not m:
                continue        # a stale entry: dropped, or its record was replaced
            self._in_heap.discard(m.uid)
            if not self._valid(m, managers):
                self._drop_at(self._pos[m.uid])
                continue
            out.append(m)
            covered += m.free
        for m in out:           # still members: back in the heap (dropped later if full)
            self._push(m)
        return out

    def recall_candidates(self, managers: Mapping[bytes, ManagerRecord]) -> List[ManagerRecord]:
        """What ``plan_recalls`` needs to see: the managers that may hold excess tasks and the
        ready ones (every manager with idle workers is ready); [] at once when none holds excess."""
        excess = self.excess
        for uid, m in list(excess.items()):
            if managers.get(uid) is not m or len(m.tasks) <= m.worker_count:
                del excess[uid]
        if not excess:
            return []
        ready = [m for m in self._members if self._valid(m, managers) and m.uid not in excess]
        return list(excess.values()) + ready


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
