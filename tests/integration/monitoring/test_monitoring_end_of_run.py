"""Nothing is lost when a monitored run ends normally or by Ctrl-C."""
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    import parsl
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor
    from parsl.monitoring import MonitoringHub

    parsl.load(Config(executors=[ThreadPoolExecutor(max_threads=2)],
                      monitoring=MonitoringHub(resource_monitoring_interval=1)))

    @parsl.python_app
    def inc(x):
        return x + 1

    futs = [inc(i) for i in range(300)]
    [f.result() for f in futs]
    print("done", flush=True)
    if sys.argv[1] == "ctrl-c":
        os.kill(os.getpid(), signal.SIGINT)   # as if the user pressed Ctrl-C
        time.sleep(30)                          # interrupted by the KeyboardInterrupt
    parsl.clear()
""")


def _run_workflow(tmp_path, source: str, ending: str) -> subprocess.CompletedProcess:
    """Run a workflow script in its own process (so a Ctrl-C is real); it must print "done"."""
    script = tmp_path / "wf.py"
    script.write_text(source)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, str(script), ending], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert "done" in p.stdout, p.stderr[-2000:]
    return p


@pytest.mark.parametrize("ending", ["normal", "ctrl-c"])
def test_every_task_is_recorded(tmp_path, ending):
    p = _run_workflow(tmp_path, SCRIPT, ending)
    if ending == "ctrl-c":
        assert "KeyboardInterrupt" in p.stderr
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    try:
        assert conn.execute("select count(*) from task where task_status_name='exec_done'").fetchone()[0] == 300
        # pending, launched, running, running_ended, exec_done (threads: running at the launch)
        assert conn.execute("select count(*) from status").fetchone()[0] == 5 * 300
        assert conn.execute("select time_completed is not null, tasks_completed_count from workflow"
                            ).fetchone() == (1, 300)
        assert conn.execute("select count(*) from task where task_time_running is null").fetchone()[0] == 0
    finally:
        conn.close()


HTEX_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    import parsl
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.providers import LocalProvider
    from parsl.monitoring import MonitoringHub

    parsl.load(Config(executors=[HighThroughputExecutor(address="127.0.0.1", max_workers_per_node=2,
                                                        provider=LocalProvider(init_blocks=1, max_blocks=1))],
                      monitoring=MonitoringHub(resource_monitoring_interval=1)))

    @parsl.python_app
    def noop():
        return None

    # Enough at once that the writer holds chunks back during the burst.
    [f.result() for f in [noop() for _ in range(3000)]]
    print("done", flush=True)
    if sys.argv[1] == "ctrl-c":
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
    parsl.clear()
""")


@pytest.mark.htex
@pytest.mark.parametrize("ending", ["normal", "ctrl-c"])
def test_a_burst_on_htex_is_recorded_whole(tmp_path, ending):
    _run_workflow(tmp_path, HTEX_SCRIPT, ending)
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    try:
        assert conn.execute("select count(*) from task where task_status_name='exec_done'").fetchone()[0] == 3000
        # pending, launched, running, running_ended, exec_done for every task
        assert conn.execute("select count(*) from status").fetchone()[0] == 5 * 3000
        assert conn.execute("select count(distinct task_id) from resource").fetchone()[0] == 3000
        assert conn.execute("select count(*) from try where hostname is null or task_try_time_running is null"
                            ).fetchone()[0] == 0
        # The manager's arrival (and, at a normal end, its departure) in the node table.
        nodes = conn.execute("select active, hostname, uid, block_id, worker_count, cpu_count, total_memory,"
                             " python_v, timestamp, last_heartbeat from node order by id").fetchall()
        assert nodes[0][0] == 1 and len({n[2] for n in nodes}) == 1
        assert all(n[1] == socket.gethostname() and n[3] == "0" and n[4] == 2 and n[5] >= 1 and n[6] > 0
                   and n[7] and n[8] and n[9] for n in nodes)
        if ending == "normal":
            assert [n[0] for n in nodes] == [1, 0]
    finally:
        conn.close()


@pytest.mark.htex
def test_htex_tasks_are_seen_running_even_with_resource_monitoring_off(tmp_path):
    _run_workflow(tmp_path, HTEX_SCRIPT.replace("resource_monitoring_interval=1", "resource_monitoring_enabled=False")
                  .replace("range(3000)", "range(50)"), "normal")
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    try:
        assert conn.execute("select count(*) from try where task_try_time_running is null").fetchone()[0] == 0
        assert conn.execute("select count(*) from status where task_status_name='running'").fetchone()[0] == 50
        assert conn.execute("select count(*) from resource").fetchone()[0] == 0
    finally:
        conn.close()
