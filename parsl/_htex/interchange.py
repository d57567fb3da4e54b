"""The interchange: queues tasks, matches them to managers, watches manager liveness.

It runs as one thread in the user process (measured: no extra process hop, no start-up
cost; see docs in the executor).  The thread owns every socket here; other threads talk
to it only through ``submit``/``call``, which append to a deque and ring a *doorbell*
(a pipe the poller watches).  The bell is rung only when not already ringing, so a burst
of submissions costs one ``write`` syscall.

Managers on this host also open a *direct lane* (``lane.py``): a plain loopback TCP socket
that carries their tasks and results without ZMQ's I/O threads; control messages stay on
ZMQ.  The interchange thread owns the lanes too, with one exception: when nothing is
queued, a submitting thread writes its task straight to a lane (``_submit_direct``),
which saves waking the interchange thread (measured: ~25 us of a ~230 us round trip).
``_lock`` makes that safe: the interchange thread holds it except while it sleeps in
``poll``.  The ZMQ socket is never touched outside the interchange thread.

Decisions are kept out of the socket code: what is known about each manager and the pure
decisions over it (``choose_dispatch``, ``plan_recalls``, ``find_lost_managers``) live in
``matching.py``; every byte sent or read is encoded or decoded by ``protocol.py``.  What
comes in from managers is checked, and lost managers are handled, in ``intake.py``; lanes
are accepted and served in ``lane_service.py`` (both mixins of ``Interchange``).

An unexpected error ending the loop (a bug) is not silent: ``_fail`` tells the owner
(``InterchangeEvents.on_fatal``), which fails every outstanding future, and ``submit``
refuses from then on.
"""
from __future__ import annotations

import heapq
import logging
import math
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Sequence, Set, Tuple

import zmq
from zmq.utils.monitor import recv_monitor_message

from parsl._htex import binding, protocol
from parsl._htex import lane as lanes
from parsl._htex.intake import ManagerIntake
from parsl._htex.lane_service import LaneService
from parsl._htex.limits import DescriptorBudget
from parsl._htex.matching import (
    SUSPECT_GRACE_S,
    ManagerRecord,
    ReadyManagers,
    choose_dispatch,
    find_lost_managers,
    grow_pipeline,
    latency_bound,
    plan_recalls,
)
from parsl._htex.selectors import ManagerSelector

logger = logging.getLogger(__name__)

_INF = math.inf
#: A task waiting for a manager: (priority, task id, record); a heap orders them.
_Queued = Tuple[float, int, bytes]
#: How long a submitting thread waits for the interchange thread to finish its loop
#: iteration before queueing the task for it instead (see Interchange._submit_direct).
DIRECT_SUBMIT_WAIT_S = 0.0005


class InterchangeEvents(Protocol):
    """What the interchange tells its owner (the HTEX client).

    Called on the interchange thread; implementations must not block.
    """

    def on_results(self, records: List[bytes]) -> None:
        """Result records (completions and monitoring records) as they arrived."""

    def on_manager_lost(self, uid: bytes, hostname: Optional[str], task_ids: List[int]) -> None:
        """A manager was declared lost or its block scaled in, holding ``task_ids``."""

    def on_bad_manager(self, exception: BaseException) -> None:
        """A manager that can never work connected (another version): fail everything."""

    def on_registered(self, block_id: str) -> None:
        """A manager of ``block_id`` registered."""

    def on_node(self, info: Dict[str, Any]) -> None:
        """A manager registered or left: ``info`` holds the monitoring ``node`` table's fields."""

    def on_fatal(self, exception: BaseException) -> None:
        """The interchange thread stopped on an unexpected error: no task can finish now."""


# --- the thread --------------------------------------------------------------------------
class Interchange(ManagerIntake, LaneService):
    """Owns the ROUTER socket the managers connect to, and the thread that serves it.

    ``events`` (an ``InterchangeEvents``) hears of results, lost managers and nodes.
    """

    def __init__(self, *, addresses: Sequence[str], port: Optional[int], port_range: Tuple[int, int],
                 cert_dir: Optional[str], heartbeat_period: float, heartbeat_threshold: float,
                 manager_selector: ManagerSelector, events: InterchangeEvents, label: str = "htex"):
        #: Where managers may connect (addresses.listen_addresses); ["*"]: every interface.
        self.addresses = list(addresses)
        self.port = port
        self.port_range = port_range
        self.cert_dir = cert_dir
        self.heartbeat_period = heartbeat_period
        self.heartbeat_threshold = heartbeat_threshold
        self.selector = manager_selector
        # Bound once: the loop calls them per batch.
        self.on_results = events.on_results
        self.on_manager_lost = events.on_manager_lost
        self.on_bad_manager = events.on_bad_manager
        self.on_registered = events.on_registered
        self.on_node = events.on_node
        self.on_fatal = events.on_fatal
        self.label = label
        self.version = protocol.version_info()

        self.managers: Dict[bytes, ManagerRecord] = {}
        #: Connection fd -> uids of the managers that registered on it (``intake._register``),
        #: so that a closed connection finds its managers without scanning all of them.
        #: Entries may be stale (fds are reused; a manager may have left): checked when read.
        self._by_fd: Dict[int, Set[bytes]] = {}
        #: Managers that may have free capacity, kept as they change (dispatch never scans all).
        self._ready = ReadyManagers(manager_selector)
        self._pending: List[_Queued] = []                 # heap of (priority, task_id, record)
        self._incoming: Deque[_Queued] = deque()          # from submit(): (priority, task_id, record)
        self._priorities: Dict[int, float] = {}           # task id -> priority, for tasks that set one
        #: task id -> its record, from submit() until its result: a lost manager's unstarted
        #: tasks are sent again from here (intake.py).
        self._records: Dict[int, bytes] = {}
        self._complaints = 0        # bad input dropped (intake.py)
        #: Set when the loop died (_fail): submit() refuses from then on.
        self._dead: Optional[BaseException] = None
        self._pipelined = True      # until the first task with a priority (ManagerRecord.stop_pipelining)
        self._calls: Deque[Tuple[Callable[[Interchange], object], Future[Any]]] = deque()   # from call()
        self._bell_r, self._bell_w = os.pipe()
        os.set_blocking(self._bell_r, False)
        self._rung = False
        self._ident: Optional[int] = None      # the interchange thread's, while it runs
        self._recall_due = False
        self._drained_due = False   # a draining manager may have run out of tasks (_release_drained)
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._endpoint: Optional[binding.RouterEndpoint] = None
        self._sock: Optional[zmq.Socket[bytes]] = None    # the endpoint's ROUTER, while the thread runs
        self._closed = False
        self._poller: Optional[zmq.Poller] = None
        self._lane_listener: Optional[lanes.LaneListener] = None
        self._lanes: Dict[int, ManagerRecord] = {}   # lane fd -> its manager
        #: Held by the interchange thread except while it sleeps in poll(); a submitting
        #: thread takes it to write a task straight to a manager's lane (_submit_direct).
        self._lock = threading.Lock()

    # -- lifecycle (called from the owner's thread) -------------------------------------
    def start(self) -> int:
        """Bind the socket and start the thread; returns the worker port."""
        self._fds = DescriptorBudget()      # raises RLIMIT_NOFILE: one connection per manager
        self._endpoint = binding.bind(self.addresses, self.port, self.port_range, self.cert_dir)
        self._sock = self._endpoint.sock
        self.port = self._endpoint.port
        self.addresses = self._endpoint.bound
        if lanes.enabled():
            try:
                self._lane_listener = lanes.LaneListener()
            except OSError as e:   # no loopback interface: everything stays on ZMQ
                logger.warning("the direct lane for local managers is off: %s", e)
        self._thread = threading.Thread(target=self._run, name=f"htex-interchange-{self.label}", daemon=True)
        self._thread.start()
        return self.port

    def close(self, timeout: float = 2.0) -> None:
        """Tell managers to stop, end the thread, close sockets.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stopping = True
        self._ring()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # pragma: no cover - a callback blocked
                logger.error("interchange thread did not stop within %.1fs", timeout)
        for fd in (self._bell_r, self._bell_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- thread-safe entry points --------------------------------------------------------
    def _ring(self) -> None:
        if not self._rung:
            self._rung = True
            try:
                os.write(self._bell_w, b"x")
            except OSError:
                pass

    def submit(self, task_id: int, record: bytes, priority=None) -> None:
        if self._dead is not None:
            raise RuntimeError(f"the interchange has stopped: {self._dead!r}")
        self._records[task_id] = record
        if priority is None:
            priority = _INF
        else:
            self._priorities[task_id] = priority
        item = (priority, task_id, record)
        if threading.get_ident() == self._ident:
            # A result callback submitting a dependent task: the loop takes incoming tasks
            # right after the callbacks, no bell needed (and the lock is already held).
            self._incoming.append(item)
            return
        if self._lanes and not self._pending and self._submit_direct(item):
            return
        self._incoming.append(item)
        if not self._rung:
            self._ring()

    def _submit_direct(self, item) -> bool:
        """Write one task straight to a manager's lane from the calling thread.

        Only when nothing is queued (so order cannot be bypassed), the task has no priority
        (the first one ends pipelining: _take_incoming) and the chosen manager has a lane;
        False: nothing was done, the task goes the usual way.  Waiting a little for the lock
        pays: the interchange thread holds it for one loop iteration (often finishing the one
        that completed the caller's previous task), and waking it up costs more.  The wait is
        bounded: the caller may hold a lock of its own that a result callback on the
        interchange thread is waiting for; an unbounded wait would deadlock.
        """
        lock = self._lock
        if not lock.acquire(timeout=DIRECT_SUBMIT_WAIT_S):
            return False
        try:
            poller = self._poller
            if self._pending or self._incoming or self._stopping or poller is None or item[0] != _INF:
                return False
            # the first with an idle worker, else the first with room (choose_dispatch's passes)
            order = self._ready.pick(self.managers, 1)
            m = next((x for x in order if x.wants > 0), order[0] if order else None)
            conn = m.lane if m is not None else None
            if m is None or conn is None:
                return False
            m.tasks.add(item[1])
            if len(m.tasks) > m.worker_count:
                self._ready.excess[m.uid] = m
            m.idle_since = None
            if conn.send(protocol.TASKS, (item[2],)):
                # The rest is written when the socket drains; the sleeping poller must
                # start over to watch for that.
                poller.register(conn.fd, zmq.POLLIN | zmq.POLLOUT)
                self._ring()
            return True
        finally:
            lock.release()

    def call(self, fn: Callable[[Interchange], object], timeout: float = 10.0):
        """Run ``fn(self)`` on the interchange thread and return its result."""
        fut: Future[Any] = Future()
        # On the interchange thread itself (a result callback asking for connected_managers())
        # waiting would deadlock; not started or stopped: nothing runs concurrently.
        if self._thread is None or not self._thread.is_alive() or threading.get_ident() == self._ident:
            return fn(self)
        self._calls.append((fn, fut))
        self._ring()
        return fut.result(timeout)

    # -- the loop (interchange thread only) ---------------------------------------------
    def _router(self) -> zmq.Socket[bytes]:     # the managers' ROUTER: from start() to the end of _run()
        if self._sock is None:
            raise RuntimeError("the interchange is not running")
        return self._sock

    def _live_poller(self) -> zmq.Poller:       # the loop's poller: only while _run() runs
        if self._poller is None:
            raise RuntimeError("the interchange is not running")
        return self._poller

    def _run(self) -> None:
        lock = self._lock
        lock.acquire()      # released only while sleeping in poll() and at the very end
        self._ident = threading.get_ident()
        sock, endpoint = self._sock, self._endpoint
        assert sock is not None and endpoint is not None, "start() binds before starting the thread"
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._bell_r, zmq.POLLIN)
        # Connection closes (a killed manager's kernel sends FIN/RST) make a manager a suspect.
        # Failed accepts (out of descriptors) are reported by DescriptorBudget.
        monitor = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_ACCEPT_FAILED)
        poller.register(monitor, zmq.POLLIN)
        self._poller = poller
        listener = self._lane_listener
        if listener is not None:
            poller.register(listener.fd, zmq.POLLIN)
        bell = self._bell_r
        lanes_by_fd = self._lanes
        next_sweep = time.monotonic() + self.heartbeat_period
        try:
            while not self._stopping:
                timeout = max(0.0, min(next_sweep, self._lane_due) - time.monotonic())
                lock.release()
                try:
                    # Rounded up: a deadline less than 1 ms away must not become poll(0), which
                    # would spin until it passes.
                    ready = poller.poll(math.ceil(timeout * 1000))
                finally:
                    lock.acquire()
                for target, event in ready:
                    if target is sock:
                        self._drain_socket(sock)
                    elif target is monitor:
                        if self._on_disconnects(monitor):
                            next_sweep = min(next_sweep, time.monotonic() + SUSPECT_GRACE_S + 0.05)
                    elif target == bell:
                        # Drain first, then re-arm: re-arming before the read could swallow a
                        # byte rung in between, leaving _rung True with an empty pipe, so no
                        # later submit() or call() would ever wake this loop again.
                        try:
                            os.read(bell, 4096)
                        except BlockingIOError:
                            pass
                        self._rung = False
                    elif target in lanes_by_fd:
                        if self._serve_lane(lanes_by_fd[target], event):
                            next_sweep = min(next_sweep, time.monotonic() + SUSPECT_GRACE_S + 0.05)
                    elif listener is not None:
                        self._serve_listener(listener, target)
                self._take_incoming()
                self._run_calls()
                if self._pending:
                    self._dispatch()
                elif self._recall_due and len(self.managers) > 1:
                    self._recall_due = False    # re-armed by results, registrations, returns
                    self._recall()
                if self._drained_due:
                    self._release_drained()
                now = time.monotonic()
                if now >= self._lane_due:
                    self._lane_housekeeping(now)
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + min(self.heartbeat_period, max(0.05, self.heartbeat_threshold / 4))
        except BaseException as e:   # a bug: no task can finish now, so say so to every one
            self._fail(e)
        finally:
            for m in list(lanes_by_fd.values()):
                self._drop_lane(m)
            if listener is not None:
                listener.close()
            sock.disable_monitor()
            monitor.close(linger=0)
            self._stop_managers(sock)
            self._sock = None
            endpoint.close(linger_ms=200)   # let the STOP messages out
            for _fn, fut in self._calls:
                fut.set_exception(RuntimeError("the interchange has stopped"))
            self._poller = None
            lock.release()

    def _fail(self, e: BaseException) -> None:
        logger.critical("the interchange thread stopped on an unexpected error; every outstanding task "
                        "of %s fails and the executor can take no more", self.label, exc_info=e)
        self._dead = e
        try:
            self.on_fatal(e)
        except Exception:
            logger.exception("failing the outstanding tasks failed")

    def _on_disconnects(self, monitor) -> bool:
        """Mark managers whose connection closed as suspects and PING them; True if any."""
        found = False
        while monitor.poll(0):
            event = recv_monitor_message(monitor)
            if event["event"] == zmq.EVENT_ACCEPT_FAILED:
                self._fds.accept_failed(int(event["value"]))
                continue
            fd = int(event["value"])
            uids = self._by_fd.pop(fd, ())
            for uid in uids:
                m = self.managers.get(uid)
                # fds are reused, so this may be a live manager on a new connection: the
                # PING tells them apart (a live one answers within SUSPECT_GRACE_S).
                if m is not None and m.fd == fd and m.suspect_since is None:
                    m.suspect_since = time.monotonic()
                    self._router().send_multipart([m.uid, protocol.PING])
                    found = True
        return found

    def _take_incoming(self) -> None:
        if self._pipelined and self._priorities:
            self._pipelined = False
            for m in self.managers.values():
                m.stop_pipelining()
        incoming, pending, push = self._incoming, self._pending, heapq.heappush
        while incoming:
            push(pending, incoming.popleft())

    def _run_calls(self) -> None:
        while self._calls:
            fn, fut = self._calls.popleft()
            try:
                fut.set_result(fn(self))
            except Exception as e:
                fut.set_exception(e)

    def _dispatch(self) -> None:
        wanted = len(self._pending)
        ready = self._ready
        plan = choose_dispatch(wanted, ready.pick(self.managers, wanted))
        if not plan:
            return
        left = wanted - sum(n for _, n in plan)
        pending, pop, send = self._pending, heapq.heappop, self._router().send_multipart
        for m, n in plan:
            frames = [m.uid, protocol.TASKS]
            ids = m.tasks
            if left and n == m.free and latency_bound(m, time.monotonic()):
                grow_pipeline(m)        # its window is full and its round trip holds it back
            for _ in range(n):
                _, task_id, record = pop(pending)
                ids.add(task_id)
                frames.append(record)
            if len(ids) > m.worker_count:
                ready.excess[m.uid] = m
            m.idle_since = None
            conn = m.lane
            if conn is None:
                send(frames, copy=False)    # large records go zero-copy (small ones are copied)
            elif conn.send(protocol.TASKS, frames[2:]):
                self._live_poller().register(conn.fd, zmq.POLLIN | zmq.POLLOUT)   # the rest when it drains

    def _recall(self) -> None:
        for m, n in plan_recalls(self._ready.recall_candidates(self.managers)):
            m.recalling = True
            self._router().send_multipart([m.uid] + protocol.recall_message(n))

    def _sweep(self, now: float) -> None:
        for m in find_lost_managers(self.managers.values(), now, self.heartbeat_threshold):
            self._router().send_multipart([m.uid] + protocol.stop_message("declared lost"))
            why = ("closed its connection and did not answer a PING" if m.suspect_since is not None
                   else f"was silent for {now - m.last_heard:.1f}s (heartbeat_threshold)")
            self._lose_manager(m, why)
        self._release_drained()

    def _release_drained(self) -> None:
        """Draining managers that hold no task more: tell them to exit (they then end their block)."""
        self._drained_due = False
        for m in list(self.managers.values()):
            if m.draining and not m.tasks:
                self._router().send_multipart([m.uid, protocol.DRAINED])
                self._remove_manager(m)

    def _stop_managers(self, sock) -> None:
        for uid, m in list(self.managers.items()):
            try:
                sock.send_multipart([uid] + protocol.stop_message("executor shutdown"), zmq.NOBLOCK)
            except zmq.ZMQError:
                pass
            self._node_event(m, False)

    def _remove_manager(self, m: ManagerRecord) -> None:
        """A manager left (lost, drained or scaled in): forget it, close its lane, record it."""
        del self.managers[m.uid]
        self._drop_lane(m)
        self._node_event(m, False)

    def _node_event(self, m: ManagerRecord, active: bool) -> None:
        """A manager registered (``active``) or left: one row of monitoring's ``node`` table."""
        info = m.info
        now = time.time()
        try:
            self.on_node({
                "hostname": info.get("hostname"), "uid": m.uid.decode(errors="replace"),
                "block_id": m.block_id, "cpu_count": info.get("cpu_count"),
                "total_memory": info.get("total_memory"), "active": active,
                "worker_count": m.worker_count, "python_v": info.get("python_version") or info.get("python_v"),
                "timestamp": now,
                "last_heartbeat": now - (time.monotonic() - m.last_heard),
                "reg_time": info.get("start_time")})
        except Exception:
            logger.exception("reporting manager %s to monitoring failed", m.uid)

    # -- helpers for call() ----------------------------------------------------------------
    def on_own_thread(self) -> bool:
        """True on the interchange thread (where waiting for it would deadlock)."""
        return threading.get_ident() == self._ident

    def send_control(self, uid: bytes, frames: List[bytes]) -> None:
        """Send a control message to one manager (interchange thread only: from call())."""
        self._router().send_multipart([uid] + frames)

    def snapshot(self) -> List[dict]:
        now = time.monotonic()
        return [m.describe(now) for m in self.managers.values()]

    def hold_block(self, block_id: str) -> List[str]:
        """Stop sending tasks to a block's managers and tell them to exit."""
        held = []
        for m in list(self.managers.values()):
            if m.block_id == str(block_id):
                m.active = False
                held.append(m.uid.decode())
                self._router().send_multipart([m.uid] + protocol.stop_message("block scaled in"))
                self._lose_manager(m, "was scaled in")
        return held
