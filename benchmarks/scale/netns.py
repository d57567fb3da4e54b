"""Test hosts a network away: Linux network namespaces joined to this one by veth pairs, with
``tc netem`` adding delay and a bandwidth limit.  Needs root and iproute2.

Only loopback-range addresses are used (127.80.<b>.<2i-1> here, 127.80.<b>.<2i> in host i), so no
packet leaves the machine: the kernel accepts 127/8 on a veth once ``route_localnet`` is set
on it, and a /32 in each side's *local* table sends the peer's address over the veth.

    with NetHosts(1, rtt_ms=10, rate="1gbit") as hosts:
        hosts.root_addr(1)      # '127.80.<b>.1': what a manager in host 1 connects to
        hosts.prefix(1)         # 'ip netns exec chvs<tag>h1': run a command in host 1

    python benchmarks/scale/netns.py check      # set up, time round trips, tear down (JSON)

Where the kernel lacks netem (``CONFIG_NET_SCH_NETEM is not set``), tbf limits the bandwidth
and ``delay_relay.py`` adds the delay in front of the manager (``command_prefix``).

Names carry this process's tag, so concurrent users (and other helpers' namespaces) never
collide, and ``down`` deletes only what ``up`` made.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from typing import List, Optional

SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
HERE = os.path.dirname(os.path.abspath(__file__))
_NETEM: Optional[bool] = None


def _which(tool: str) -> str:
    return shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SBIN) or tool


def netem_available() -> bool:
    """Whether this kernel has the netem qdisc (tried once on a throwaway dummy device)."""
    global _NETEM
    if _NETEM is None:
        name = f"chvsnt{os.getpid() % 100000}"
        if _run("ip", "link", "add", name, "type", "dummy", check=False).returncode != 0:
            _run("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p", check=False)
        out = _run("tc", "qdisc", "add", "dev", name, "root", "netem", "delay", "1ms", check=False)
        _NETEM = out.returncode == 0
        _run("ip", "link", "del", name, check=False)
    return _NETEM


def _env():
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":" + SBIN
    return env


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(list(argv), capture_output=True, text=True, env=_env())
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({out.returncode}): {out.stderr.strip()}")
    return out


def available() -> Optional[str]:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and tc)"
    for tool in ("ip", "tc"):
        if shutil.which(tool, path=os.environ.get("PATH", "") + ":" + SBIN) is None:
            return f"needs {tool} (iproute2)"
    return None


class NetHosts:
    """``n`` namespaces h1..hn, each joined to this namespace by a veth with netem on both ends.

    ``rtt_ms`` is split evenly over the two directions; ``rate`` (tc syntax, e.g. "1gbit")
    limits each direction; ``rtt_ms=0`` and ``rate=None`` leave the veth unshaped (the
    no-delay baseline goes over the same kind of link).
    """

    def __init__(self, n: int = 1, rtt_ms: float = 0.0, rate: Optional[str] = None, tag: Optional[str] = None,
                 relay: bool = False):
        self.n = n
        self.rtt_ms = rtt_ms
        #: Put delay_relay.py in front of the manager even with rtt_ms=0 (to measure the relay's own cost).
        self.relay = relay
        self.rate = rate
        self.tag = tag or f"{os.getpid() % 100000}"     # keep it short: device names are <= 15 chars
        self.made: List[str] = []
        self._mode: Optional[str] = None

    def ns(self, i: int) -> str:
        return f"chvs{self.tag}h{i}"

    def veth(self, i: int) -> str:
        return f"chvs{self.tag}v{i}"[:15]

    def _block(self) -> int:
        return sum(map(ord, self.tag)) % 250 + 1    # an address block per tag: users never collide

    def root_addr(self, i: int) -> str:
        return f"127.80.{self._block()}.{2 * i - 1}"

    def host_addr(self, i: int) -> str:
        return f"127.80.{self._block()}.{2 * i}"

    def prefix(self, i: int) -> str:
        return f"{_which('ip')} netns exec {self.ns(i)}"

    def bulk_mb_s(self, i: int = 1, mb: int = 100) -> float:
        """Raw TCP bandwidth from here to host i through the shaped (and delayed) path, MB/s:
        the link a task's argument crosses, measured with plain sockets."""
        import socket
        import threading
        srv = socket.socket()
        srv.bind((self.root_addr(i), 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        blob = bytes(1 << 20)

        def send():
            c, _ = srv.accept()
            for _ in range(mb):
                c.sendall(blob)
            c.close()
        t = threading.Thread(target=send, daemon=True)
        t.start()
        code = ("import socket,sys,time\n"
                "a=sys.argv[sys.argv.index('-a')+1]; p=int([x for x in sys.argv if x.startswith('--port=')][0][7:])\n"
                "for _ in range(50):\n"
                "    try: s=socket.create_connection((a,p)); break\n"
                "    except OSError: time.sleep(0.05)\n"
                "n=0; t=time.perf_counter()\n"
                "while True:\n"
                "    d=s.recv(1<<20)\n"
                "    if not d: break\n"
                "    n+=len(d)\n"
                "print(n/(time.perf_counter()-t)/1e6)\n")
        cmd = self.command_prefix(i).split() + [sys.executable, "-c", code, "-a", self.root_addr(i), f"--port={port}"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env())
            if out.returncode != 0:
                raise RuntimeError(f"bulk client failed: {out.stderr[-500:]}")
            return float(out.stdout.strip().splitlines()[-1])
        finally:
            srv.close()

    def echo_rtt_ms(self, i: int = 1, count: int = 20) -> float:
        """Median round trip of a small message from host i through the delay path (relay or
        netem) to an echo server here, in ms: what a manager's request/response pays."""
        import socket
        import threading
        srv = socket.socket()
        srv.bind((self.root_addr(i), 0))
        srv.listen(4)
        port = srv.getsockname()[1]

        def echo():
            c, _ = srv.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                d = c.recv(64)
                if not d:
                    break
                c.sendall(d)
            c.close()
        t = threading.Thread(target=echo, daemon=True)
        t.start()
        code = ("import socket,sys,time\n"
                "a=sys.argv[sys.argv.index('-a')+1]; p=int([x for x in sys.argv if x.startswith('--port=')][0][7:])\n"
                "for _ in range(50):\n"
                "    try: s=socket.create_connection((a,p)); break\n"
                "    except OSError: time.sleep(0.05)\n"
                "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); ts=[]\n"
                f"for _ in range({count}):\n"
                "    t=time.perf_counter(); s.sendall(b'x'); s.recv(1); ts.append(time.perf_counter()-t)\n"
                "ts.sort(); print(ts[len(ts)//2]*1e3)\n")
        cmd = self.command_prefix(i).split() + [sys.executable, "-c", code, "-a", self.root_addr(i), f"--port={port}"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=_env())
            if out.returncode != 0:
                raise RuntimeError(f"echo client failed: {out.stderr[-500:]}")
            return float(out.stdout.strip().splitlines()[-1])
        finally:
            srv.close()

    def _shape(self, dev: str, ns: Optional[str]) -> None:
        if not self.rtt_ms and not self.rate:
            return
        tc = ["tc"] + (["-n", ns] if ns else []) + ["qdisc", "replace", "dev", dev, "root"]
        if self.delay_mode == "netem":
            args = tc + ["netem"]
            if self.rtt_ms:
                args += ["delay", f"{self.rtt_ms / 2:g}ms"]
            if self.rate:
                args += ["rate", self.rate]
            _run(*args, "limit", "100000")     # room for the bandwidth-delay product (packets)
        elif self.rate:     # the delay comes from delay_relay.py; tbf limits the bandwidth
            _run(*tc, "tbf", "rate", self.rate, "burst", "512kb", "latency", "200ms")

    @property
    def delay_mode(self) -> str:
        """'netem' when the kernel has it, else 'relay' (delay_relay.py adds the delay)."""
        if self._mode is None:
            self._mode = "netem" if netem_available() else "relay"
        return self._mode

    def command_prefix(self, i: int, python: str = sys.executable) -> str:
        """What to put before a manager's command so it runs in host i behind the delay."""
        pre = f"{_which('ip')} netns exec {self.ns(i)}"
        if self.delay_mode == "relay" and (self.rtt_ms or self.relay):
            pre += f" {python} {os.path.join(HERE, 'delay_relay.py')} --delay-ms {self.rtt_ms / 2:g} --"
        return pre

    def up(self) -> NetHosts:
        why = available()
        if why:
            raise RuntimeError(f"network namespaces are not available: {why}")
        try:
            for i in range(1, self.n + 1):
                ns, dev = self.ns(i), self.veth(i)
                _run("ip", "netns", "add", ns)
                self.made.append(ns)
                _run("ip", "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", ns)
                _run("sysctl", "-qw", f"net.ipv4.conf.{dev}.route_localnet=1")
                _run("ip", "addr", "add", f"{self.root_addr(i)}/32", "dev", dev)
                _run("ip", "link", "set", dev, "up")
                _run("ip", "route", "add", "table", "local", f"{self.host_addr(i)}/32", "dev", dev,
                     "src", self.root_addr(i))
                _run("ip", "-n", ns, "link", "set", "lo", "up")
                _run("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.eth0.route_localnet=1")
                _run("ip", "-n", ns, "addr", "add", f"{self.host_addr(i)}/32", "dev", "eth0")
                _run("ip", "-n", ns, "link", "set", "eth0", "up")
                _run("ip", "-n", ns, "route", "add", "table", "local", f"{self.root_addr(i)}/32", "dev", "eth0",
                     "src", self.host_addr(i))
                self._shape(dev, None)
                self._shape("eth0", ns)
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        for i in range(1, self.n + 1):
            _run("ip", "link", "del", self.veth(i), check=False)
        for ns in self.made:
            _run("ip", "netns", "del", ns, check=False)
        self.made = []

    def __enter__(self) -> NetHosts:
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()

    def ping_rtt_ms(self, i: int = 1, count: int = 5) -> Optional[float]:
        """Median round trip from host i to this namespace, by ping (None if ping is missing)."""
        if shutil.which("ping") is None:
            return None
        out = _run("ip", "netns", "exec", self.ns(i), "ping", "-c", str(count), "-i", "0.2", "-q",
                   self.root_addr(i), check=False)
        m = re.search(r"= [\d.]+/([\d.]+)/", out.stdout)
        return float(m.group(1)) if m else None

    def tcp_rtt_ms(self, i: int = 1, count: int = 20) -> float:
        """Median TCP connect time from host i to a listener here (a round trip), in ms."""
        import socket
        srv = socket.socket()
        srv.bind((self.root_addr(i), 0))
        srv.listen(64)
        port = srv.getsockname()[1]
        code = ("import socket,time,sys\n"
                "ts=[]\n"
                f"for _ in range({count}):\n"
                "    t=time.perf_counter(); s=socket.create_connection((sys.argv[1], int(sys.argv[2])))\n"
                "    ts.append(time.perf_counter()-t); s.close()\n"
                "ts.sort(); print(ts[len(ts)//2]*1e3)\n")
        try:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns(i), sys.executable, "-c", code,
                                     self.root_addr(i), str(port)], stdout=subprocess.PIPE, text=True, env=_env())
            srv.settimeout(10)
            for _ in range(count):
                c, _ = srv.accept()
                c.close()
            out, _ = proc.communicate(timeout=30)
            return float(out.strip())
        finally:
            srv.close()


def main(argv=None) -> int:
    args = (argv if argv is not None else sys.argv[1:]) or ["check"]
    if args[0] != "check":
        print(__doc__)
        return 2
    why = available()
    if why:
        print(json.dumps({"ok": False, "skipped": why}))
        return 0
    res = {}
    for rtt in (0, 1, 10):
        t0 = time.perf_counter()
        with NetHosts(1, rtt_ms=rtt, rate="1gbit") as h:
            res[f"rtt_{rtt}ms"] = {"tcp_connect_ms": h.tcp_rtt_ms(), "setup_s": time.perf_counter() - t0,
                                   "echo_rtt_ms": h.echo_rtt_ms(), "mode": h.delay_mode,
                                   "bulk_mb_s": h.bulk_mb_s(mb=50)}
    print(json.dumps({"ok": True, **res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
