"""The scale benchmarks' tools work: simulated managers speak the real protocol, and the
network-namespace hosts add the delay and bandwidth limit they are asked for.

Speed is measured in benchmarks/scale, not here: these check behaviour only.
"""
import json
import os
import subprocess
import sys

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

from waiting import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCALE = os.path.join(ROOT, "benchmarks", "scale")
sys.path.insert(0, SCALE)
import netns  # noqa: E402


@python_app
def square(x):
    return x * x


@python_app
def noop():
    return None


@pytest.fixture
def htex_without_blocks(tmp_path):
    ex = HighThroughputExecutor(label="htex", address="127.0.0.1", encrypted=False, heartbeat_period=2,
                                heartbeat_threshold=20,
                                provider=LocalProvider(init_blocks=0, min_blocks=0, max_blocks=0))
    dfk = parsl.load(Config(executors=[ex], run_dir=str(tmp_path), strategy="none"))
    yield ex
    dfk.cleanup()
    parsl.clear()


def start_sims(port, managers, per_process):
    procs, first = [], 0
    while first < managers:
        n = min(per_process, managers - first)
        procs.append(subprocess.Popen([sys.executable, os.path.join(SCALE, "simmanagers.py"), "--port", str(port),
                                       "--managers", str(n), "--first", str(first), "--heartbeat-period", "0.5",
                                       "--max-seconds", "120"], stdout=subprocess.PIPE, text=True))
        first += n
    return procs


def finish(procs):
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=30)
        outs.append([json.loads(line) for line in out.splitlines() if line.startswith("{")])
    return outs


@pytest.mark.htex
def test_simulated_managers_register_heartbeat_and_answer_every_task(htex_without_blocks):
    ex = htex_without_blocks
    procs = start_sims(ex.worker_port, 30, per_process=20)     # two load-generator processes
    try:
        managers = wait_until(lambda: len(ex.connected_managers()) == 30 and ex.connected_managers(),
                              "30 simulated managers to register")
        assert {m["manager"] for m in managers} == {f"sim-{i}" for i in range(30)}
        assert all(m["worker_count"] == 1 for m in managers)
        # simulated workers run nothing: every task comes back as a None result
        assert [f.result(timeout=30) for f in [square(i) for i in range(300)]] == [None] * 300
        # heartbeats keep them alive past several periods (the interchange answers each one)
        seen = ex.connected_managers()
        wait_until(lambda: all(m["idle_duration"] > 1.0 for m in ex.connected_managers()),
                   "the managers to idle through a few heartbeats")
        assert len(ex.connected_managers()) == len(seen) == 30
    finally:
        ex.shutdown()
        outs = finish(procs)
    done = [o[-1] for o in outs]
    assert all(d["event"] == "done" for d in done), done
    assert sum(d["stopped"] for d in done) == 30          # every manager got the interchange's STOP
    assert sum(d["answered"] for d in done) == 300


@pytest.mark.htex
def test_dispatch_spreads_over_many_simulated_managers(htex_without_blocks):
    ex = htex_without_blocks
    procs = start_sims(ex.worker_port, 200, per_process=200)
    try:
        wait_until(lambda: len(ex.connected_managers()) == 200, "200 simulated managers to register")
        futs = [noop() for _ in range(2000)]
        assert all(f.result(timeout=60) is None for f in futs)
    finally:
        ex.shutdown()
        outs = finish(procs)
    assert outs[0][-1]["answered"] == 2000


needs_netns = pytest.mark.skipif(netns.available() is not None, reason=f"{netns.available()}")


@pytest.mark.netns
@needs_netns
def test_a_namespace_link_has_the_round_trip_and_bandwidth_asked_for():
    with netns.NetHosts(1, rtt_ms=10, rate="100mbit") as hosts:
        rtt = hosts.echo_rtt_ms(count=5)
        assert 9.0 <= rtt < 60.0, rtt
        mb_s = hosts.bulk_mb_s(mb=4)
        assert mb_s < 13.5, mb_s          # 100 Mbit/s = 12.5 MB/s
    names = subprocess.run([netns._which("ip"), "netns", "list"], capture_output=True, text=True).stdout
    assert hosts.ns(1) not in names       # torn down


@pytest.mark.netns
@pytest.mark.htex
@needs_netns
def test_a_manager_behind_the_delay_runs_tasks(tmp_path):
    from parsl.launchers import WrappedLauncher
    with netns.NetHosts(1, rtt_ms=10, rate="1gbit") as hosts:
        ex = HighThroughputExecutor(
            label="htex", address=hosts.root_addr(1), max_workers_per_node=1, encrypted=False,
            provider=LocalProvider(init_blocks=1, min_blocks=0, max_blocks=1,
                                   launcher=WrappedLauncher(prepend=hosts.command_prefix(1))))
        dfk = parsl.load(Config(executors=[ex], run_dir=str(tmp_path), strategy_period=0.2))
        try:
            assert [f.result(timeout=60) for f in [square(i) for i in range(50)]] == [i * i for i in range(50)]
            peers = {m["hostname"] for m in ex.connected_managers()}
            assert len(peers) == 1
        finally:
            dfk.cleanup()
            parsl.clear()
