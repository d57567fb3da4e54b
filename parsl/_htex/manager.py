"""The per-node manager ("process worker pool"): connects to the interchange, runs workers.

One event loop, one thread.  It owns:

* a ZMQ DEALER connected to the interchange (identity = manager uid);
* N worker processes, each with a task pipe, a result pipe and the shared lifeline pipe.

Tasks arrive in batches and wait in ``self.queue``; a worker gets the next one as soon as
it has room (``WORKER_DEPTH`` tasks in flight).  Records are forwarded without unpickling.
The interchange may send more tasks than there are workers (to hide the network round
trip); it takes unstarted ones back with RECALL when another node has idle workers.

Liveness:
* a worker's result pipe reaching EOF means the worker died: its tasks fail with
  ``WorkerLost`` and a replacement worker starts;
* the interchange silent for ``heartbeat_threshold`` -> the manager exits;
* the manager exiting (any way, even SIGKILL) closes the lifeline, so workers exit too.
"""
from __future__ import annotations

import errno
import fcntl
import hmac
import logging
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from typing import Deque, Dict, List, Optional

import psutil
import zmq
from zmq.utils.monitor import recv_monitor_message

from parsl._base.errors import WorkerLost
from parsl._base.remote import RemoteExceptionWrapper
from parsl._base.version import VERSION
from parsl._htex import curve, placement, protocol, taskfiles
from parsl._htex import lane as lanes
from parsl._htex.addresses import tcp_url
from parsl._htex.packages import installed_packages
from parsl._htex.settings import ManagerSettings

logger = logging.getLogger("parsl.htex.manager")

#: Tasks a worker may hold at once; 1 keeps a long task from delaying a queued one.
WORKER_DEPTH = 1
#: Results are sent upstream in batches while this node still has queued work (measured:
#: one ZMQ send per result cost ~50 us of system time per task); a batch leaves as soon as
#: it has UPSTREAM_BATCH results, is UPSTREAM_DELAY_S old, or the local queue runs low.
UPSTREAM_BATCH = 32
UPSTREAM_DELAY_S = 0.002
#: Tasks handed to workers are reported with the next results, or on their own after this
#: long without one (protocol.OUTCOME_STARTED).  Long enough that a task shorter than this
#: costs no message of its own (measured: 2 ms cost ~150 us of manager CPU per 5 ms task);
#: short enough that a task started this long before its manager was lost is known to
#: have started (one that started more recently is requeued, and may run twice).
START_REPORT_DELAY_S = 0.02
#: After the interchange's TCP connection closes (FIN/RST), how long a reconnect may take
#: before the manager gives up (capped by heartbeat_threshold).
CLOSED_CONNECTION_GRACE_S = 2.0
#: Workers dying this soon after start, this many times in a row, mean they cannot start.
QUICK_DEATH_S = 2.0
MAX_QUICK_DEATHS = 5


#: Frames at least this large stay in ZMQ's buffer (a memoryview) instead of being copied
#: into bytes: a 100 MB argument is then copied once here (into the worker's pipe buffer).
ZERO_COPY_BYTES = 1 << 16
#: Worker pipes are widened to this (Linux F_SETPIPE_SZ; the default 64 KiB moves a large
#: argument in thousands of poll/write rounds).
PIPE_BYTES = 1 << 20


def _frames(raw) -> List:
    """A received message's frames: small ones as bytes, large ones as zero-copy memoryviews."""
    return [f.bytes if len(f) < ZERO_COPY_BYTES else f.buffer for f in raw]


def _widen_pipe(fd: int) -> None:
    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass        # not Linux, or above /proc/sys/fs/pipe-max-size: the default still works


class WorkerProcess:
    """One worker: its process and the manager's ends of its pipes."""

    __slots__ = ("rank", "proc", "task_fd", "result_fd", "inflight", "outbuf", "inbuf", "alive", "started",
                 "ran_tasks")

    def __init__(self, rank: int, proc: subprocess.Popen, task_fd: int, result_fd: int):
        self.rank = rank
        self.proc = proc
        self.task_fd = task_fd
        self.result_fd = result_fd
        self.inflight: Deque[int] = deque()
        self.outbuf = bytearray()
        self.inbuf = bytearray()
        self.alive = True
        self.started = time.monotonic()
        self.ran_tasks = False


class Manager:
    """One node's manager.  ``parsl_version`` is what it registers with (its entry point's)."""

    def __init__(self, settings: ManagerSettings, parsl_version: str = VERSION):
        self.settings = settings
        self.parsl_version = parsl_version
        self.addresses = list(settings.addresses)
        self.port = settings.port
        self.uid = settings.uid
        self.block_id = settings.block_id
        self.worker_count = settings.worker_count
        self.heartbeat_period = settings.heartbeat_period
        self.heartbeat_threshold = settings.heartbeat_threshold
        self.drain_period = settings.drain_period
        self.address_probe_timeout = settings.address_probe_timeout
        self.cert_dir = settings.cert_dir
        self.accelerators = list(settings.accelerators)
        try:
            cpus = sorted(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            cpus = list(range(os.cpu_count() or 1))
        self.affinity = placement.cpu_affinity(settings.cpu_affinity, settings.worker_count, cpus,
                                               settings.cores_per_worker)

        self.queue: Deque[bytes] = deque()
        self.workers: Dict[int, WorkerProcess] = {}     # rank -> worker
        self.by_fd: Dict[int, WorkerProcess] = {}        # result/task fd -> worker
        lifeline_r, lifeline_w = os.pipe()
        self.lifeline_r = lifeline_r
        self.lifeline_w: Optional[int] = lifeline_w    # None once close() has closed it
        os.set_inheritable(self.lifeline_r, False)
        self.upstream: List[bytes] = []
        #: Tasks handed to workers since the last report (protocol.started_record): it rides
        #: in the next RESULTS message, or leaves on its own after START_REPORT_DELAY_S.
        self.started: List[int] = []
        #: workers' monitoring records, sent as ONE batch record ahead of the next results
        #: (same socket, so they always arrive before the results they describe).
        self.monitoring: List[bytes] = []
        #: The ZMQ context and DEALER socket to the interchange: set by _connect(), cleared by close().
        self.ctx: Optional[zmq.Context[zmq.Socket[bytes]]] = None
        self.sock: Optional[zmq.Socket[bytes]] = None
        #: The direct lane to the interchange (same host only): tasks and results bypass ZMQ.
        self.lane: Optional[lanes.LaneConnection] = None
        self.lane_token: Optional[bytes] = None
        #: Results go on the lane only after the interchange's ACK proved it is the right peer.
        self.lane_ready = False
        #: Set by run() (tests set it directly); None before, so _start_worker leaves the registering to run().
        self.poller: Optional[zmq.Poller] = None
        self.running = True
        self.draining = False
        self.failed = False
        self.quick_deaths = 0
        #: {name: version} of the installed packages, gathered when first asked (PACKAGES).
        self.packages: Optional[Dict[str, str]] = None
        #: Large task records reach workers through files in /dev/shm, not their pipes.
        self.files = taskfiles.TaskFiles()

    # -- workers ---------------------------------------------------------------------
    def _start_worker(self, rank: int) -> WorkerProcess:
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        cfg = self.settings.worker_config(rank, task_fd=task_r, result_fd=result_w, lifeline_fd=self.lifeline_r,
                                          manager_pid=os.getpid(), cpu_affinity=self.affinity.get(rank))
        env = dict(os.environ)
        env.update(PARSL_WORKER_RANK=str(rank), PARSL_WORKER_COUNT=str(self.worker_count),
                   PARSL_WORKER_POOL_ID=self.uid, PARSL_WORKER_BLOCK_ID=str(self.block_id))
        env.update(placement.affinity_env(self.affinity.get(rank)))
        if self.accelerators:
            env.update(placement.accelerator_env(self.accelerators[rank % len(self.accelerators)]))
        proc = subprocess.Popen([sys.executable, "-m", "parsl._htex.worker", cfg.encode()],
                                pass_fds=(task_r, result_w, self.lifeline_r), env=env,
                                start_new_session=True, stdin=subprocess.DEVNULL)
        os.close(task_r)
        os.close(result_w)
        _widen_pipe(task_w)
        _widen_pipe(result_r)
        os.set_blocking(task_w, False)
        os.set_blocking(result_r, False)
        w = WorkerProcess(rank, proc, task_w, result_r)
        self.workers[rank] = w
        self.by_fd[result_r] = w
        self.by_fd[task_w] = w
        if self.poller is not None:
            self.poller.register(result_r, zmq.POLLIN)
        logger.info("started worker %d (pid %d)", rank, proc.pid)
        return w

    def _worker_died(self, w: WorkerProcess) -> None:
        poller = self.poller
        assert poller is not None, "workers are read only from run()'s loop"
        w.alive = False
        for fd in (w.result_fd, w.task_fd):
            try:
                poller.unregister(fd)
            except KeyError:
                pass
            self.by_fd.pop(fd, None)
            os.close(fd)
        # The worker's children (bash apps) would otherwise outlive it.
        _kill_group(w.proc.pid)
        code = w.proc.wait()
        host = socket.gethostname()
        for task_id in w.inflight:
            self.files.done(task_id)
            try:
                raise WorkerLost(w.rank, host)
            except WorkerLost:
                wrapper = RemoteExceptionWrapper(*sys.exc_info())
            self.upstream.append(protocol.encode_value(task_id, protocol.OUTCOME_EXCEPTION, wrapper))
        logger.warning("worker %d (pid %d) %s (code %s) while running %d task(s); replacing it", w.rank, w.proc.pid,
                       "gave up on a task past its walltime" if code == protocol.WORKER_EXIT_ABANDONED else "died",
                       code, len(w.inflight))
        del self.workers[w.rank]
        # A worker that dies at start-up (broken environment) would otherwise be restarted
        # forever while tasks wait: give up so the block fails with the worker's stderr.
        if not w.ran_tasks and not w.inflight and time.monotonic() - w.started < QUICK_DEATH_S:
            self.quick_deaths += 1
        else:
            self.quick_deaths = 0
        if self.quick_deaths >= MAX_QUICK_DEATHS:
            logger.error("workers keep dying at start-up (%d in a row, last exit code %s): giving up; "
                         "their error output is in this block's stderr file", self.quick_deaths, code)
            self.failed = True
            self.running = False
        if self.running:
            self._start_worker(w.rank)

    def _read_worker(self, w: WorkerProcess) -> None:
        try:
            data = os.read(w.result_fd, 65536)  # below the mmap threshold: no mmap/munmap per read
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._worker_died(w)
            return
        buf = w.inbuf
        buf += data
        head = protocol.RECORD_HEAD
        pos = 0
        while len(buf) - pos >= 4:
            (n,) = head.unpack_from(buf, pos)
            if len(buf) - pos - 4 < n:
                break
            record = bytes(buf[pos + 4:pos + 4 + n])
            pos += 4 + n
            if protocol.is_completion(record):
                if protocol.worker_exits(record):     # it gave up on a task and is ending
                    w.alive, record = False, protocol.clear_worker_exits(record)
                self.files.done(w.inflight.popleft())
                w.ran_tasks = True
                self.upstream.append(record)
            else:
                self.monitoring.append(record)
        del buf[:pos]

    def _dispatch(self) -> None:
        queue = self.queue
        if not queue:
            return
        for w in self.workers.values():
            if not queue:
                break
            while queue and len(w.inflight) < WORKER_DEPTH and w.alive:
                record = queue.popleft()
                task_id = protocol.task_id_of(record)
                w.inflight.append(task_id)
                self.started.append(task_id)
                path = self.files.write(task_id, record) if self.files.wants(record) else None
                if path is not None:
                    w.outbuf += taskfiles.pointer(task_id, path)
                    continue
                w.outbuf += protocol.RECORD_HEAD.pack(len(record))
                w.outbuf += record
            if w.outbuf:
                self._flush_worker(w)

    def _flush_worker(self, w: WorkerProcess) -> None:
        try:
            n = os.write(w.task_fd, w.outbuf)
        except BlockingIOError:
            n = 0
        except OSError:  # the worker died; its result pipe will say so
            w.outbuf.clear()
            return
        del w.outbuf[:n]
        poller = self.poller
        assert poller is not None, "workers are fed only from run()'s loop"
        if w.outbuf:
            poller.register(w.task_fd, zmq.POLLOUT)
        else:
            try:
                poller.unregister(w.task_fd)
            except KeyError:
                pass

    # -- interchange link -------------------------------------------------------------
    def _probe(self) -> str:
        """The first advertised address that accepts a TCP connection."""
        deadline = time.monotonic() + self.address_probe_timeout
        found: List[str] = []
        done = threading.Event()

        def probe(addr):
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    with socket.create_connection((addr, self.port), timeout=2):
                        found.append(addr)
                        done.set()
                        return
                except OSError:
                    done.wait(0.2)

        threads = [threading.Thread(target=probe, args=(a,), daemon=True) for a in self.addresses]
        for t in threads:
            t.start()
        done.wait(self.address_probe_timeout)
        done.set()
        if not found:
            raise ConnectionError(f"none of the interchange addresses {self.addresses} port {self.port} "
                                  f"answered within {self.address_probe_timeout}s: check that this node can "
                                  "reach the submit host (set HighThroughputExecutor(address=...))")
        return found[0]

    def _connect(self, addr: str) -> None:
        ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self.ctx = ctx
        sock = self.sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, self.uid.encode())
        sock.setsockopt(zmq.LINGER, 0)
        # Never block on send: with the interchange gone a full queue would otherwise stop
        # this loop before it notices the silence and exits (heartbeat_threshold).
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.setsockopt(zmq.RCVHWM, 0)
        if ":" in addr:
            sock.setsockopt(zmq.IPV6, 1)
        if self.cert_dir:
            curve.configure_client(sock, self.cert_dir)
        sock.connect(tcp_url(addr, self.port))
        logger.info("connected to interchange at %s:%d", addr, self.port)

    def _send(self, frames: List[bytes]) -> None:
        lane = self.lane
        if lane is not None and self.lane_ready and frames[0] == protocol.RESULTS:
            if lane.send(protocol.RESULTS, frames[1:]):
                poller = self.poller
                assert poller is not None, "a lane is opened only from run()'s loop"
                poller.register(lane.fd, zmq.POLLIN | zmq.POLLOUT)   # the rest when it drains
            return
        sock = self.sock
        assert sock is not None, "run() connects before anything is sent"
        sock.send_multipart(frames)

    # -- the direct lane (lane.py) ----------------------------------------------------
    def _open_lane(self, port: int, token: bytes) -> None:
        if self.lane is not None or not lanes.enabled():
            return
        poller = self.poller
        assert poller is not None, "lane offers arrive only in run()'s loop"
        try:
            lane = self.lane = lanes.connect(port, token, self.uid.encode())
            self.lane_token = token
        except OSError as e:   # tasks and results simply stay on ZMQ
            logger.warning("could not open the direct lane to the interchange (port %d): %s", port, e)
            return
        poller.register(lane.fd, zmq.POLLIN)
        logger.info("direct lane to the interchange open (port %d)", port)

    def _serve_lane(self, event: int) -> None:
        lane, poller = self.lane, self.poller
        assert lane is not None and poller is not None, "run()'s loop serves the lane only while it is open"
        if event & zmq.POLLOUT and not lane.flush():
            poller.register(lane.fd, zmq.POLLIN)
        if not event & (zmq.POLLIN | zmq.POLLERR):
            return
        try:
            messages = lane.receive()
        except EOFError:
            # The interchange went away; ZMQ's monitor and heartbeats decide what happens next.
            logger.info("the interchange closed the direct lane")
            self._close_lane()
            return
        for kind, records in messages:
            if kind == protocol.TASKS and self.lane_ready:
                self.queue.extend(records)
            elif kind == protocol.LANE_ACK and not self.lane_ready and records \
                    and self.lane_token is not None and hmac.compare_digest(records[0], self.lane_token):
                self.lane_ready = True
            else:
                logger.warning("unexpected message %r on the direct lane (not our interchange?): closing it", kind)
                self._close_lane()
                return

    def _close_lane(self) -> None:
        lane, self.lane = self.lane, None
        self.lane_ready = False
        if lane is None:
            return
        lane.close(self.poller)

    def _send_upstream(self) -> None:
        records = self.upstream
        if self.monitoring:
            records.insert(0, protocol.monitoring_batch(self.monitoring))
            self.monitoring = []
        if self.started:    # first: the interchange reads starts before the results they precede
            records.insert(0, protocol.started_record(self.started))
            self.started = []
        self._send(protocol.results_message(records))
        self.upstream = []

    def _on_message(self, frames: List[bytes]) -> None:
        kind = frames[0]
        if kind == protocol.TASKS:
            self.queue.extend(frames[1:])
        elif kind == protocol.HEARTBEAT:
            pass
        elif kind == protocol.PACKAGES:
            if self.packages is None:
                self.packages = installed_packages()
            self._send(protocol.packages_message(self.packages))
        elif kind == protocol.PING:
            self._send([protocol.HEARTBEAT])
        elif kind == protocol.LANE:
            self._open_lane(*protocol.decode_lane_offer(frames))
        elif kind == protocol.RECALL:
            # Give back the newest unstarted tasks: another node has idle workers.
            n = min(protocol.decode_recall(frames), len(self.queue))
            given = [self.queue.pop() for _ in range(n)]
            self._send(protocol.returned_message(reversed(given)))
        elif kind in (protocol.STOP, protocol.DRAINED):
            logger.info("interchange asked us to stop (%r)", protocol.decode_reason(frames))
            self.running = False
        elif kind == protocol.REJECT:
            logger.error("interchange rejected this manager: %s", protocol.decode_reason(frames))
            self.running = False

    def registration(self) -> protocol.Registration:
        return protocol.Registration.create(
            uid=self.uid, block_id=self.block_id, worker_count=self.worker_count,
            prefetch_capacity=self.settings.prefetch_capacity, start_time=time.time(), os=platform.system(),
            hostname=socket.gethostname(), dir=os.getcwd(), cpu_count=os.cpu_count(),
            total_memory=psutil.virtual_memory().total, pid=os.getpid(), parsl_version=self.parsl_version)

    # -- main loop --------------------------------------------------------------------
    def run(self) -> None:
        addr = self._probe()
        for rank in range(self.worker_count):
            self._start_worker(rank)
        self._connect(addr)
        sock = self.sock
        assert sock is not None     # _connect() set it
        poller = self.poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        for worker in self.workers.values():
            poller.register(worker.result_fd, zmq.POLLIN)
        # A closed TCP connection (the user process exited or was killed: the kernel sends
        # FIN/RST) is noticed at once through the socket monitor; silence (a cut network)
        # still takes heartbeat_threshold.
        monitor = sock.get_monitor_socket(zmq.EVENT_CONNECTED | zmq.EVENT_DISCONNECTED)
        poller.register(monitor, zmq.POLLIN)
        self._send(protocol.registration_message(self.registration()))
        now = time.monotonic()
        heard_once = False          # disconnects before the interchange answered do not count
        disconnected_at = None
        closed_grace = min(self.heartbeat_threshold, CLOSED_CONNECTION_GRACE_S)
        last_heard = now
        next_heartbeat = now + self.heartbeat_period
        drain_at = now + self.drain_period if self.drain_period else None
        upstream_since = None
        started_since = None        # the oldest unreported start, when no result waits
        try:
            while self.running:
                now = time.monotonic()
                timeout = max(0.0, min(next_heartbeat, last_heard + self.heartbeat_threshold,
                                       drain_at or next_heartbeat,
                                       upstream_since + UPSTREAM_DELAY_S if upstream_since else next_heartbeat,
                                       started_since + START_REPORT_DELAY_S if started_since else next_heartbeat,
                                       disconnected_at + closed_grace if disconnected_at else next_heartbeat)
                              - now)
                # Rounded up: a deadline less than 1 ms away must not become poll(0), which
                # would spin until it passes.
                events = poller.poll(math.ceil(timeout * 1000))
                for fd, ev in events:
                    if fd is monitor:
                        while monitor.poll(0):
                            event = recv_monitor_message(monitor)["event"]
                            if event == zmq.EVENT_DISCONNECTED and heard_once:
                                disconnected_at = disconnected_at or time.monotonic()
                            elif event == zmq.EVENT_CONNECTED:
                                disconnected_at = None
                    elif fd is sock:
                        heard_once = True
                        last_heard = time.monotonic()
                        while True:
                            try:
                                frames = _frames(sock.recv_multipart(zmq.NOBLOCK, copy=False))
                            except zmq.Again:
                                break
                            self._on_message(frames)
                    elif self.lane is not None and fd == self.lane.fd:
                        self._serve_lane(ev)
                    elif ev & zmq.POLLOUT:
                        w = self.by_fd.get(fd)
                        if w is not None:
                            self._flush_worker(w)
                    else:
                        w = self.by_fd.get(fd)
                        if w is not None:
                            self._read_worker(w)
                self._dispatch()
                now = time.monotonic()
                if self.upstream or self.monitoring:
                    if upstream_since is None:
                        upstream_since = now
                    if (len(self.queue) < self.worker_count or len(self.upstream) >= UPSTREAM_BATCH
                            or now - upstream_since >= UPSTREAM_DELAY_S):
                        self._send_upstream()
                        upstream_since = started_since = None
                elif self.started:
                    # Starts alone never trigger an immediate send (a short task's start rides
                    # with its result); they leave after START_REPORT_DELAY_S at most.
                    if started_since is None:
                        started_since = now
                    elif now - started_since >= START_REPORT_DELAY_S:
                        self._send_upstream()
                        started_since = None
                if now >= next_heartbeat:
                    self._send([protocol.HEARTBEAT])
                    next_heartbeat = now + self.heartbeat_period
                if now - last_heard > self.heartbeat_threshold:
                    logger.error("no message from the interchange for %.1fs (heartbeat_threshold): exiting",
                                 now - last_heard)
                    break
                if disconnected_at is not None and now - disconnected_at >= closed_grace:
                    logger.error("the interchange closed the connection and did not come back: exiting")
                    break
                if drain_at is not None and now >= drain_at and not self.draining:
                    logger.info("drain_period reached: asking for no more tasks")
                    self.draining = True
                    self._send([protocol.DRAIN])
        finally:
            sock.disable_monitor()
            monitor.close(linger=0)
            self.close()

    def close(self) -> None:
        """Stop workers (EOF on their task pipes, then kill), close the socket.  Idempotent."""
        self.running = False
        self._close_lane()
        self.files.close()
        workers = list(self.workers.values())
        self.workers.clear()
        for w in workers:
            for fd in (w.task_fd, w.result_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.lifeline_w is not None:
            os.close(self.lifeline_w)   # every worker's watcher sees EOF now
            self.lifeline_w = None
        deadline = time.monotonic() + 1.0
        for w in workers:
            try:
                w.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(w.proc.pid)
            w.proc.wait()
        if self.sock is not None:
            self.sock.close(linger=0)
            self.sock = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    except OSError as e:  # pragma: no cover
        if e.errno != errno.ESRCH:
            raise
