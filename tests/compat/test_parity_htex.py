"""HTEX parity (issue 16, items 3 and 4): manager selectors, drain_period, what
``connected_managers()`` and ``connected_managers_packages()`` report, and block failures
as Parsl reports them (exit codes and output, failed submits, the monitoring ``node`` table).
"""
import importlib.metadata
import os
import sqlite3
import sys

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.executors.errors import BadStateException
from parsl.executors.high_throughput.manager_selector import BlockIdManagerSelector, ManagerSelector
from parsl.jobs.states import JobState
from parsl.providers import LocalProvider

from waiting import wait_until

pytestmark = pytest.mark.htex

PARSL_MANAGER_KEYS = {"manager", "block_id", "worker_count", "tasks", "idle_duration", "active",
                      "parsl_version", "python_version", "draining"}


@python_app
def block_of_worker():
    import os
    return os.environ["PARSL_WORKER_BLOCK_ID"]


@python_app
def block_after_file(path):
    """Waits (in the worker) until ``path`` exists, so the test decides when the task ends."""
    import os
    import time
    deadline = time.monotonic() + 60
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    return os.environ["PARSL_WORKER_BLOCK_ID"]


def htex(**kw):
    provider = kw.pop("provider", None) or LocalProvider(init_blocks=1, max_blocks=1)
    return HighThroughputExecutor(label="htex", address="127.0.0.1", max_workers_per_node=1, encrypted=False,
                                  provider=provider, **kw)


# --- item 3: selectors ---------------------------------------------------------------------
class HighestBlockFirst(ManagerSelector):
    """A selector as a Parsl user writes it: Parsl's arguments, records read by key."""

    def sort_managers(self, ready_managers, manager_list):
        return sorted(manager_list, key=lambda m: int(ready_managers[m]["block_id"]), reverse=True)


@pytest.mark.slow
@pytest.mark.parametrize("selector, first", [(BlockIdManagerSelector(), "0"), (HighestBlockFirst(), "1")])
def test_the_manager_selector_decides_which_block_gets_the_tasks(selector, first, tmp_path):
    ex = htex(manager_selector=selector, provider=LocalProvider(init_blocks=2, min_blocks=2, max_blocks=2))
    dfk = parsl.load(Config(executors=[ex], strategy="none"))
    try:
        wait_until(lambda: len(ex.connected_managers()) == 2, "both blocks' managers to connect")
        # One task at a time: always the selector's first block (at random, 10 in a row on one
        # block would happen once in 1024 runs).
        assert [block_of_worker().result(timeout=30) for _ in range(10)] == [first] * 10
        # Its worker busy, the next task runs on the other block rather than wait behind it.
        release = tmp_path / "release"
        futures = [block_after_file(str(release)) for _ in range(2)]
        wait_until(lambda: sorted(m["tasks"] for m in ex.connected_managers()) == [1, 1],
                   "one task on each block")
        release.touch()
        assert sorted(f.result(timeout=30) for f in futures) == ["0", "1"]
    finally:
        dfk.cleanup()


# --- item 3: drain_period ------------------------------------------------------------------
@pytest.mark.slow
def test_a_draining_manager_finishes_its_task_takes_no_more_and_its_block_is_replaced(tmp_path):
    ex = htex(drain_period=2)
    dfk = parsl.load(Config(executors=[ex], strategy="simple", strategy_period=0.2))
    try:
        release = tmp_path / "release"
        running = block_after_file(str(release))
        (m,) = wait_until(lambda: [m for m in ex.connected_managers() if m["draining"]],
                          "the manager to start draining", timeout=30)
        assert m["block_id"] == "0" and m["tasks"] == 1
        later = block_of_worker()           # submitted while block 0 drains: not for it
        release.touch()
        assert running.result(timeout=30) == "0"
        wait_until(lambda: "0" not in [m["block_id"] for m in ex.connected_managers()],
                   "the drained manager to leave")
        # the block's job ends, the poller sees it done, and the strategy starts another
        wait_until(lambda: ex.status()["0"].state == JobState.COMPLETED, "block 0 to be seen as done")
        assert later.result(timeout=60) != "0"
    finally:
        dfk.cleanup()


# --- item 3: connected_managers / connected_managers_packages ----------------------------------
def test_connected_managers_reports_every_field_parsl_does(one_worker_htex):
    ex = one_worker_htex.executors["htex"]
    assert block_of_worker().result(timeout=30) == "0"
    (m,) = ex.connected_managers()
    assert PARSL_MANAGER_KEYS <= set(m)
    assert isinstance(m["manager"], str) and m["block_id"] == "0" and m["worker_count"] == 1
    assert m["tasks"] == 0 and isinstance(m["idle_duration"], float) and m["idle_duration"] >= 0
    assert m["active"] is True and m["draining"] is False
    assert m["parsl_version"] == parsl.__version__
    assert m["python_version"] == "{}.{}.{}".format(*sys.version_info[:3])


def test_connected_managers_packages_lists_what_is_installed_where_each_manager_runs(one_worker_htex):
    ex = one_worker_htex.executors["htex"]
    wait_until(ex.connected_managers, "the manager to connect")
    packages = ex.connected_managers_packages()
    assert set(packages) == {m["manager"] for m in ex.connected_managers()}
    (installed,) = packages.values()
    # the manager runs in this test's environment: the same distributions, same versions
    for name in ("chervil", "pyzmq", "cloudpickle"):
        assert installed[name] == importlib.metadata.version(name)
    assert ex.connected_managers_packages() == packages     # asked once, then remembered


# --- item 4: block failures -------------------------------------------------------------------
@pytest.mark.slow
def test_a_block_whose_job_exits_shows_its_exit_code_and_output():
    ex = htex(provider=LocalProvider(init_blocks=1, max_blocks=1,
                                     worker_init="echo out-marker; echo err-marker >&2; exit 7"))
    dfk = parsl.load(Config(executors=[ex], strategy_period=0.2))
    try:
        with pytest.raises(BadStateException) as e:
            block_of_worker().result(timeout=60)
        text = str(e.value)
        assert "EXIT CODE: 7" in text and "out-marker" in text and "err-marker" in text
        assert ex.status()["0"].exit_code == 7
    finally:
        dfk.cleanup()


class RefusingProvider(LocalProvider):
    def submit(self, command, tasks_per_node, job_name="parsl.auto"):
        raise RuntimeError("the queue is closed for maintenance")


def test_a_provider_whose_submit_raises_leaves_a_failed_block(tmp_path):
    from parsl.monitoring.monitoring import MonitoringHub
    ex = htex(provider=RefusingProvider(init_blocks=1, max_blocks=1))
    dfk = parsl.load(Config(executors=[ex], strategy_period=0.2, run_dir=str(tmp_path),
                            monitoring=MonitoringHub(resource_monitoring_enabled=False)))
    try:
        st = ex.status()["0"]
        assert st.state == JobState.FAILED
        assert st.message == "Failed to start block 0: the queue is closed for maintenance"
        assert "0" not in ex.blocks_to_job_id
        with pytest.raises(BadStateException, match="queue is closed for maintenance"):
            block_of_worker().result(timeout=30)
    finally:
        dfk.cleanup()
    with sqlite3.connect(tmp_path / "monitoring.db") as conn:
        rows = conn.execute("select block_id, status, job_id from block").fetchall()
    assert ("0", "FAILED", None) in rows


@pytest.mark.slow
def test_the_node_table_gets_a_row_when_a_manager_connects_and_when_it_leaves(tmp_path):
    from parsl.monitoring.monitoring import MonitoringHub
    ex = htex(drain_period=1)      # the manager leaves on its own, drained
    dfk = parsl.load(Config(executors=[ex], strategy="none", run_dir=str(tmp_path),
                            monitoring=MonitoringHub(resource_monitoring_enabled=False)))
    try:
        (uid,) = [m["manager"] for m in wait_until(ex.connected_managers, "the manager to connect")]
        wait_until(lambda: not ex.connected_managers(), "the manager to drain and leave")
        run_id = dfk.run_id
    finally:
        dfk.cleanup()
    with sqlite3.connect(tmp_path / "monitoring.db") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("select * from node order by id").fetchall()
    parsl_columns = {"id", "run_id", "hostname", "uid", "block_id", "cpu_count", "total_memory", "active",
                     "worker_count", "python_v", "timestamp", "last_heartbeat"}
    assert parsl_columns <= set(rows[0].keys())
    assert [(r["uid"], r["active"]) for r in rows] == [(uid, 1), (uid, 0)]
    for r in rows:
        assert r["run_id"] == run_id and r["block_id"] == "0" and r["worker_count"] == 1
        assert r["hostname"] and r["cpu_count"] == os.cpu_count() and r["total_memory"] > 0
        assert r["python_v"] == "{}.{}.{}".format(*sys.version_info[:3])
        assert r["timestamp"] and r["last_heartbeat"]
    assert rows[0]["timestamp"] <= rows[1]["timestamp"]


def test_connected_managers_packages_before_start_and_after_shutdown():
    ex = htex()
    assert ex.connected_managers_packages() == {}
    dfk = parsl.load(Config(executors=[ex]))
    wait_until(ex.connected_managers, "the manager to connect")
    dfk.cleanup()
    assert ex.connected_managers_packages() == {}
