"""Nothing is lost when a monitored run ends normally or by Ctrl-C."""
import os
import signal
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


@pytest.mark.parametrize("ending", ["normal", "ctrl-c"])
def test_every_task_is_recorded(tmp_path, ending):
    script = tmp_path / "wf.py"
    script.write_text(SCRIPT)
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, str(script), ending], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert "done" in p.stdout, p.stderr[-2000:]
    if ending == "ctrl-c":
        assert "KeyboardInterrupt" in p.stderr
    conn = sqlite3.connect(tmp_path / "monitoring.db")
    try:
        assert conn.execute("select count(*) from task where task_status_name='exec_done'").fetchone()[0] == 300
        assert conn.execute("select count(*) from status").fetchone()[0] == 900
        assert conn.execute("select time_completed is not null, tasks_completed_count from workflow"
                            ).fetchone() == (1, 300)
        assert conn.execute("select count(*) from task where task_time_running is null").fetchone()[0] == 0
    finally:
        conn.close()
