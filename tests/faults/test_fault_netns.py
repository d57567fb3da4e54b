"""Slow and lossy links (docs/reliability.md, "The network is slow or drops packets"): the
managers run in another network namespace joined by a veth pair shaped with ``tc`` (only
loopback-range addresses, 127.80.x.0/24, are used: see
tests/integration/htex/test_remote_manager_netns.py).  ``netem`` adds delay, jitter, loss,
duplication and reordering where the kernel has it; where it does not (this CI's kernel
has no sch_netem), a token bucket (``tbf``) a few hundred kbit/s wide makes the link slow
and drops what overflows its queue, and the link is taken down for a moment.

Promise: TCP hides delay and loss; every task completes exactly once with ``retries=0`` as
long as the heartbeat threshold exceeds the worst delay; a link that stays down is a lost
manager (tests/faults/test_fault_workers.py).
"""
import os
import shutil
import subprocess

import pytest

from parsl.launchers import WrappedLauncher
from parsl.providers import LocalProvider

import fault_tools as ft

pytestmark = [pytest.mark.htex, pytest.mark.netns]

IP = shutil.which("ip") or "/usr/sbin/ip"
TC = shutil.which("tc") or "/usr/sbin/tc"


def sh(*args, ns=None):
    cmd = ([IP, "netns", "exec", ns] if ns else []) + list(args)
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


class LossyHost:
    def __init__(self):
        k = os.getpid() % 200 + 20
        self.name = f"chv-fault-{os.getpid()}"
        self.link = f"chvf{os.getpid() % 100000}"
        self.local, self.remote = f"127.80.{k}.1", f"127.80.{k}.2"

    def up(self):
        sh(IP, "netns", "add", self.name)
        sh(IP, "link", "add", self.link, "type", "veth", "peer", "name", "veth0", "netns", self.name)
        sh("sysctl", "-qw", f"net.ipv4.conf.{self.link}.route_localnet=1")
        sh(IP, "addr", "add", f"{self.local}/32", "dev", self.link)
        sh(IP, "link", "set", self.link, "up")
        sh(IP, "route", "add", "table", "local", f"{self.remote}/32", "dev", self.link, "src", self.local)
        sh(IP, "link", "set", "lo", "up", ns=self.name)
        sh("sysctl", "-qw", "net.ipv4.conf.veth0.route_localnet=1", ns=self.name)
        sh(IP, "addr", "add", f"{self.remote}/32", "dev", "veth0", ns=self.name)
        sh(IP, "link", "set", "veth0", "up", ns=self.name)
        sh(IP, "route", "add", "table", "local", f"{self.local}/32", "dev", "veth0", "src", self.remote, ns=self.name)

    def qdisc(self, *spec):
        """Both directions: our end's egress and the namespace end's egress."""
        sh(TC, "qdisc", "replace", "dev", self.link, "root", *spec)
        sh(TC, "qdisc", "replace", "dev", "veth0", "root", *spec, ns=self.name)
        ft.fault(2)

    def has_netem(self) -> bool:
        try:
            self.qdisc("netem", "delay", "1ms")
        except subprocess.CalledProcessError:
            return False
        return True

    def blackout(self, seconds: float, *restore) -> None:
        """Drop (nearly) every packet for ``seconds`` (shorter than the heartbeat threshold),
        then shape the link with ``restore``.  A 1 kbit/s bucket with room for one packet,
        not "link down": a switch failing on the way gives no local error, it just drops."""
        import time
        self.qdisc("tbf", "rate", "1kbit", "burst", "1600", "limit", "1600")
        time.sleep(seconds)       # the outage itself, not synchronisation
        self.qdisc(*restore)

    def dropped(self) -> int:
        """Packets the shaping dropped on our end of the link."""
        import re
        out = subprocess.run([TC, "-s", "qdisc", "show", "dev", self.link], capture_output=True, text=True,
                             timeout=20).stdout
        return sum(int(n) for n in re.findall(r"dropped (\d+)", out))

    def down(self):
        subprocess.run([IP, "link", "del", self.link], capture_output=True, timeout=20)
        subprocess.run([IP, "netns", "del", self.name], capture_output=True, timeout=20)


@pytest.fixture
def lossy_host(root_only):
    if not (os.path.exists(IP) and os.path.exists(TC)):
        pytest.skip("needs iproute2's ip and tc")
    h = LossyHost()
    try:
        h.up()
    except (subprocess.CalledProcessError, OSError) as e:
        h.down()
        pytest.skip(f"cannot make a namespace with netem here: {e}")
    yield h
    h.down()


def test_delay_jitter_and_loss_change_no_result(tmp_path, lossy_host):
    ex = ft.htex(workers=2, address=lossy_host.local, heartbeat_period=1, heartbeat_threshold=10,
                 provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1,
                                        launcher=WrappedLauncher(f"{IP} netns exec {lossy_host.name}")))
    dfk = ft.load(ex, tmp_path, retries=0, checkpoint=True)
    ledger = ft.Ledger()
    blob = os.urandom(16_000)
    try:
        ft.manager_pids(ex, timeout=60)
        ledger.submit(30, blob=blob)
        ledger.wait_done(5)
        if lossy_host.has_netem():
            lossy_host.qdisc("netem", "delay", "80ms", "40ms", "distribution", "normal", "loss", "8%",
                             "duplicate", "2%", "reorder", "10%")
            ledger.submit(60, blob=blob, start=30)
            ledger.wait_done(50)
            lossy_host.qdisc("netem", "delay", "300ms", "loss", "20%")     # a bad minute on a WAN
        else:
            # ~250 KB/s with a queue of ~50 ms: 16 KB tasks queue, and what overflows is dropped
            shaped = ("tbf", "rate", "2mbit", "burst", "16kb", "latency", "50ms")
            lossy_host.qdisc(*shaped)
            ledger.submit(60, blob=blob, start=30)
            ledger.wait_done(50)
            lossy_host.blackout(3.0, *shaped)
        ledger.submit(30, blob=blob, start=90)
        values = ledger.check()
        assert lossy_host.dropped() > 0, "the link was meant to drop packets"
    finally:
        ft.close(dfk)
    ft.check_checkpoint(str(tmp_path / "runinfo"), values)
