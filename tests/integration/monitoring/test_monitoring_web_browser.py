"""parsl-visualize in a real headless Chromium (Debian's /usr/bin/chromium via Playwright).

Screenshots go to $PARSL_SCREENSHOT_DIR (default: the test's tmp dir) so a human can look.
Every test checks that the pages load nothing from anywhere but the server.
"""
import datetime
import os
import sqlite3
import sys
from urllib.parse import urlparse

import pytest

from tests.waiting import wait_until

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks"))


@pytest.fixture
def browser():
    # Per test: the leak check wants Playwright's threads gone when each test ends.
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no /usr/bin/chromium (run .ci/browser-up.sh)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path):
    d = os.environ.get("PARSL_SCREENSHOT_DIR") or str(tmp_path / "shots")
    os.makedirs(d, exist_ok=True)
    return d


@pytest.fixture
def site(tmp_path):
    from monitoring_synthetic_db import make

    from parsl._monitoring.web.server import VisualizationServer
    db = tmp_path / "m.db"
    make(str(db), 300, running=True, run_id="run-live")
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    try:
        yield srv, db
    finally:
        srv.close()


def open_page(browser, srv):
    """A page that records the host of every request it makes."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.hosts = set()
    page.on("request", lambda req: page.hosts.add(urlparse(req.url).netloc))
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def only_from_server(page, srv):
    assert page.hosts == {f"{srv.host}:{srv.port}"}, page.hosts
    assert not page.errors, page.errors


def test_every_page_draws_its_charts(browser, site, shots):
    srv, _ = site
    page = open_page(browser, srv)
    try:
        page.goto(srv.url)
        page.wait_for_selector("text=run-live")
        assert "Running" in page.inner_text("table")
        page.screenshot(path=f"{shots}/01-workflows.png", full_page=True)

        page.click("text=run-live")
        for chart in ("completed", "queue", "workers", "blocks"):
            page.wait_for_selector(f"#chart-{chart} .main-svg")
        assert "exec_done" in page.inner_text("#states")
        # real time axes: tick labels are times, and no two are the same
        ticks = page.eval_on_selector_all("#chart-completed .xtick text", "els => els.map(e => e.textContent)")
        assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks
        assert "tasks per" in page.text_content("#chart-completed")
        page.screenshot(path=f"{shots}/02-overview.png", full_page=True)

        page.click("nav >> text=Task stream")
        page.wait_for_selector("#chart-stream .barlayer .point")
        assert page.locator("#chart-stream .barlayer .point").count() >= 300
        legend = page.text_content("#chart-stream .legend")
        assert "running" in legend and "launched" in legend
        page.screenshot(path=f"{shots}/03-stream.png", full_page=True)
        # clicking a bar opens its task's page
        page.locator("#chart-stream .barlayer .point path").nth(5).click(force=True)
        page.wait_for_selector("h1:has-text('Task ')")
        assert "Try 0" in page.inner_text("main")
        assert "dependents" in page.inner_text("main")
        page.wait_for_selector("#chart-task-cpu .main-svg")
        page.screenshot(path=f"{shots}/04-task.png", full_page=True)

        page.click("nav >> text=Resources")
        page.wait_for_selector("#chart-rss .main-svg")
        page.wait_for_selector("#summary table")
        assert "p95" in page.inner_text("#summary")
        assert "resident memory (MiB)" in page.text_content("#chart-rss")
        assert page.locator("text=node0").count() >= 1
        page.screenshot(path=f"{shots}/05-resources.png", full_page=True)

        page.click("nav >> text=DAG by state")
        page.wait_for_selector("#chart-dag .scatterlayer .point", state="attached")
        assert page.locator("#chart-dag .scatterlayer .point").count() >= 300
        page.screenshot(path=f"{shots}/06-dag-states.png", full_page=True)

        page.click("nav >> text=Tasks")
        page.wait_for_selector("text=page 1 of 3")
        page.click("text=next")
        page.wait_for_selector("text=page 2 of 3")
        only_from_server(page, srv)
    finally:
        page.close()


def test_big_run_shows_the_app_graph_and_aggregated_stream(browser, tmp_path, shots):
    from monitoring_synthetic_db import make

    from parsl._monitoring.web.server import VisualizationServer
    db = tmp_path / "big.db"
    make(str(db), 5000, run_id="big")
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    page = open_page(browser, srv)
    try:
        page.goto(srv.url + "workflow/big/dag_group_by_apps")
        page.wait_for_selector("#chart-dag .scatterlayer .point", state="attached")
        text = page.text_content("#chart-dag")
        assert "analyze (1000, " in text                 # app label with its task count
        assert "graph of apps" in page.inner_text("#dag-note")
        page.screenshot(path=f"{shots}/07-dag-apps-5000.png", full_page=True)

        page.goto(srv.url + "workflow/big/stream")
        page.wait_for_selector("#chart-stream .heatmaplayer")  # zoomed out: counts per block
        assert "Zoom in" in page.inner_text("#stream-note")
        page.screenshot(path=f"{shots}/08-stream-zoomed-out.png", full_page=True)
        only_from_server(page, srv)
    finally:
        page.close()
        srv.close()


def test_overview_of_a_running_workflow_advances_by_itself(browser, tmp_path, shots):
    """A real workflow runs while the page is open: the page shows it advancing."""
    import threading

    import parsl
    from parsl._monitoring.web.server import VisualizationServer
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    from parsl.monitoring import MonitoringHub

    db = tmp_path / "live.db"
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)],
                      run_dir=str(tmp_path / "runinfo"),
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}", resource_monitoring_interval=1)))
    gate = threading.Event()

    @parsl.python_app
    def step(i, gate=gate):
        import time
        gate.wait(30)
        time.sleep(0.2)          # the work: 40 tasks on 2 threads take ~4 s
        return i

    srv = page = None
    try:
        futs = [step(i) for i in range(40)]
        wait_until(lambda: db.exists() and _done(db) == 0 and _tasks(db) == 40, "tasks recorded", timeout=30)
        srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
        page = open_page(browser, srv)
        run_id = sqlite3.connect(db).execute("select run_id from workflow").fetchone()[0]
        page.goto(f"{srv.url}workflow/{run_id}/")
        page.wait_for_selector("#states .card")
        assert "exec_done" not in page.inner_text("#states")
        page.screenshot(path=f"{shots}/09-live-before.png", full_page=True)
        gate.set()
        # the page updates itself (no reload) once the database has the first results
        page.wait_for_function("document.querySelector('#states').innerText.includes('exec_done')", timeout=15000)
        page.screenshot(path=f"{shots}/10-live-during.png", full_page=True)
        for f in futs:
            f.result(timeout=60)
    finally:
        gate.set()
        parsl.dfk().cleanup()
        parsl.clear()
    page.wait_for_function("document.body.dataset.live === '0'", timeout=15000)
    assert "40" in page.inner_text("#states")
    # the server-rendered tables followed too: the app table counts the 40 done
    page.wait_for_function("document.querySelector('#wf-apps').innerText.includes('40\\t40')", timeout=15000)
    page.screenshot(path=f"{shots}/11-live-finished.png", full_page=True)
    only_from_server(page, srv)
    page.close()
    srv.close()


def _tasks(db):
    try:
        return sqlite3.connect(db).execute("select count(*) from task").fetchone()[0]
    except sqlite3.Error:
        return -1


def _done(db):
    return sqlite3.connect(db).execute("select count(*) from task where task_status_name='exec_done'").fetchone()[0]


def test_running_workflow_page_refreshes_itself(browser, site, shots):
    srv, db = site
    page = open_page(browser, srv)
    try:
        page.goto(srv.url + "workflow/run-live/")
        page.wait_for_selector("#states .card")
        assert "running" in page.inner_text("#states")
        conn = sqlite3.connect(db)
        conn.execute("update task set task_status_name='exec_done'")
        conn.execute("update workflow set time_completed=?", (str(datetime.datetime.now()),))
        conn.commit()
        conn.close()
        page.wait_for_function("document.body.dataset.live === '0'", timeout=15000)
        assert "running" not in page.inner_text("#states")
        page.screenshot(path=f"{shots}/12-refreshed.png", full_page=True)
    finally:
        page.close()


def test_unknown_workflow_and_huge_task_id_are_clear_404s(browser, site):
    srv, _ = site
    page = browser.new_page()
    try:
        resp = page.goto(srv.url + "workflow/nope/")
        assert resp.status == 404
        assert "No workflow with run_id 'nope'" in page.inner_text("main")
        resp = page.goto(srv.url + "workflow/run-live/task/" + "9" * 40)
        assert resp.status == 404
        assert "No task" in page.inner_text("main")
    finally:
        page.close()


def test_task_page_shows_each_tries_own_output_and_traceback(browser, tmp_path, shots, monkeypatch):
    import parsl
    from parsl._monitoring.web.server import VisualizationServer
    from parsl.config import Config
    from parsl.executors import ThreadPoolExecutor
    from parsl.monitoring import MonitoringHub

    monkeypatch.chdir(tmp_path)
    db = tmp_path / "m.db"
    marker = tmp_path / "again"
    parsl.load(Config(executors=[ThreadPoolExecutor(label="threads")], run_dir=str(tmp_path / "runinfo"), retries=1,
                      monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{db}")))

    @parsl.bash_app
    def flaky(stdout=None, stderr=None):
        return (f"if [ -e {marker} ]; then echo second try worked; exit 0; fi; touch {marker}; "
                f"echo first try output; echo 'cannot open input.dat' >&2; exit 3")

    try:
        assert flaky(stdout="out.txt", stderr="err.txt").exception() is None
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    run_id = sqlite3.connect(db).execute("select run_id from workflow").fetchone()[0]
    srv = VisualizationServer(f"sqlite:///{db}", port=0).start()
    page = open_page(browser, srv)
    try:
        page.goto(f"{srv.url}workflow/{run_id}/task/0")
        first, second = page.inner_text("#try-0"), page.inner_text("#try-1")
        assert page.inner_text("#try-0 pre#stdout").strip() == "first try output"
        assert page.inner_text("#try-1 pre#stdout").strip() == "second try worked"
        def said(sel):      # what the command wrote (the runner writes the command first)
            return page.inner_text(sel).split("--> end executable <--")[-1].strip()
        assert said("#try-0 pre#stderr") == "cannot open input.dat"
        assert "BashExitFailure" in page.inner_text("#traceback-0") and "Traceback" in first
        assert said("#try-1 pre#stderr") == ""
        assert "traceback" not in second
        page.screenshot(path=f"{shots}/13-task-tries.png", full_page=True)
        only_from_server(page, srv)
    finally:
        page.close()
        srv.close()
