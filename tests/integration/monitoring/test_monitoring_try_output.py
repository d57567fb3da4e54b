"""Each try's stdout/stderr is recorded when the try ends (issue 15 item 6): a retry's output
and a later run appending to the same file do not show up under an earlier try."""
import sqlite3
import urllib.request

import parsl
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.monitoring import MonitoringHub


def _run(tmp_path, db, body, retries=0, **kw):
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=str(tmp_path / "runinfo"),
                      retries=retries, monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}")))
    try:
        app = parsl.bash_app(body)
        return app(**kw).exception()
    finally:
        parsl.dfk().cleanup()
        parsl.clear()


def test_each_try_keeps_its_own_output_and_a_later_run_does_not_leak_in(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "m.db"
    marker = tmp_path / "second-try"

    def flaky(stdout=None, stderr=None):
        return (f"if [ -e {marker} ]; then echo try-two-out; echo try-two-err >&2; exit 0; fi; "
                f"touch {marker}; echo try-one-out; echo try-one-err >&2; exit 1")

    assert _run(tmp_path, db, flaky, retries=1, stdout="out.txt", stderr="err.txt") is None

    def later(stdout=None):
        return "echo from-a-later-run"

    assert _run(tmp_path, db, later, stdout="out.txt") is None
    assert "from-a-later-run" in (tmp_path / "out.txt").read_text()

    conn = sqlite3.connect(db)
    rows = conn.execute("select w.run_id, o.task_id, o.try_id, o.stream, o.output, o.start_offset, o.end_offset"
                        " from try_output o join workflow w on w.run_id = o.run_id"
                        " order by w.time_began, o.try_id, o.stream").fetchall()
    first_run = rows[0][0]
    conn.close()
    out = {(r[2], r[3]): r[4] for r in rows if r[0] == first_run}
    assert out[(0, "stdout")] == "try-one-out\n" and out[(1, "stdout")] == "try-two-out\n"
    # (the bash runner writes the command to stderr first, as Parsl's does)
    for try_id, said in ((0, "try-one-err\n"), (1, "try-two-err\n")):
        parts = out[(try_id, "stderr")].split("--> end executable <--\n")
        assert len(parts) == 2 and parts[1] == said, out[(try_id, "stderr")]

    from parsl._monitoring.web.server import VisualizationServer
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    try:
        with urllib.request.urlopen(f"{srv.url}workflow/{first_run}/task/0", timeout=30) as resp:
            html = resp.read().decode()
    finally:
        srv.close()
    one, two = html.index("id='try-0'"), html.index("id='try-1'")
    assert one < html.index("id='stdout'>try-one-out\n</pre>") < two < html.index("id='stdout'>try-two-out\n</pre>")
    assert "from-a-later-run" not in html
    assert "recorded when try 1 ended" in html
    # the failed try's traceback is recorded with it, and shown under that try
    assert one < html.index("id='traceback-0'") < two and "BashExitFailure" in html[one:two]
    assert "id='traceback-1'" not in html
