"""Where the interchange listens by default (issue 18, item 3): only where managers connect."""
from parsl._htex.addresses import listen_addresses
from parsl.executors.high_throughput.executor import _blocks_are_local
from parsl.launchers import SimpleLauncher, SingleNodeLauncher, SrunLauncher, WrappedLauncher
from parsl.providers import LocalProvider, SlurmProvider


def test_an_explicit_address_is_the_only_one():
    assert listen_addresses("10.0.0.5", "127.0.0.1", True, ["10.0.0.5", "127.0.0.1"]) == ["10.0.0.5"]
    assert listen_addresses("10.0.0.5", "127.0.0.1", False, ["192.0.2.1"]) == ["10.0.0.5"]


def test_local_blocks_listen_on_loopback_and_others_on_the_advertised_addresses():
    assert listen_addresses(None, "127.0.0.1", True, ["192.0.2.1", "127.0.0.1"]) == ["127.0.0.1"]
    assert listen_addresses(None, "127.0.0.1", False, ["192.0.2.1", "127.0.0.1"]) == ["192.0.2.1", "127.0.0.1"]
    assert listen_addresses(None, "127.0.0.1", False, []) == ["*"], "nothing found: every interface"


def test_which_blocks_surely_run_on_this_host():
    assert _blocks_are_local(None, None)
    assert _blocks_are_local(LocalProvider(), None)
    assert _blocks_are_local(LocalProvider(launcher=SingleNodeLauncher()), None)
    assert _blocks_are_local(LocalProvider(launcher=SimpleLauncher()), None)
    assert not _blocks_are_local(LocalProvider(launcher=WrappedLauncher("ssh elsewhere")), None)
    assert not _blocks_are_local(LocalProvider(launcher=SrunLauncher()), None)
    assert not _blocks_are_local(LocalProvider(), "ssh node1 process_worker_pool.py {addresses}")
    assert not _blocks_are_local(SlurmProvider(), None)
