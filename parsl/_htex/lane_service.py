"""The interchange's side of the direct lanes (``lane.py``): accepting them, serving them.

A mixin of ``Interchange``: these methods run on the interchange thread and use its state
(``managers``, ``_lanes``, ``_lane_listener``, ``_poller``); they are kept apart so the
loop in ``interchange.py`` reads as the loop.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable, Dict, List, Optional, Tuple

import zmq

from parsl._htex import lane as lanes
from parsl._htex import protocol
from parsl._htex.matching import ManagerRecord

logger = logging.getLogger("parsl._htex.interchange")


class LaneService:
    """Lane handling for the interchange (see the module docstring)."""

    managers: Dict[bytes, ManagerRecord]
    _lanes: Dict[int, ManagerRecord]
    _lane_listener: Optional[lanes.LaneListener]
    _poller: Optional[zmq.Poller]

    def _live_poller(self) -> zmq.Poller:
        raise NotImplementedError

    def _router(self) -> zmq.Socket[bytes]:
        raise NotImplementedError

    def _took_results(self, m: ManagerRecord, records: List, results: List, start: int = 0) -> None:
        raise NotImplementedError

    def _deliver(self, results: List) -> None:
        raise NotImplementedError

    _lose_manager: Callable[[ManagerRecord, str], Tuple[int, int]]    # intake.py

    def _offer_lane(self, sock, m: ManagerRecord) -> None:
        listener = self._lane_listener
        if listener is not None and lanes.is_same_host_peer(m.fd):
            sock.send_multipart([m.uid, *protocol.lane_offer_message(listener.port, listener.token)])

    #: When the loop must call _lane_housekeeping next (a hello deadline, the end of an
    #: accept pause); inf when nothing is due.
    _lane_due: float = math.inf
    _listener_paused_until: Optional[float] = None

    def _serve_listener(self, listener: lanes.LaneListener, fd: int) -> None:
        poller = self._poller
        assert poller is not None, "called from _run()'s loop only"
        if fd == listener.fd:
            fds, closed, out_of_resources = listener.accept()
            for old in closed:
                self._unwatch(poller, old)
            for new_fd in fds:
                if new_fd in listener.greeting:
                    poller.register(new_fd, zmq.POLLIN)
            now = time.monotonic()
            if fds:
                self._lane_due = min(self._lane_due, now + lanes.HELLO_DEADLINE_S)
            if out_of_resources:
                logger.warning("out of file descriptors accepting a lane connection: not accepting for %.1fs "
                               "(raise `ulimit -n`?)", lanes.ACCEPT_PAUSE_S)
                self._unwatch(poller, listener.fd)
                self._listener_paused_until = now + lanes.ACCEPT_PAUSE_S
                self._lane_due = min(self._lane_due, self._listener_paused_until)
            return
        if fd not in listener.greeting:
            return
        uid, conn, finished = listener.read_hello(fd)
        if not finished:
            return
        poller.unregister(fd)
        if conn is None or uid is None:     # uid is None exactly when conn is
            logger.warning("refused a lane connection without a valid hello")
            return
        m = self.managers.get(uid)
        if m is None or m.lane is not None:
            conn.close()
            return
        m.lane = conn
        self._lanes[conn.fd] = m
        # Before any task: tells the manager this lane really leads to its interchange.
        if conn.send(protocol.LANE_ACK, (listener.token,)):
            poller.register(conn.fd, zmq.POLLIN | zmq.POLLOUT)
        else:
            poller.register(conn.fd, zmq.POLLIN)
        logger.debug("manager %s opened its direct lane", uid.decode())
        if conn.inbuf:
            self._serve_lane(m, zmq.POLLIN, read=False)

    def _serve_lane(self, m: ManagerRecord, event: int, read: bool = True) -> bool:
        """Read results / write waiting tasks; True if the lane closed (the manager is a suspect)."""
        conn = m.lane
        if conn is None:
            return False
        if event & zmq.POLLOUT and not conn.flush():
            self._live_poller().register(conn.fd, zmq.POLLIN)
        if not event & (zmq.POLLIN | zmq.POLLERR):
            return False
        try:
            messages = conn.receive() if read else conn.buffered()
        except lanes.LaneFramingError as e:
            # Tasks written to it may be lost with it, and the peer cannot be trusted to
            # run anything: treat it as lost (its unstarted tasks go back to the queue).
            self._drop_lane(m)
            if self.managers.get(m.uid) is m:
                self._router().send_multipart([m.uid] + protocol.stop_message("broken direct lane"))
                self._lose_manager(m, f"broke its direct lane ({e})")
            return False
        except EOFError:
            # The manager closes its lane only when it exits: PING it over ZMQ like a
            # closed connection; no answer within SUSPECT_GRACE_S -> ManagerLost.
            self._drop_lane(m)
            if m.uid in self.managers and m.suspect_since is None:
                m.suspect_since = time.monotonic()
                self._router().send_multipart([m.uid, protocol.PING])
                return True
            return False
        if self.managers.get(m.uid) is not m:      # no longer registered: nothing it says counts
            self._drop_lane(m)
            return False
        results: List = []
        for kind, records in messages:
            if kind == protocol.RESULTS:
                if m.suspect_since is not None:
                    m.suspect_since = None
                self._took_results(m, records, results)
            else:
                logger.warning("unexpected message kind %r on the lane of manager %r", kind, m.uid)
        self._deliver(results)
        return False

    @staticmethod
    def _unwatch(poller: zmq.Poller, fd: int) -> None:
        try:
            poller.unregister(fd)
        except KeyError:
            pass

    def _lane_housekeeping(self, now: float) -> None:
        """Close hellos past their deadline; watch the listener again after an accept pause."""
        listener, poller = self._lane_listener, self._poller
        self._lane_due = math.inf
        if listener is None or poller is None:
            return
        late, nxt = listener.expire(now)
        for fd in late:
            self._unwatch(poller, fd)
        if late:
            logger.warning("closed %d lane connection(s) that sent no hello within %.1fs", len(late),
                           lanes.HELLO_DEADLINE_S)
        paused = self._listener_paused_until
        if paused is not None:
            if now >= paused:
                self._listener_paused_until = None
                poller.register(listener.fd, zmq.POLLIN)
            else:
                nxt = min(nxt, paused)
        self._lane_due = nxt

    def _drop_lane(self, m: ManagerRecord) -> None:
        conn = m.lane
        if conn is None:
            return
        m.lane = None
        self._lanes.pop(conn.fd, None)
        conn.close(self._poller)

