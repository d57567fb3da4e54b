"""Simulated HTEX managers: many managers from one process, speaking the real manager protocol.

Each simulated manager is one ZMQ DEALER socket (its identity is the manager's uid) that
registers, sends heartbeats, takes the tasks the interchange sends and answers each with a
result, exactly as a manager with ``--workers`` workers would, except that the "workers" run
nothing: a no-op result comes back at once (or after ``--task-time`` seconds).  One process
drives thousands of them from a single ``zmq.Poller``, so the interchange can be measured at
10,000 managers on one small machine.

Two protocols:

* ``chervil`` (default): ``parsl._htex.protocol`` (REGISTER / HEARTBEAT / TASKS / RESULTS);
  a direct-lane offer is ignored, so tasks and results stay on ZMQ, as for a remote node.
* ``parsl``: reference Parsl's manager messages (pickled dicts: connection_probe,
  registration, heartbeat, one ``result`` per task), for the same measurement of its
  interchange.  ``--parsl-version`` and ``--parsl-result-hex`` (its serialized ``None``)
  come from the reference environment; the driver (``managers_bench.py``) fills them in.

    python benchmarks/scale/simmanagers.py --port 54001 --managers 1000 [--workers 1]

Prints one JSON line ``{"event": "connected", ...}`` once every socket has sent its
registration, and one ``{"event": "done", ...}`` line (tasks answered, CPU seconds) when the
interchange tells every manager to stop, or on SIGTERM/SIGINT.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import pickle
import resource
import select
import signal
import socket
import sys
import time

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))   # the checkout, for parsl._htex.protocol


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class ChervilDialect:
    """parsl._htex.protocol: one message per batch of tasks, one per batch of results."""

    def __init__(self, args):
        from parsl._htex import protocol
        self.p = protocol
        self.args = args
        self.payload = pickle.dumps(None, protocol=5)
        self.heartbeat = [protocol.HEARTBEAT]

    def hello(self, uid: str):
        p = self.p
        reg = p.Registration.create(
            uid=uid, block_id=self.args.block_prefix + uid.rsplit("-", 1)[-1], worker_count=self.args.workers,
            prefetch_capacity=self.args.prefetch, start_time=time.time(), os="Linux", hostname=socket.gethostname(),
            dir=os.getcwd(), cpu_count=self.args.workers, total_memory=1 << 30, pid=os.getpid())
        return [p.registration_message(reg)]

    def on_message(self, frames):
        """-> (task ids, stop?); (None, False) for a PING, to be answered with a heartbeat."""
        p = self.p
        kind = frames[0]
        if kind == p.TASKS:
            return [p.task_id_of(r) for r in frames[1:]], False
        if kind in (p.STOP, p.DRAINED, p.REJECT):
            return [], True
        if kind == p.RECALL:
            return [], False        # nothing is ever queued here: every task is answered at once
        if kind == p.PING:
            return None, False
        return [], False

    def results(self, task_ids):
        enc, payload = self.p.encode_result, self.payload
        return [[self.p.RESULTS] + [enc(t, self.p.OUTCOME_RESULT, payload) for t in task_ids]]


class ParslDialect:
    """Reference Parsl's manager messages: pickled dicts, one result per message."""

    HEARTBEAT_CODE = (2 ** 32) - 1
    SHUTDOWN_CODE = (2 ** 32) - 2

    def __init__(self, args):
        self.args = args
        self.result_buffer = bytes.fromhex(args.parsl_result_hex)
        self.heartbeat = [pickle.dumps({"type": "heartbeat"})]

    def hello(self, uid: str):
        a = self.args
        v = sys.version_info
        reg = {"type": "registration", "parsl_v": a.parsl_version, "python_v": f"{v.major}.{v.minor}.{v.micro}",
               "packages": {}, "worker_count": a.workers, "uid": uid,
               "block_id": a.block_prefix + uid.rsplit("-", 1)[-1], "start_time": time.time(),
               "drain_time": float("inf"), "prefetch_capacity": a.prefetch, "max_capacity": a.workers + a.prefetch,
               "os": "Linux", "hostname": socket.gethostname(), "dir": os.getcwd(), "cpu_count": a.workers,
               "total_memory": 1 << 30}
        return [[pickle.dumps({"type": "connection_probe"})], [pickle.dumps(reg)]]

    def on_message(self, frames):
        msg = pickle.loads(frames[0]) if frames[0] else None
        if msg is None or msg == self.HEARTBEAT_CODE:
            return [], False
        if msg == self.SHUTDOWN_CODE:
            return [], True
        return [t["task_id"] for t in msg], False

    def results(self, task_ids):
        buf = self.result_buffer
        return [[pickle.dumps({"type": "result", "task_id": t, "result": buf})] for t in task_ids]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--managers", type=int, default=10)
    ap.add_argument("--first", type=int, default=0, help="number of the first manager (uids sim-<n>)")
    ap.add_argument("--workers", type=int, default=1, help="workers each manager reports")
    ap.add_argument("--prefetch", type=int, default=0)
    ap.add_argument("--block-prefix", default="", help="block id = prefix + manager number")
    ap.add_argument("--heartbeat-period", type=float, default=30.0)
    ap.add_argument("--task-time", type=float, default=0.0, help="seconds each task 'runs' (0: answered at once)")
    ap.add_argument("--protocol", choices=["chervil", "parsl"], default="chervil")
    ap.add_argument("--parsl-version", default="")
    ap.add_argument("--parsl-result-hex", default="")
    ap.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long whatever happens")
    args = ap.parse_args(argv)

    fd_limit = raise_fd_limit()
    dialect = ChervilDialect(args) if args.protocol == "chervil" else ParslDialect(args)
    ctx = zmq.Context(io_threads=1)
    ctx.set(zmq.MAX_SOCKETS, max(1024, args.managers + 64))   # a context option, before any socket
    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # One epoll over the sockets' ZMQ_FDs, not a zmq.Poller: zmq_poll costs O(sockets) per
    # call (~1 ms at 1,000), which would make the load generator, not the interchange, slow.
    # A ZMQ_FD only says "look at ZMQ_EVENTS", so every socket is drained until EVENTS shows
    # no POLLIN, and looked at again after each send (a send can consume the notification).
    ep = select.epoll()
    socks = []
    t0 = time.time()
    url = f"tcp://{args.address}:{args.port}"
    by_fd = {}
    for i in range(args.first, args.first + args.managers):
        uid = f"sim-{i}"
        s = ctx.socket(zmq.DEALER)
        s.setsockopt(zmq.IDENTITY, uid.encode())
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.SNDHWM, 0)
        s.setsockopt(zmq.RCVHWM, 0)
        s.connect(url)
        for msg in dialect.hello(uid):
            s.send_multipart(msg)
        fd = s.getsockopt(zmq.FD)
        by_fd[fd] = len(socks)
        ep.register(fd, select.EPOLLIN)
        socks.append(s)
    print(json.dumps({"event": "connected", "managers": args.managers, "t_start": t0, "t_connected": time.time(),
                      "fd_limit": fd_limit, "pid": os.getpid()}), flush=True)

    # heartbeats: staggered over one period so 10,000 managers do not beat at once
    n = len(socks)
    beats = [(time.monotonic() + args.heartbeat_period * (k + 1) / n, k) for k in range(n)]
    heapq.heapify(beats)
    later = []              # (due, socket index, task ids) with --task-time
    stopped = set()
    count = {"answered": 0}
    deadline = time.monotonic() + args.max_seconds
    POLLIN = zmq.POLLIN

    def serve(k: int) -> None:
        s = socks[k]
        while k not in stopped and s.getsockopt(zmq.EVENTS) & POLLIN:
            while True:
                try:
                    frames = s.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                ids, halt = dialect.on_message(frames)
                if ids is None:     # a PING: answered at once, as a real manager does
                    s.send_multipart(dialect.heartbeat)
                    continue
                if halt:
                    stopped.add(k)
                    return
                if ids:
                    if args.task_time > 0:
                        heapq.heappush(later, (time.monotonic() + args.task_time, k, ids))
                    else:
                        for msg in dialect.results(ids):
                            s.send_multipart(msg)
                        count["answered"] += len(ids)

    for k in range(n):
        serve(k)
    while not stop["now"] and len(stopped) < n and time.monotonic() < deadline:
        now = time.monotonic()
        due = min(beats[0][0] if beats else now + 1, later[0][0] if later else now + 1)
        try:
            events = ep.poll(max(0.0, due - now))
        except InterruptedError:
            continue
        for fd, _ev in events:
            serve(by_fd[fd])
        now = time.monotonic()
        while later and later[0][0] <= now:
            _, k, ids = heapq.heappop(later)
            if k not in stopped:
                for msg in dialect.results(ids):
                    socks[k].send_multipart(msg)
                count["answered"] += len(ids)
                serve(k)
        while beats and beats[0][0] <= now:
            _, k = heapq.heappop(beats)
            if k not in stopped:
                socks[k].send_multipart(dialect.heartbeat)
                heapq.heappush(beats, (now + args.heartbeat_period, k))
                serve(k)
    answered = count["answered"]
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"event": "done", "answered": answered, "stopped": len(stopped), "managers": n,
                      "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mb": ru.ru_maxrss / 1024}), flush=True)
    for s in socks:
        s.close(linger=0)
    ctx.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
