"""MonitoringHub + writer thread + SQLite, with a fake DFK."""
import datetime
import sqlite3
import threading

import pytest

from parsl.dataflow.states import States
from parsl.errors import ConfigurationError
from parsl.monitoring import MessageType, MonitoringHub

from monitoring_fakes import FakeFuture, FakeRecord, fake_dfk, run_task


def writer_threads():
    return [t for t in threading.enumerate() if t.name == "parsl-monitoring-router"]


@pytest.fixture
def hub_and_db(tmp_path):
    db = tmp_path / "m.db"
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{db}", flush_period=0.05)
    hub.start(fake_dfk(tmp_path))
    yield hub, db
    hub.close()


def test_everything_queued_is_written_at_close_and_close_is_idempotent(hub_and_db):
    hub, db = hub_and_db
    recs = [FakeRecord(i, depends=[FakeFuture(i - 1)] if i else []) for i in range(500)]
    for r in recs:
        run_task(hub, r)
    hub.send(MessageType.BLOCK_INFO, {"executor_label": "threads", "block_id": "0", "status": "RUNNING"})
    hub.close()
    hub.close()
    assert writer_threads() == []
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from task where run_id='run-1'").fetchone()[0] == 500
    # pending, launched, running, running_ended, exec_done: five per thread-pool task, as in Parsl
    assert conn.execute("select count(*) from status").fetchone()[0] == 2500
    assert conn.execute("select count(*) from try").fetchone()[0] == 500
    assert conn.execute("select count(*) from block").fetchone()[0] == 1
    wf = conn.execute("select tasks_completed_count, tasks_failed_count, time_completed, workflow_duration,"
                      " workflow_name from workflow").fetchone()
    assert wf[0] == 500 and wf[1] == 0 and wf[2] is not None and wf[3] >= 0 and wf[4]
    assert conn.execute("select task_depends from task where task_id=3").fetchone()[0] == "2"
    nulls = conn.execute("select count(*) from task where task_time_submitted is null or task_time_running"
                         " is null or task_time_returned is null").fetchone()[0]
    assert nulls == 0
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_tasks_spread_over_many_batches_merge_into_one_row(tmp_path):
    from parsl._monitoring.db import Database
    from parsl._monitoring.events import BatchBuilder
    db = tmp_path / "m.db"
    store = Database(f"sqlite:///{db}")
    b = BatchBuilder("r")
    rec = FakeRecord(1, executor="htex")
    for s in (States.pending, States.launched):
        b.add((rec, s, 1000.0, 0, 0))
    store.write(b.take())
    b.add((MessageType.WORKER_TASK_INFO, {"task_id": 1, "try_id": 0, "first_msg": True,
                                          "hostname": "nodeA", "timestamp": 1001.0}))
    store.write(b.take())
    rec.time_returned = datetime.datetime.now()
    b.add((rec, States.exec_done, 1002.0, 0, 0))
    store.write(b.take())
    # a second "running" report (e.g. a duplicate) must not move the start time
    b.add((MessageType.WORKER_TASK_INFO, {"task_id": 1, "try_id": 0, "first_msg": True,
                                          "hostname": "nodeA", "timestamp": 1005.0}))
    store.write(b.take())
    store.close()
    conn = sqlite3.connect(db)
    row = conn.execute("select task_status_name, task_time_running, hostname, task_func_name from task").fetchone()
    assert row[0] == "exec_done" and row[2] == "nodeA" and row[3] == "f"
    assert datetime.datetime.fromisoformat(row[1]) == datetime.datetime.fromtimestamp(1001.0)
    assert conn.execute("select hostname, task_try_time_launched from try").fetchone()[0] == "nodeA"
    assert conn.execute("select count(*) from task").fetchone()[0] == 1
    conn.close()


def test_a_batch_longer_than_one_statement_keeps_every_row_and_the_last_state(tmp_path):
    # The SQLite writer sends rows many to one INSERT; a batch of a size that is not a
    # multiple of that, with one task's states on both sides of a statement boundary,
    # must come out as if written one row at a time.
    from parsl._monitoring.db import Batch, Database, table_columns
    db = tmp_path / "m.db"
    store = Database(f"sqlite:///{db}")
    task_cols, status_cols = table_columns("task"), table_columns("status")
    k = store._sqlite_sql()["task"][2]        # task rows per statement
    assert k * len(task_cols) <= 999 and k > 1, "within the parameter limit of SQLite before 3.32"
    n = 2 * k + 7

    def task_row(i, state, host=None):
        values = {"task_id": i, "run_id": "r", "task_func_name": "f", "task_status_name": state, "hostname": host}
        return tuple(values.get(c) for c in task_cols)

    batch = Batch()
    batch.tasks = [task_row(i, "pending") for i in range(n)]
    batch.tasks[k] = task_row(k - 1, "exec_done", host="nodeA")     # task k-1 again, one statement later
    batch.tasks.append(task_row(k, "pending"))
    ts = "2026-01-01 00:00:00.000000"
    batch.status = [tuple({"task_id": i, "task_status_name": "pending", "timestamp": ts, "run_id": "r"}.get(c)
                          for c in status_cols) for i in range(n)]
    store.write(batch)
    store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from task").fetchone()[0] == n
    assert conn.execute("select task_status_name, hostname from task where task_id = ?",
                        (k - 1,)).fetchone() == ("exec_done", "nodeA")
    assert conn.execute("select count(*) from status").fetchone()[0] == n
    assert conn.execute("select max(task_id) from status").fetchone()[0] == n - 1
    conn.close()


def test_readers_do_not_block_the_writer(hub_and_db):
    hub, db = hub_and_db
    reader = sqlite3.connect(db)
    reader.execute("begin")
    reader.execute("select count(*) from task").fetchone()   # holds a read snapshot
    for i in range(50):
        run_task(hub, FakeRecord(i))
    hub.close()
    reader.rollback()
    assert reader.execute("select count(*) from task").fetchone()[0] == 50
    reader.close()


def test_without_a_config_run_dir_the_default_database_is_monitoring_db_in_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hub = MonitoringHub(hub_address="127.0.0.1", hub_port=6553, resource_monitoring_interval=1)
    hub.start(fake_dfk(tmp_path))
    run_task(hub, FakeRecord(0))
    hub.close()
    assert (tmp_path / "monitoring.db").exists()
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    assert conn.execute("select count(*) from task").fetchone()[0] == 1
    conn.close()


def test_two_runs_share_one_database(tmp_path):
    db = tmp_path / "m.db"
    for run in ("a", "b"):
        hub = MonitoringHub(logging_endpoint=f"sqlite:///{db}")
        dfk = fake_dfk(tmp_path)
        dfk.run_id = run
        hub.start(dfk)
        run_task(hub, FakeRecord(0))
        hub.close()
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from workflow").fetchone()[0] == 2
    assert conn.execute("select count(*) from task").fetchone()[0] == 2
    conn.close()


def test_configuration_errors_name_the_field():
    with pytest.raises(ConfigurationError, match="resource_monitoring_interval"):
        MonitoringHub(resource_monitoring_interval=-1)
    with pytest.raises(ConfigurationError, match="logging_endpoint"):
        MonitoringHub(logging_endpoint="monitoring.db")
    with pytest.raises(TypeError, match="bogus"):
        MonitoringHub(bogus=1)
    with pytest.warns(DeprecationWarning, match="logdir"):
        MonitoringHub(logdir="x")


def test_hub_that_never_started_closes_quietly():
    MonitoringHub().close()


def test_old_database_gains_missing_columns(tmp_path):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("create table task (task_id integer, run_id text, task_func_name text,"
                 " primary key (run_id, task_id))")
    conn.commit()
    conn.close()
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{db}")
    hub.start(fake_dfk(tmp_path))
    run_task(hub, FakeRecord(0))
    hub.close()
    conn = sqlite3.connect(db)
    cols = {r[1] for r in conn.execute("pragma table_info(task)")}
    assert {"task_time_submitted", "task_status_name", "task_time_running"} <= cols
    conn.close()


def test_a_database_that_cannot_be_opened_fails_load_naming_the_url(tmp_path):
    hub = MonitoringHub(logging_endpoint="nosuchdialect://somewhere/db")
    with pytest.raises(ConfigurationError,
                       match="logging_endpoint='nosuchdialect://somewhere/db'.*could not be opened"):
        hub.start(fake_dfk(tmp_path))
    hub.close()


def test_the_workflow_process_never_imports_sqlalchemy(tmp_path):
    import subprocess
    import sys
    code = ("import sys, os; os.chdir(sys.argv[1]);"
            "from parsl.monitoring.monitoring import MonitoringHub;"
            "import types; h = MonitoringHub(); "
            "h.start(types.SimpleNamespace(run_id='r', run_dir=sys.argv[1], config=None, workflow_name=None,"
            " workflow_version=None, executors={}));"
            "h.close(); print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
    assert (tmp_path / "monitoring.db").exists()


def test_default_database_is_in_the_run_dir_with_a_link_where_the_tutorial_reads(tmp_path, monkeypatch):
    """Today's Parsl writes <Config.run_dir>/monitoring.db; the tutorial (Parsl 1.x) reads
    ./monitoring.db; a fresh run_dir is a fresh database."""
    import types
    monkeypatch.chdir(tmp_path)
    for run_dir in ("runinfo", "runinfo", "elsewhere"):
        dfk = fake_dfk(tmp_path)
        dfk.run_id = run_dir + str(len(list(tmp_path.iterdir())))
        dfk.config = types.SimpleNamespace(run_dir=str(tmp_path / run_dir), executors=[])
        hub = MonitoringHub()
        hub.start(dfk)
        run_task(hub, FakeRecord(0))
        hub.close()
    counts = {}
    for path in ("runinfo/monitoring.db", "elsewhere/monitoring.db", "monitoring.db"):
        conn = sqlite3.connect(tmp_path / path)
        counts[path] = conn.execute("select count(*) from workflow").fetchone()[0]
        conn.close()
    assert counts == {"runinfo/monitoring.db": 2, "elsewhere/monitoring.db": 1, "monitoring.db": 1}
    link = tmp_path / "monitoring.db"
    assert link.is_symlink() and link.resolve() == (tmp_path / "elsewhere" / "monitoring.db").resolve()


def test_a_real_file_where_the_link_would_go_is_left_alone(tmp_path, monkeypatch, caplog):
    import types
    monkeypatch.chdir(tmp_path)
    (tmp_path / "monitoring.db").write_bytes(b"")          # e.g. written by Parsl 1.x
    dfk = fake_dfk(tmp_path)
    dfk.config = types.SimpleNamespace(run_dir=str(tmp_path / "runinfo"), executors=[])
    hub = MonitoringHub()
    hub.start(dfk)
    hub.close()
    assert not (tmp_path / "monitoring.db").is_symlink() and (tmp_path / "monitoring.db").read_bytes() == b""
    assert (tmp_path / "runinfo" / "monitoring.db").exists()
    assert "runinfo/monitoring.db" in caplog.text
