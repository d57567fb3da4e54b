"""The task page shows the end of the task's stdout and stderr files, so a failure can be
understood from the browser (the exception alone rarely says why a command failed)."""
import sqlite3
import urllib.request

import parsl
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub


def test_task_page_shows_stdout_and_stderr_tails(tmp_path, monkeypatch):
    db = tmp_path / "m.db"
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}")))

    @parsl.bash_app
    def fails(stdout=None, stderr=None):
        return "for i in $(seq 20000); do echo line-$i; done; echo 'cannot open input.dat' >&2; exit 3"

    try:
        # stdout relative to the workflow's directory (this test's cwd), stderr absolute
        fut = fails(stdout="out.txt", stderr=str(tmp_path / "err.txt"))
        assert fut.exception() is not None
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    conn = sqlite3.connect(db)
    run_id, task_id = conn.execute("select run_id, task_id from task").fetchone()
    conn.close()

    # parsl-visualize started elsewhere still finds the relative stdout (next to runinfo/)
    # stderr is absolute, inside the workflow's directory (tmp_path holds runinfo/)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    from parsl._monitoring.web.server import VisualizationServer
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    try:
        with urllib.request.urlopen(f"{srv.url}workflow/{run_id}/task/{task_id}", timeout=30) as resp:
            html = resp.read().decode()
    finally:
        srv.close()
    assert "cannot open input.dat" in html                      # stderr, whole
    assert "line-20000" in html and "line-1\n" not in html       # stdout: its last 64 KB only
    assert html.index("id='stderr'") < html.index("id='stdout'")


def test_tail_reads_file_urls_and_cuts_at_a_line(tmp_path):
    from parsl._monitoring.web.outputs import LIMIT, resolve, tail
    (tmp_path / "runinfo" / "000").mkdir(parents=True)
    out = tmp_path / "o.txt"
    out.write_text("".join(f"line {i}\n" for i in range(20000)))
    real, why = resolve(f"file://{out}", str(tmp_path / "runinfo" / "000"))
    assert why is None
    text = tail(real)
    assert text.startswith("...\nline ") and text.endswith("line 19999\n")
    assert len(text.encode()) <= LIMIT + 4
    assert tail(str(tmp_path / "missing.txt")) is None
    assert resolve("missing.txt", str(tmp_path / "runinfo" / "000"))[0] is None
