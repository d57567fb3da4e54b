"""The documentation site builds with no warning, every page is reachable, and (in a real
headless Chromium) pages render with their navigation, code and API reference."""
import os
import re
import subprocess
import sys

import pytest

from docs_examples import REPO

DOCS = os.path.join(REPO, "docs")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGES = ["index", "start/install", "start/quickstart", "start/tutorial", "guide/concepts", "guide/configuration",
         "guide/elasticity", "guide/caching", "guide/staging", "guide/monitoring", "guide/errors",
         "guide/troubleshooting", "guide/migrating", "guide/performance", "reference/api", "about",
         "ARCHITECTURE", "kernel", "htex", "elasticity", "checkpoint-format", "benchmarks"]


def build(src, out):
    pytest.importorskip("sphinx", reason="the docs extra is not installed (scripts/setup.sh installs it)")
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
                           "-d", str(out / "doctrees"), src, str(out / "html")],
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    r = build(DOCS, out)
    assert r.returncode == 0, f"the docs build failed or warned:\n{r.stderr[-5000:]}"
    return out / "html"


def test_every_page_is_built(site):
    missing = [p for p in PAGES if not (site / f"{p}.html").exists()]
    assert not missing, f"pages not built: {missing}"


def test_api_reference_documents_parameters(site):
    html = (site / "reference" / "api.html").read_text()
    for name in ("parsl.config.Config", "parsl.executors.HighThroughputExecutor", "parsl.providers.SlurmProvider",
                 "parsl.launchers.SrunLauncher", "parsl.monitoring.monitoring.MonitoringHub",
                 "parsl.data_provider.files.File", "parsl.app.app.python_app", "parsl.app.errors.BashExitFailure"):
        assert f'id="{name}"' in html, f"{name} missing from the API reference"
    # parameters come from the docstrings (napoleon renders "Args:" as a parameter list)
    section = html[html.index('id="parsl.providers.SlurmProvider"'):]
    assert "partition" in section[:20000] and "walltime" in section[:20000]


def test_a_broken_link_fails_the_build(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text('extensions = ["myst_parser"]\nmyst_heading_anchors = 3\n')
    (src / "index.md").write_text("# Home\n\nSee [a page that is not there](missing.md) and [a heading](#nowhere).\n")
    r = build(str(src), tmp_path)
    assert r.returncode != 0
    assert "missing.md" in r.stderr or "nowhere" in r.stderr


def test_the_repository_cites_nothing_outside_itself():
    """No page, script or example points at files outside the repository or at one machine's paths."""
    bad = re.compile(r"\.\./shared|/work/|/root/|/home/\w+/")
    roots = ["docs", "examples", "scripts", "README.md"]
    found = []
    for root in roots:
        path = os.path.join(REPO, root)
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, dirs, fs in os.walk(path) for f in fs
            if not any(part.startswith(("_build", ".")) for part in os.path.relpath(d, REPO).split(os.sep))]
        for f in files:
            if f.endswith((".md", ".py", ".sh", ".css", ".txt")):
                with open(f, encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        if bad.search(line):
                            found.append(f"{os.path.relpath(f, REPO)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.browser
def test_pages_render_in_a_browser(site, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no /usr/bin/chromium (run .ci/browser-up.sh)")
    shots = os.environ.get("PARSL_SCREENSHOT_DIR") or str(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto((site / "index.html").as_uri())
            nav = page.inner_text(".sidebar-tree").lower()
            for caption in ("Start", "Guide", "Coming from Parsl", "Reference", "Internals"):
                assert caption.lower() in nav
            page.screenshot(path=os.path.join(shots, "docs-index.png"))
            page.goto((site / "start" / "quickstart.html").as_uri())
            assert page.locator("div.highlight-python").count() >= 2
            assert "<!--" not in page.inner_text("article")       # markers stay hidden
            page.goto((site / "start" / "tutorial.html").as_uri())
            boxes = [b.bounding_box() for b in page.locator(".side-by-side > div").all()]
            assert len(boxes) == 2 and abs(boxes[0]["y"] - boxes[1]["y"]) < 5, "the two Gantt charts side by side"
            page.screenshot(path=os.path.join(shots, "docs-tutorial.png"), full_page=True)
        finally:
            browser.close()
