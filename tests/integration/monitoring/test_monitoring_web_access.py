"""What parsl-visualize refuses: files outside the workflow's directory (issue 18 item 5),
requests without the access token, task ids too large for the route (404, not 500), and
databases that are missing or not monitoring databases (every entry point: a message,
exit status 2, and no file created)."""
import os
import sqlite3
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.fixture
def hostile_db(tmp_path):
    """A finished run whose tasks name files outside it, and one inside."""
    from monitoring_synthetic_db import make
    db = tmp_path / "m.db"
    make(str(db), 4, run_id="r")
    wfdir = tmp_path / "wf"
    (wfdir / "runinfo" / "000").mkdir(parents=True)
    (wfdir / "ok.txt").write_text("hello from the task\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET\n")
    os.chmod(secret, 0o600)
    (wfdir / "link.txt").symlink_to(secret)
    c = sqlite3.connect(db)
    c.execute("update workflow set rundir=?", (str(wfdir / "runinfo" / "000"),))
    for tid, path in ((0, "../../../../../../../../etc/hostname"), (1, str(secret)), (2, "ok.txt"), (3, "link.txt")):
        c.execute("update task set task_stdout=? where task_id=?", (path, tid))
    c.commit()
    c.close()
    return db


def test_task_pages_refuse_files_outside_the_workflow_directory(hostile_db):
    from parsl._monitoring.web.server import VisualizationServer
    srv = VisualizationServer(f"sqlite:///{hostile_db}", port=0).start()
    try:
        pages = {t: _get(f"{srv.url}workflow/r/task/{t}") for t in range(4)}
    finally:
        srv.close()
    hostname = open("/etc/hostname").read().strip() if os.path.exists("/etc/hostname") else "\0"
    for t in (0, 1, 3):
        code, html = pages[t]
        assert code == 200
        assert "stdout-refused" in html and "outside the workflow" in html
        assert "TOP SECRET" not in html
    assert f">{hostname}" not in pages[0][1]
    assert "hello from the task" in pages[2][1]


def test_huge_task_id_is_404_not_500(hostile_db):
    from parsl._monitoring.web.server import VisualizationServer
    srv = VisualizationServer(f"sqlite:///{hostile_db}", port=0).start()
    try:
        code, html = _get(f"{srv.url}workflow/r/task/{'9' * 30}")
        assert code == 404 and "No task" in html
        code, _ = _get(f"{srv.url}workflow/r/task/{2 ** 63 - 1}")
        assert code == 404
    finally:
        srv.close()


def test_token_is_required_when_set(hostile_db):
    from parsl._monitoring.web.server import VisualizationServer
    srv = VisualizationServer(f"sqlite:///{hostile_db}", port=0, token=True).start()
    try:
        assert _get(srv.url)[0] == 403
        assert _get(srv.url + "static/dashboard.js")[0] == 403
        assert _get(srv.url + "?token=wrong")[0] == 403
        req = urllib.request.Request(srv.login_url)
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200
            cookie = r.headers["Set-Cookie"].split(";")[0]
            assert "HttpOnly" in r.headers["Set-Cookie"]
        with urllib.request.urlopen(urllib.request.Request(srv.url + "workflow/r/", headers={"Cookie": cookie}),
                                    timeout=30) as r:
            assert r.status == 200
    finally:
        srv.close()


def test_static_assets_come_from_the_server(hostile_db):
    from parsl._monitoring.web.server import VisualizationServer
    c = sqlite3.connect(hostile_db)
    c.execute("update workflow set monitoring_incomplete = 'the driver was killed'")
    c.commit()
    c.close()
    srv = VisualizationServer(f"sqlite:///{hostile_db}", port=0).start()
    try:
        code, html = _get(srv.url + "workflow/r/")
        assert code == 200 and "http" not in html.split("<body")[0].replace(srv.url, "")
        assert "the driver was killed" in html
        code, js = _get(srv.url + "static/plotly.min.js")
        assert code == 200 and len(js) > 1_000_000
        assert _get(srv.url + "static/../server.py")[0] == 404
    finally:
        srv.close()


@pytest.mark.parametrize("progress", [False, True])
def test_cli_missing_or_foreign_database(tmp_path, monkeypatch, capsys, progress):
    from parsl.monitoring.visualization.app import cli_run
    monkeypatch.chdir(tmp_path)
    extra = ["--progress"] if progress else []
    assert cli_run(extra) == 2
    assert "no monitoring database" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []                 # nothing created
    assert cli_run([str(tmp_path / "nope.db"), *extra]) == 2
    assert not (tmp_path / "nope.db").exists()
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    assert cli_run(["junk.db", *extra]) == 2
    assert "could not be read as a database" in capsys.readouterr().err
    sqlite3.connect(tmp_path / "other.db").execute("create table foo(x)").connection.close()
    assert cli_run(["other.db", *extra]) == 2
    assert "not a Parsl monitoring database" in capsys.readouterr().err
