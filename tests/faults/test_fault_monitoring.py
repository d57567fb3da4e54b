"""The monitoring writer process killed or stopped, and the driver killed
(docs/reliability.md, "The monitoring writer dies", "The driver is killed").

Promise: a killed writer is replaced and sent everything it had not committed: the database
ends with every task in the state its future ended in, each final state once, and the
workflow completed; a stopped one catches up.  When the driver itself dies, the workflow's
row is still marked completed (and incomplete): it never shows as running forever.
"""
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import pytest

from parsl.monitoring import MonitoringHub

import fault_tools as ft
from waiting import wait_until

pytestmark = [pytest.mark.htex]


def _hub(tmp_path):
    return MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db", flush_period=0.2,
                         resource_monitoring_interval=0)


@pytest.mark.parametrize("kills", [1, 3])
def test_a_killed_writer_is_replaced_and_nothing_is_lost(tmp_path, kills):
    hub = _hub(tmp_path)
    dfk = ft.load(ft.htex(workers=2), tmp_path, retries=0, monitoring=hub)
    ledger = ft.Ledger()
    try:
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always")
            for k in range(kills):
                ledger.submit(40, seconds=0.01, start=k * 40)
                ledger.wait_done(k * 40 + 10)
                pid = hub.router.client.proc.pid
                ft.signal_pid(pid, signal.SIGKILL)
                wait_until(lambda: hub.router.client.proc.pid != pid and hub.router.client.alive(),
                           "a replacement writer")
            ledger.submit(40, seconds=0.01, start=kills * 40)
            values = ledger.check()
            ft.close(dfk)
        assert hub.router.client.restarts == kills
    finally:
        ft.close(dfk)
    state = ft.check_monitoring(str(tmp_path / "monitoring.db"), ledger, values, complete=False)
    # Whatever the replacement could not match (worker reports of tries the dead writer
    # knew) is said in the row and to the user, once.
    incomplete = [str(w.message) for w in told if "incomplete" in str(w.message)]
    assert len(incomplete) == (1 if state["incomplete"] else 0), incomplete


def test_a_stopped_writer_catches_up(tmp_path):
    hub = _hub(tmp_path)
    dfk = ft.load(ft.htex(workers=2), tmp_path, retries=0, monitoring=hub)
    ledger = ft.Ledger()
    try:
        ledger.submit(30, seconds=0.01)
        timer = ft.stop_for(hub.router.client.proc.pid, 2.0)
        ledger.submit(60, seconds=0.01, start=30)
        values = ledger.check()
        timer.join()
    finally:
        ft.close(dfk)
    assert hub.router.client.restarts == 0
    ft.check_monitoring(str(tmp_path / "monitoring.db"), ledger, values)


DRIVER = textwrap.dedent("""
    import os, sys, time
    import parsl
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    from parsl.monitoring import MonitoringHub

    @parsl.python_app
    def nap(i):
        import time
        time.sleep(0.01)
        return i

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)], run_dir=sys.argv[1],
                      monitoring=MonitoringHub(logging_endpoint="sqlite:///" + sys.argv[2], flush_period=0.1)))
    [f.result() for f in [nap(i) for i in range(20)]]
    print("ran", flush=True)
    time.sleep(600)      # until killed
""")


def test_a_killed_driver_leaves_a_completed_incomplete_workflow(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    db = tmp_path / "m.db"
    p = subprocess.Popen([sys.executable, str(script), str(tmp_path / "runinfo"), str(db)], stdout=subprocess.PIPE,
                         text=True)
    import sqlite3

    def done_rows():
        try:
            con = sqlite3.connect(db)
            try:
                return con.execute("SELECT count(*) FROM task WHERE task_status_name = 'exec_done'").fetchone()[0]
            finally:
                con.close()
        except sqlite3.Error:
            return 0
    try:
        assert p.stdout.readline().strip() == "ran"
        # (what the driver's hub still held when it was killed dies with it: the kill waits
        # until the writer has every task, to see what the writer does on its own)
        wait_until(lambda: done_rows() == 20, "the writer to have every task")
        ft.signal_pid(p.pid, signal.SIGKILL)
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()

    def row():
        con = sqlite3.connect(db)
        try:
            return con.execute("SELECT time_completed, monitoring_incomplete FROM workflow").fetchone()
        finally:
            con.close()
    # The orphaned writer notices EOF, writes what it had, marks the row and exits.
    completed, why = wait_until(lambda: (r := row()) and r[0] and r, "the workflow row to be completed", timeout=30)
    assert "without closing monitoring" in why
    assert os.stat(db).st_mode & 0o777 == 0o600
