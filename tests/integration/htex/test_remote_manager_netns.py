"""A manager on "another host": a network namespace joined to this one by a veth pair.

Only loopback-range addresses (127.79.x.0/24) are used: the kernel accepts 127/8 on a device when
``route_localnet=1`` is set on it, and a /32 in the local table points the peer at the veth.
"""
import os
import shutil
import subprocess
import sys
import time

import cloudpickle
import pytest

from parsl.executors.high_throughput.errors import ManagerLost
from parsl.launchers import WrappedLauncher
from parsl.providers import LocalProvider

from _htex_helpers import all_gone, htex, manager_pids  # noqa: F401
from waiting import wait_until

pytestmark = [pytest.mark.htex, pytest.mark.netns]
cloudpickle.register_pickle_by_value(sys.modules[__name__])

IP = shutil.which("ip") or "/usr/sbin/ip"


def sh(*args, ns=None):
    cmd = ([IP, "netns", "exec", ns] if ns else []) + list(args)
    subprocess.run(cmd, check=True, capture_output=True, timeout=20)


class Host:
    """A namespace ``name`` reachable at ``remote`` from here, which reaches us at ``local``."""

    def __init__(self):
        k = os.getpid() % 200 + 20
        self.name = f"chv-htex-{os.getpid()}"
        self.link = f"chvh{os.getpid() % 100000}"
        self.local, self.remote = f"127.79.{k}.1", f"127.79.{k}.2"

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

    def cut(self):
        sh(IP, "link", "set", self.link, "down")

    def down(self):
        subprocess.run([IP, "link", "del", self.link], capture_output=True, timeout=20)
        subprocess.run([IP, "netns", "del", self.name], capture_output=True, timeout=20)


@pytest.fixture
def host():
    if os.geteuid() != 0 or not os.path.exists(IP):
        pytest.skip("network namespaces need root and iproute2")
    h = Host()
    try:
        h.up()
    except (subprocess.CalledProcessError, OSError) as e:
        h.down()
        pytest.skip(f"cannot create a network namespace here: {e}")
    yield h
    h.down()


def where():
    return os.readlink("/proc/self/ns/net"), os.getpid()


def remote_htex(htex, host, **kw):
    return htex(address=host.local, encrypted=True,
                provider=LocalProvider(init_blocks=1, launcher=WrappedLauncher(f"{IP} netns exec {host.name}")),
                **kw)


def test_manager_in_another_namespace_serves_tasks(htex, host):
    ex = remote_htex(htex, host)
    netns, _ = ex.submit(where, {}).result(timeout=60)
    assert netns != os.readlink("/proc/self/ns/net"), "the task ran in the other namespace"
    assert [ex.submit(pow, {}, 2, i).result(timeout=30) for i in range(10)] == [2**i for i in range(10)]
    (m,) = ex.connected_managers()
    assert m["worker_count"] == 2


def test_cut_off_manager_fails_its_tasks_and_exits(htex, host):
    ex = remote_htex(htex, host, heartbeat_period=0.3, heartbeat_threshold=2)
    manager = manager_pids(ex, timeout=60)[0]
    fut = ex.submit(time.sleep, {}, 60)
    wait_until(lambda: ex.connected_managers()[0]["running"] == 1, "the task to start on the remote manager")
    host.cut()
    err = fut.exception(timeout=30)
    assert isinstance(err, ManagerLost)
    # On its side the manager stops hearing the interchange and exits with its workers.
    all_gone([manager], 2 + 8)
