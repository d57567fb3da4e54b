"""Add network delay where ``tc netem`` is missing: a TCP relay that holds every chunk for a
fixed one-way delay, and a wrapper that puts it in front of an HTEX manager.

Some kernels are built without netem (``CONFIG_NET_SCH_NETEM is not set``), while the
bandwidth shapers (tbf, htb) are there.  Then ``netns.NetHosts`` limits the veth's bandwidth
with tbf and this relay adds the delay: it runs in the manager's namespace, listens on
127.0.0.1:<port> there, and forwards to the interchange across the veth, delivering each
chunk ``delay`` seconds after it arrived, in both directions.  A request/response therefore
pays the full round trip; a bulk transfer streams at the link's rate plus one delay, as over
TCP with windows large enough for the bandwidth-delay product (which the relay's buffering
stands in for).

    python delay_relay.py --delay-ms 5 -- <manager command ... -a ADDR ... --port=PORT ...>

starts the relay (to ADDR:PORT) and runs the manager with ``-a 127.0.0.1``; it exits with
the manager's exit status.
"""
from __future__ import annotations

import argparse
import collections
import os
import select
import socket
import subprocess
import sys
import threading
import time

CHUNK = 1 << 20
#: Stop reading a side while this much of what it sent waits to be delivered (TCP's flow
#: control then holds the sender back, as a real link's would).
BACKLOG = 64 << 20


class _Direction:
    """Bytes read from ``src`` that wait for their due time, then for ``dst`` to take them."""

    __slots__ = ("src", "dst", "held", "held_bytes", "out", "eof", "closed")

    def __init__(self, src: socket.socket, dst: socket.socket):
        self.src, self.dst = src, dst
        self.held: collections.deque = collections.deque()     # (due, bytes), in arrival order
        self.held_bytes = 0
        self.out = bytearray()      # due, not yet accepted by dst
        self.eof = False            # src sent FIN
        self.closed = False         # dst shut for writing (everything delivered) or broken

    def release(self, now: float) -> None:
        held = self.held
        while held and held[0][0] <= now:
            _, data = held.popleft()
            self.held_bytes -= len(data)
            self.out += data

    def flush(self) -> None:
        if self.out:
            try:
                n = self.dst.send(self.out)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                self.out.clear()
                self.held.clear()
                self.closed = True
                return
            del self.out[:n]
        if self.eof and not self.held and not self.out and not self.closed:
            try:
                self.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.closed = True


def _relay(a: socket.socket, b: socket.socket, delay: float) -> None:
    """Move bytes both ways between ``a`` and ``b``, each chunk ``delay`` s after it arrived.

    One thread and one ``select`` for both directions: no hand-off between threads per
    chunk (which cost more than the manager's own work per message on 2 vCPUs).
    """
    for s in (a, b):
        s.setblocking(False)
    dirs = [_Direction(a, b), _Direction(b, a)]
    try:
        while not all(d.closed for d in dirs):
            now = time.monotonic()
            readers, writers = [], []
            due = None
            for d in dirs:
                if not d.eof and d.held_bytes < BACKLOG:
                    readers.append(d.src)
                if d.out and not d.closed:
                    writers.append(d.dst)
                if d.held:
                    due = d.held[0][0] if due is None else min(due, d.held[0][0])
            timeout = None if due is None else max(0.0, due - now)
            if not readers and not writers and timeout is None:
                break
            r, w, _ = select.select(readers, writers, [], timeout)
            for d in dirs:
                if d.src in r:
                    try:
                        data = d.src.recv(CHUNK)
                    except (BlockingIOError, InterruptedError):
                        continue
                    except OSError:
                        data = b""
                    if data:
                        arrived = time.monotonic()
                        if delay <= 0 and not d.held:
                            d.out += data
                        else:
                            d.held.append((arrived + delay, data))
                            d.held_bytes += len(data)
                    else:
                        d.eof = True
            now = time.monotonic()
            for d in dirs:
                d.release(now)
                if not d.closed:
                    d.flush()
    finally:
        for s in (a, b):
            s.close()


def serve(listener: socket.socket, target, delay: float) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            upstream = socket.create_connection(target)
        except OSError:
            client.close()
            continue
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_relay, args=(client, upstream, delay), daemon=True).start()


def rewrite(cmd, local_addr: str):
    """The manager's command with its interchange address replaced; and (address, port) it named."""
    out = list(cmd)
    addr = port = None
    for i, a in enumerate(out):
        if a == "-a" and i + 1 < len(out):
            addr = out[i + 1].split(",")[0]
            out[i + 1] = local_addr
        elif a.startswith("--port="):
            port = int(a.split("=", 1)[1])
        elif a == "--port" and i + 1 < len(out):
            port = int(out[i + 1])
    if addr is None or port is None:
        raise SystemExit(f"delay_relay: no '-a ADDRESS' and '--port=PORT' in the manager command: {cmd}")
    return out, (addr, port)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay, each direction")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if len(cmd) == 1:               # a launcher passes the command as one string
        cmd = ["/bin/sh", "-c", cmd[0]]
        inner, target = rewrite(cmd[2].split(), "127.0.0.1")
        cmd = ["/bin/sh", "-c", " ".join(inner)]
    else:
        cmd, target = rewrite(cmd, "127.0.0.1")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", target[1]))
    listener.listen(64)
    threading.Thread(target=serve, args=(listener, target, args.delay_ms / 1000.0), daemon=True).start()
    proc = subprocess.Popen(cmd)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()
    finally:
        listener.close()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
