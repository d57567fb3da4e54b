"""What the interchange takes in from managers, and what it does when one is lost.

A mixin of ``Interchange`` (like ``lane_service.py``): these methods run on the interchange
thread and use its state.  They are kept apart because they are the interchange's trust
boundary: every message from the network is checked here before anything acts on it.

Rules (docs/htex.md, "What the network can reach"):

* A peer that has not registered is ignored: its RESULTS and RETURNED are dropped unread,
  a HEARTBEAT is answered with STOP (a manager declared lost learns it is), nothing of it
  is unpickled.  Registration is JSON, checked field by field.
* A registered manager's result counts only for a task it holds; a start report only
  marks tasks it holds; RETURNED gives back only tasks it holds, and the interchange
  requeues its own copy of each task, never the bytes that came back.
* Malformed input (short records, unknown outcomes, a registration of the wrong shape) is
  dropped with a warning (rate-limited: a hostile peer cannot flood the log).  Nothing a
  peer sends can stop the interchange thread.
* A lost manager's tasks that had not started go back to the queue; only those it had
  started fail with ``ManagerLost`` (they may have had effects: retrying is the user's call).
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

import zmq

from parsl._base.errors import VersionMismatch
from parsl._htex import protocol
from parsl._htex.matching import MAX_PIPELINE_RTT_S, ManagerRecord

logger = logging.getLogger("parsl._htex.interchange")

_INF = math.inf     # the priority of a task that gave none (last)
#: Complaints about bad input: the first few are logged, then one in every COMPLAIN_EVERY.
COMPLAIN_FIRST = 20
COMPLAIN_EVERY = 1000


class ManagerIntake:
    """Message intake and manager loss for the interchange (see the module docstring)."""

    managers: Dict[bytes, ManagerRecord]
    _records: Dict[int, bytes]
    _by_fd: Dict[int, Set[bytes]]
    _ready: Any         # matching.ReadyManagers (the interchange's)
    _fds: Any           # limits.DescriptorBudget
    _priorities: Dict[int, float]
    _incoming: Deque[Tuple[float, int, bytes]]
    _recall_due: bool
    version: Dict[str, Any]
    cert_dir: Optional[str]
    _complaints: int

    # provided by LaneService (a later base: a stub here would shadow it) and by Interchange
    _offer_lane: Callable[[zmq.Socket, ManagerRecord], None]

    def _remove_manager(self, m: ManagerRecord) -> None:
        raise NotImplementedError

    def _node_event(self, m: ManagerRecord, active: bool) -> None:
        raise NotImplementedError

    def _ring(self) -> None:
        raise NotImplementedError

    on_results: Any
    on_manager_lost: Any
    on_bad_manager: Any
    on_registered: Any

    def _complain(self, message: str, *args: Any) -> None:
        """A warning about input from the network, rate-limited."""
        self._complaints += 1
        n = self._complaints
        if n <= COMPLAIN_FIRST or n % COMPLAIN_EVERY == 0:
            logger.warning("dropped: " + message + " (%d dropped so far)", *args, n)

    def _drain_socket(self, sock: zmq.Socket) -> None:
        recv_first = sock.recv
        recv_rest = sock.recv_multipart
        managers = self.managers
        results: List = []
        for _ in range(1000):
            try:
                first = recv_first(zmq.NOBLOCK, copy=False)   # a Frame: knows its connection
            except zmq.Again:
                break
            # The identity frame always has more: a peer's message has at least one frame.
            frames = recv_rest(zmq.NOBLOCK)
            uid, kind = first.bytes, frames[0]
            m = managers.get(uid)
            if m is None:
                if kind == protocol.REGISTER:
                    self._register(sock, uid, frames, first.get(zmq.SRCFD))
                elif kind == protocol.HEARTBEAT:
                    sock.send_multipart([uid] + protocol.stop_message("unknown manager (declared lost)"))
                else:
                    self._complain("a %r message from %r, which has not registered", kind[:8], uid[:64])
                continue
            if m.suspect_since is not None:
                m.suspect_since = None      # it answered: the closed connection was an old one
                self._index_fd(m)           # its own connection stays open: index it again
            if kind == protocol.RESULTS:
                self._took_results(m, frames, results, 1)
            elif kind == protocol.HEARTBEAT:
                m.last_heard = time.monotonic()
                if m.rtt_probe_at is not None:      # the answer to our round-trip PING
                    took_rtt(m, m.last_heard)
                sock.send_multipart([uid, protocol.HEARTBEAT])
            elif kind == protocol.RETURNED:
                self._returned(m, frames)
            elif kind == protocol.REGISTER:
                self._register(sock, uid, frames, first.get(zmq.SRCFD))
            elif kind == protocol.DRAIN:
                m.draining = self._drained_due = True
                m.last_heard = time.monotonic()
            elif kind == protocol.PACKAGES:
                m.took_packages(protocol.decode_packages(frames))   # frames: [kind, json]
            else:
                self._complain("unknown message kind %r from manager %r", kind[:8], uid)
        self._deliver(results)

    def _took_results(self, m: ManagerRecord, records: List, results: List, start: int = 0) -> None:
        """Account for a manager's result records (``records[start:]``); keep the good ones."""
        m.last_heard = time.monotonic()
        self._ready.add(m)
        tasks, running, held, prios = m.tasks, m.running, self._records, self._priorities
        classify, task_id = protocol.classify_result, protocol.TASK_ID.unpack_from
        keep = results.append
        report = None
        held_before = len(tasks)
        for i in range(start, len(records)):
            r = records[i]
            # The common case inline (a plain result or exception: outcome 0 or 1); anything
            # else goes through the full check.
            t = (task_id(r)[0] or protocol.MALFORMED_RECORD) if len(r) > 8 and r[8] < 2 else classify(r)
            if t > 0:
                if t in tasks:
                    tasks.remove(t)
                    held.pop(t, None)
                    if running:
                        running.discard(t)
                    if prios:
                        prios.pop(t, None)
                    keep(r)
                else:
                    self._complain("a result for task %d, which manager %r does not hold", t, m.uid)
            elif t == protocol.MONITORING_RECORD:
                keep(r)
            elif t == protocol.STARTED_RECORD:
                report = r
            else:
                self._complain("a malformed result record (%d bytes) from manager %r", len(r), m.uid)
        m.done += held_before - len(tasks)
        if report is not None:
            # Read after the results: a task that started and ended in this batch is no
            # longer held, so it never enters ``running``.
            running |= tasks.intersection(protocol.started_tasks(report))
        if not tasks:
            m.idle_since = m.last_heard
            self._drained_due = self._drained_due or m.draining

    def _deliver(self, results: List) -> None:
        if results:
            self._recall_due = True
            try:
                self.on_results(results)
            except Exception:   # a bug in a callback must not stop the interchange
                logger.exception("handling %d results failed", len(results))

    def _returned(self, m: ManagerRecord, frames: List) -> None:
        """Tasks a manager gave back after a RECALL: requeue our own copy of each."""
        self._recall_due = True
        m.recalling = False
        m.last_heard = time.monotonic()
        self._ready.add(m)
        tasks, held = m.tasks, self._records
        for r in frames[1:]:
            t = protocol.task_id_of(r) if len(r) >= 8 else 0
            record = held.get(t)
            if t in tasks and t not in m.running and record is not None:
                tasks.remove(t)
                self._incoming.append((self._priorities.get(t, _INF), t, record))
            else:
                self._complain("manager %r returned task %d, which it does not hold unstarted", m.uid, t)

    def _index_fd(self, m: ManagerRecord) -> None:
        """File ``m`` under its connection's fd, for ``Interchange._on_disconnects``."""
        if m.fd is not None:
            self._by_fd.setdefault(m.fd, set()).add(m.uid)

    def _register(self, sock: zmq.Socket, uid: bytes, frames: List, fd: Optional[int] = None) -> None:
        try:
            if len(frames) != 2:
                raise protocol.BadRegistration(f"a registration has 2 frames, not {len(frames)}")
            uid.decode()    # reports and logs print it
            reg = protocol.decode_registration(frames[1], self.version)
        except (protocol.BadRegistration, UnicodeDecodeError) as e:
            sock.send_multipart([uid] + protocol.reject_message(str(e)))
            versions = getattr(e, "versions", None)
            # A readable registration of another version is a real manager that can never
            # work: fail everything, naming the difference.  An unreadable one counts only
            # from a peer that proved it holds the client key (encrypted=True); unencrypted,
            # anyone can send one, and must not be able to stop the run.
            if versions and (self.cert_dir is not None or not getattr(e, "unreadable", False)):
                self.on_bad_manager(VersionMismatch(self.version, versions))
            else:
                self._complain("a bad registration from %r: %s", uid[:64], e)
            return
        old = self.managers.get(uid)
        if old is not None:     # registered again (restarted with the same uid)
            self._lose_manager(old, "registered again")
        record = self.managers[uid] = ManagerRecord(uid, reg, time.monotonic(), self._pipelined)
        record.fd = fd
        self._index_fd(record)
        self._ready.add(record)
        self._fds.registered(len(self.managers))
        self._offer_lane(sock, record)
        probe_rtt(sock, record)
        self._recall_due = True
        self.on_registered(reg.block_id)
        self._node_event(record, True)
        logger.info("manager %s registered: block %s, %s workers, host %s", uid.decode(),
                    reg.block_id, reg.worker_count, reg.hostname)

    _pipelined: bool

    def _lose_manager(self, m: ManagerRecord, why: str) -> Tuple[int, int]:
        """``m`` is gone: its unstarted tasks go back to the queue, its started ones fail.

        Returns (requeued, failed).
        """
        self._remove_manager(m)
        held, prios, running = self._records, self._priorities, m.running
        started: List[int] = []
        requeued = 0
        for t in m.tasks:
            if t in running:
                started.append(t)
                held.pop(t, None)
                if prios:
                    prios.pop(t, None)
                continue
            record = held.get(t)
            if record is not None:
                self._incoming.append((prios.get(t, _INF), t, record))
                requeued += 1
        if requeued:
            self._ring()    # the loop may be about to sleep: take them in at once
        logger.log(logging.ERROR if started else logging.WARNING,
                   "manager %s (block %s) %s: %d started task(s) fail with ManagerLost, %d queued "
                   "task(s) go back to the queue", m.uid.decode(), m.block_id, why, len(started), requeued)
        m.tasks.clear()
        running.clear()
        if started:
            self.on_manager_lost(m.uid, m.info.get("hostname"), started)
        return requeued, len(started)


def probe_rtt(sock: zmq.Socket, m: ManagerRecord) -> None:
    """Measure ``m``'s round trip: a PING, which a manager answers at once with a HEARTBEAT
    (``_drain_socket`` reads it).  Sent while it holds no task, so it waits behind none."""
    m.rtt_probe_at = time.monotonic()
    sock.send_multipart([m.uid, protocol.PING])


def took_rtt(m: ManagerRecord, now: float) -> None:
    """A HEARTBEAT while a probe was out: its answer.  (A heartbeat the manager sent on its
    own in the meantime can only make the round trip look shorter: a smaller window.)  One
    slower than MAX_PIPELINE_RTT_S is no round trip (a manager that ignores PINGs) and is
    dropped."""
    sent, m.rtt_probe_at = m.rtt_probe_at, None
    if sent is not None and now - sent <= MAX_PIPELINE_RTT_S:
        m.rtt = now - sent
