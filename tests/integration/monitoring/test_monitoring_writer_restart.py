"""Issue 18 items 7 and 8: a killed monitoring writer is replaced with nothing lost; one that
keeps dying leaves a completed row marked incomplete and the user told once; the database
is the user's alone (0600)."""
import os
import signal
import sqlite3
import warnings

import parsl
from parsl._monitoring import router as router_mod
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub

from waiting import wait_until


@parsl.python_app
def double(x):
    return 2 * x


def _run(tmp_path, kills, tasks_per_round=30):
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/m.db", flush_period=0.1)
    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=str(tmp_path / "runinfo"),
                      monitoring=hub))
    futures = []
    try:
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always")
            for k in range(kills):
                futures += [double(i) for i in range(k * tasks_per_round, (k + 1) * tasks_per_round)]
                [f.result() for f in futures]
                client = hub.router.client
                pid = client.proc.pid
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda: client.proc.pid != pid or hub.router.gave_up, "the writer to be replaced")
            futures += [double(i) for i in range(kills * tasks_per_round, (kills + 1) * tasks_per_round)]
            assert [f.result() for f in futures] == [2 * i for i in range(len(futures))]
            parsl.dfk().cleanup()
    finally:
        parsl.clear()
    con = sqlite3.connect(tmp_path / "m.db")
    try:
        workflow = con.execute("SELECT time_completed, monitoring_incomplete FROM workflow").fetchone()
        done = con.execute("SELECT count(*) FROM task WHERE task_status_name = 'exec_done'").fetchone()[0]
        finals = con.execute("SELECT count(*) FROM status WHERE task_status_name = 'exec_done'").fetchone()[0]
    finally:
        con.close()
    return hub, [str(w.message) for w in told if "Monitoring" in str(w.message)], workflow, done, finals, len(futures)


def test_a_killed_writer_is_replaced_and_loses_nothing(tmp_path):
    hub, told, (completed, incomplete), done, finals, n = _run(tmp_path, kills=2)
    assert hub.router.client.restarts == 2
    assert completed is not None and incomplete is None and not told
    assert done == finals == n                     # every task once, no status row twice
    for name in ("m.db", "m.db-wal"):
        path = tmp_path / name
        assert not path.exists() or os.stat(path).st_mode & 0o777 == 0o600


def test_a_writer_that_keeps_dying_leaves_a_completed_incomplete_row_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setattr(router_mod, "MAX_RESTARTS", 1)
    hub, told, (completed, incomplete), done, finals, n = _run(tmp_path, kills=2, tasks_per_round=10)
    assert hub.router.gave_up is None          # the last writer was started at close
    assert completed is not None and "died 2 times" in incomplete
    assert len(told) == 1 and "stopped recording" in told[0]
    assert done == finals and done < n          # what was written before it gave up, once each
