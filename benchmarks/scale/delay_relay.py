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
import socket
import subprocess
import sys
import threading
import time

CHUNK = 1 << 18


def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
    queue: collections.deque = collections.deque()
    cond = threading.Condition()
    done = [False]

    def writer() -> None:
        while True:
            with cond:
                while not queue and not done[0]:
                    cond.wait()
                if not queue:
                    break
                due, data = queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    while True:
        try:
            data = src.recv(CHUNK)
        except OSError:
            data = b""
        with cond:
            if not data:
                done[0] = True
                cond.notify()
                break
            queue.append((time.monotonic() + delay, data))
            cond.notify()
    t.join()


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
        threading.Thread(target=_pump, args=(client, upstream, delay), daemon=True).start()
        threading.Thread(target=_pump, args=(upstream, client, delay), daemon=True).start()


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
