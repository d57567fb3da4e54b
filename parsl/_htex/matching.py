"""What the interchange knows about each manager, and its decisions as pure functions.

No sockets, no threads, no clock of their own: ``choose_dispatch`` (who gets which
tasks), ``plan_recalls`` (which unstarted tasks to take back) and ``find_lost_managers``
are functions of the records and a time they are given, tested directly.
"""
from __future__ import annotations

import heapq
import math
import random
import time
from concurrent.futures import Future
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

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


#: What a pipeline must cover per worker and per manager, tasks/s: about the fastest no-op
#: tasks run (a worker ~20,000/s, a manager's loop ~50,000/s); with a measured round trip
#: they size the most a latency-bound manager may hold (``pipeline_limit``).
FAST_TASKS_PER_WORKER_S = 20_000
FAST_TASKS_PER_MANAGER_S = 50_000
#: Round trips above this are taken as this (a probe stuck behind a large message).
MAX_PIPELINE_RTT_S = 1.0


def pipeline_limit(worker_count: int, rtt: Optional[float] = None) -> int:
    """The most a manager's pipeline may grow to (``grow_pipeline``).

    Without a measured round trip: enough for ~10 ms at ~10,000 short tasks/s per node.
    With one (``ManagerRecord.rtt``): two round trips of the fastest tasks the manager
    could run, so the window is never what bounds a latency-bound manager; bounded by the
    round trip, so a recall from a near manager never has much to move.
    """
    floor = max(256, 64 * worker_count)
    if not rtt or rtt <= 0:
        return floor
    rate = min(worker_count * FAST_TASKS_PER_WORKER_S, FAST_TASKS_PER_MANAGER_S)
    return max(floor, math.ceil(2 * min(rtt, MAX_PIPELINE_RTT_S) * rate))


def runs_dry(m: ManagerRecord) -> bool:
    """Whether ``m``'s workers are about to wait: it holds no more tasks than it has workers,
    so its queue was empty when its last results left it, and anything sent now arrives a
    round trip later.  (Waiting until it holds fewer, an idle worker for sure, missed the
    common case: a manager sends its results as its queue runs low, so the interchange saw
    ``workers`` tasks still held and a 1 ms manager's window never grew.)"""
    return len(m.tasks) <= m.worker_count


def grow_pipeline(m: ManagerRecord) -> None:
    """The manager ran dry (idle workers) while tasks were waiting and its window was full:
    the round trip, not the workers, bounds it; double its window (up to ``pipeline_limit``)."""
    if m.max_capacity > m.committed:        # pipelining on (off once tasks carry priorities)
        m.max_capacity = min(2 * m.max_capacity, m.committed + pipeline_limit(m.worker_count, m.rtt))


#: The shortest span a manager's completion rate is measured over (``latency_bound``).
MIN_RATE_SPAN_S = 0.005


def latency_bound(m: ManagerRecord, now: float) -> bool:
    """Whether ``m``, whose window is full while tasks wait, is held back by its round trip
    rather than by its workers: it runs dry (``runs_dry``), or what it completes per second
    would fill more than its window over two round trips (Little's law: a manager that
    finishes R tasks/s a round trip away needs about R x RTT tasks in flight to its queue).

    The second test is what grows a far manager's window: once its results come back in
    several pieces per round trip, the interchange refills after each piece and never sees
    it hold as few tasks as it has workers, so ``runs_dry`` stayed false and a 10 ms
    manager's window stopped at 144 or 288 tasks (~0.45 of its no-delay rate).  A manager
    bound by its workers completes far fewer than its window per round trip, so its
    window stays as it is.
    """
    if runs_dry(m):
        return True
    rtt = m.rtt
    if not rtt:
        return False
    since = now - m.rate_at
    if since >= max(2 * rtt, MIN_RATE_SPAN_S):
        m.rate = (m.done - m.rate_done) / since
        m.rate_at, m.rate_done = now, m.done
    return 2 * rtt * m.rate > m.max_capacity


class ManagerRecord:
    """What the interchange knows about one connected manager."""

    __slots__ = ("uid", "block_id", "worker_count", "max_capacity", "tasks", "last_heard",
                 "idle_since", "active", "draining", "info", "committed", "recalling", "fd",
                 "suspect_since", "lane", "packages", "running", "rtt", "rtt_probe_at", "done", "rate",
                 "rate_at", "rate_done")

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
        #: Its last measured round trip, s (a PING answered; None until measured), and when
        #: the PING measuring it left (None when none is out).
        self.rtt: Optional[float] = None
        self.rtt_probe_at: Optional[float] = None
        #: Results it returned so far, and its completion rate (tasks/s) as last measured
        #: (at ``rate_at``, when ``rate_done`` had been returned): see ``latency_bound``.
        self.done = 0
        self.rate = 0.0
        self.rate_at = now
        self.rate_done = 0
        self.tasks: Set[int] = set()
        #: The tasks of ``tasks`` it reported handed to a worker (protocol.OUTCOME_STARTED).
        self.running: Set[int] = set()
        self.last_heard = now
        self.idle_since: Optional[float] = now
        self.active = True
        self.draining = False
        #: Its installed packages: asked for on demand (ask_packages), completed when it answers.
        self.packages: Optional[Future[Dict[str, str]]] = None

    def stop_pipelining(self) -> None:
        """Hold no more than the manager asked for (workers + prefetch_capacity).

        Once tasks give priorities, they must wait in the interchange's priority queue, as
        in Parsl, not in a manager's first-come queue; tasks it already holds stay there.
        """
        self.max_capacity = self.committed

    @property
    def free(self) -> int:
        """Tasks it may still be sent, pipelining included (0 while held or draining)."""
        if not self.active or self.draining:
            return 0
        return self.max_capacity - len(self.tasks)

    @property
    def wants(self) -> int:
        """Tasks it may still be sent within what it asked for (workers + prefetch_capacity)."""
        if not self.active or self.draining:
            return 0
        return self.committed - len(self.tasks)

    def ask_packages(self) -> Tuple[Future[Dict[str, str]], bool]:
        """The future of its packages, and whether a PACKAGES request must be sent now."""
        if self.packages is None:
            self.packages = Future()
            return self.packages, True
        return self.packages, False

    def took_packages(self, packages: Dict[str, str]) -> None:
        if self.packages is None:
            self.packages = Future()
        if not self.packages.done():
            self.packages.set_result(packages)

    # Parsl's manager record is a TypedDict: selectors written for Parsl read it by key
    # (``ready_managers[uid]['block_id']``), so these records answer Parsl's keys too.
    def __getitem__(self, key: str) -> Any:
        try:
            read = _PARSL_KEYS[key]
        except KeyError:
            raise KeyError(f"{key!r}: a manager record has the keys {sorted(_PARSL_KEYS)}") from None
        return read(self)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in _PARSL_KEYS else default

    def keys(self) -> Iterable[str]:
        return _PARSL_KEYS.keys()

    def __contains__(self, key: object) -> bool:
        return key in _PARSL_KEYS

    def describe(self, now: float) -> Dict[str, Any]:
        return {
            "manager": self.uid.decode(), "block_id": self.block_id, "worker_count": self.worker_count,
            "tasks": len(self.tasks), "running": len(self.running),
            "idle_duration": (now - self.idle_since) if self.idle_since else 0.0,
            "active": self.active, "parsl_version": self.info.get("parsl_v"),
            "python_version": self.info.get("python_version") or self.info.get("python_v"),
            "draining": self.draining,
            "hostname": self.info.get("hostname"), "pid": self.info.get("pid"),
        }


def _wall(m: ManagerRecord, monotonic: Optional[float]) -> Optional[float]:
    """A time of the monotonic clock as the wall-clock time Parsl's records hold."""
    return None if monotonic is None else time.time() - (time.monotonic() - monotonic)


def _known_packages(m: ManagerRecord) -> Dict[str, str]:
    fut = m.packages
    return fut.result() if fut is not None and fut.done() else {}


_PARSL_KEYS: Dict[str, Callable[[ManagerRecord], Any]] = {
    "block_id": lambda m: m.block_id,
    "start_time": lambda m: m.info.get("start_time"),
    "tasks": lambda m: sorted(m.tasks),
    "worker_count": lambda m: m.worker_count,
    "max_capacity": lambda m: m.committed,
    "active": lambda m: m.active,
    "draining": lambda m: m.draining,
    "hostname": lambda m: m.info.get("hostname"),
    "last_heartbeat": lambda m: _wall(m, m.last_heard),
    "idle_since": lambda m: _wall(m, m.idle_since),
    "timestamp": lambda m: datetime.fromtimestamp(m.info.get("start_time") or 0.0),
    "parsl_version": lambda m: m.info.get("parsl_v"),
    "python_version": lambda m: m.info.get("python_version") or m.info.get("python_v"),
    "packages": _known_packages,     # only once connected_managers_packages() asked for them
}


def _block_key(m: ManagerRecord) -> Tuple[int, int, bytes]:
    """BlockIdManagerSelector's order, as a heap key."""
    try:
        return (0, int(m.block_id), m.uid)
    except (TypeError, ValueError):
        return (1, 0, m.uid)


def _wants(m: ManagerRecord) -> int:
    return m.wants


def _free(m: ManagerRecord) -> int:
    return m.free


class _Pool:
    """Managers that may have room of one kind (``room(m) > 0``), dropped lazily when met
    without it: an indexable set (random draws in O(1)) and, in block mode, a lazy heap."""

    __slots__ = ("room", "block", "members", "pos", "heap", "in_heap", "seq")

    def __init__(self, room: Callable[[ManagerRecord], int], block: bool):
        self.room = room
        self.block = block
        self.members: List[ManagerRecord] = []
        self.pos: Dict[bytes, int] = {}
        self.heap: List[Tuple[Tuple[int, int, bytes], int, ManagerRecord]] = []
        self.in_heap: Set[bytes] = set()
        self.seq = 0        # heap tie-breaker: records never compare

    def add(self, m: ManagerRecord) -> None:
        uid = m.uid
        pos = self.pos.get(uid)
        replaced = False
        if pos is None:
            self.pos[uid] = len(self.members)
            self.members.append(m)
        elif self.members[pos] is not m:
            self.members[pos] = m      # a re-registration replaces the record
            replaced = True
        if self.block and (replaced or uid not in self.in_heap):
            self.push(m)

    def push(self, m: ManagerRecord) -> None:
        self.in_heap.add(m.uid)
        self.seq += 1
        heapq.heappush(self.heap, (_block_key(m), self.seq, m))

    def drop_at(self, i: int) -> None:
        members, pos = self.members, self.pos
        gone = members[i]
        last = members.pop()
        del pos[gone.uid]
        if last is not gone:
            members[i] = last
            pos[last.uid] = i

    def valid(self, m: ManagerRecord, managers: Mapping[bytes, ManagerRecord]) -> bool:
        return self.room(m) > 0 and managers.get(m.uid) is m

    def prune(self, managers: Mapping[bytes, ManagerRecord]) -> List[ManagerRecord]:
        members = self.members
        i = 0
        while i < len(members):
            if self.valid(members[i], managers):
                i += 1
            else:
                self.drop_at(i)
        return members

    def draw(self, managers: Mapping[bytes, ManagerRecord], wanted: int) -> List[ManagerRecord]:
        """Members with room, in the selector's order, until their room covers ``wanted``."""
        return self._draw_block(managers, wanted) if self.block else self._draw_random(managers, wanted)

    def _draw_random(self, managers, wanted):
        members, pos = self.members, self.pos
        out: List[ManagerRecord] = []
        covered = 0
        t = 0
        randrange = random.randrange
        while covered < wanted and t < len(members):
            i = randrange(t, len(members))      # a partial Fisher-Yates shuffle
            if i != t:
                members[t], members[i] = members[i], members[t]
                pos[members[t].uid] = t
                pos[members[i].uid] = i
            m = members[t]
            if self.valid(m, managers):
                out.append(m)
                covered += self.room(m)
                t += 1
            else:
                self.drop_at(t)
        return out

    def _draw_block(self, managers, wanted):
        heap, pop = self.heap, heapq.heappop
        out: List[ManagerRecord] = []
        covered = 0
        while covered < wanted and heap:
            m = pop(heap)[2]
            pos = self.pos.get(m.uid)
            if pos is None or self.members[pos] is not m:
                continue        # a stale entry: dropped, or its record was replaced
            self.in_heap.discard(m.uid)
            if not self.valid(m, managers):
                self.drop_at(pos)
                continue
            out.append(m)
            covered += self.room(m)
        for m in out:           # still members: back in the heap (dropped later if full)
            self.push(m)
        return out


class ReadyManagers:
    """The managers that may take tasks, kept up to date as they change, never rebuilt.

    Dispatch must not cost more with more managers: scanning every manager for free capacity
    on each dispatch made the task path linear in their number.  The interchange adds a
    manager whenever it may have gained room (it registered, results came back, tasks were
    returned); managers that lost it (full, draining, held, gone) are dropped lazily when met,
    so every other change costs nothing here.  Two pools: managers with idle workers
    (``wants``: the first pass of ``choose_dispatch``) and managers with any room (``free``,
    pipelining included: the second pass).

    ``pick`` returns managers in the selector's order, enough to cover the wanted tasks with
    idle workers, then with pipeline room: what ``choose_dispatch`` over every manager would
    use.  The built-in selectors cost O(k) (random: a partial Fisher-Yates shuffle) or
    O(k log n) (block id: a heap); any other selector gets every ready manager through its
    ``sort_managers``, as its interface says.  ``excess`` holds the managers that may hold more
    tasks than workers (candidates for a recall).
    """

    __slots__ = ("selector", "mode", "idle", "room", "excess")

    def __init__(self, selector: ManagerSelector):
        self.selector = selector
        kind = type(selector)
        self.mode = ("random" if kind is RandomManagerSelector else
                     "block" if kind is BlockIdManagerSelector else "generic")
        block = self.mode == "block"
        self.idle = _Pool(_wants, block)
        self.room = _Pool(_free, block)
        self.excess: Dict[bytes, ManagerRecord] = {}

    def __len__(self) -> int:
        return len(self.room.members)

    def add(self, m: ManagerRecord) -> None:
        self.idle.add(m)
        self.room.add(m)

    def pick(self, managers: Mapping[bytes, ManagerRecord], wanted: int) -> List[ManagerRecord]:
        """Ready managers in the selector's order, enough to take ``wanted`` tasks (or all)."""
        if self.mode == "generic":
            self.idle.prune(managers)
            ready = self.room.prune(managers)
            if not ready:
                return []
            order = self.selector.sort_managers(managers, {m.uid for m in ready})   # Parsl's argument order
            return [managers[u] for u in order]
        first = self.idle.draw(managers, wanted)
        covered = sum(m.wants for m in first)
        if covered >= wanted:
            return first
        seen = {m.uid for m in first}
        # (a draw may meet the first ones again: then a few tasks wait for the next round)
        more = [m for m in self.room.draw(managers, wanted - sum(m.free for m in first)) if m.uid not in seen]
        out = first + more
        if self.mode == "block":
            out.sort(key=_block_key)
        return out

    def recall_candidates(self, managers: Mapping[bytes, ManagerRecord]) -> List[ManagerRecord]:
        """What ``plan_recalls`` needs to see: the managers that may hold excess tasks and the
        ones with idle workers; [] at once when none holds excess."""
        excess = self.excess
        for uid, m in list(excess.items()):
            if managers.get(uid) is not m or len(m.tasks) <= m.worker_count:
                del excess[uid]
        if not excess:
            return []
        idle = [m for m in self.idle.prune(managers) if m.uid not in excess]
        return list(excess.values()) + idle


# --- pure decisions ---------------------------------------------------------------------
def choose_dispatch(pending_count: int, ordered: Sequence[ManagerRecord]) -> List[Tuple[ManagerRecord, int]]:
    """How many of the pending tasks each manager gets, in the selector's order.

    Two passes: first what each manager asked for (its workers + prefetch_capacity), then
    the pipelining extra.  So a task never waits in one manager's queue while another has
    an idle worker, and the selector decides who gets the idle workers: with
    ``BlockIdManagerSelector`` the lowest block's workers fill first (without the first
    pass, block 0 would take ``pipeline_extra`` tasks more while block 1 idled, and a
    recall would hand them straight back to block 0).
    """
    given = [0] * len(ordered)
    left = pending_count
    for first_pass in (True, False):
        for i, m in enumerate(ordered):
            if left <= 0:
                break
            n = min((m.wants if first_pass else m.free) - given[i], left)
            if n > 0:
                given[i] += n
                left -= n
    return [(m, n) for m, n in zip(ordered, given) if n > 0]


def choose_direct(order: Sequence[bytes], managers: Mapping[bytes, ManagerRecord]) -> Optional[ManagerRecord]:
    """The manager one task submitted straight to a lane goes to (``order``: the selector's).

    The first with an idle worker, as in ``choose_dispatch``'s first pass; else the first.
    """
    for uid in order:
        m = managers.get(uid)
        if m is not None and m.wants > 0:
            return m
    return managers.get(order[0]) if order else None


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
