"""The shipped examples run without warnings, and scripts/demo.sh works as its README says:
a fresh run directory per invocation, every section monitored, and a closing summary whose
``parsl-visualize`` command works when pasted as printed."""
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

from docs_examples import REPO
from waiting import wait_until


def test_multi_site_runs_without_warnings(tmp_path):
    r = subprocess.run([sys.executable, "-W", "error", os.path.join(REPO, "examples", "multi_site.py")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Warning" not in r.stderr, r.stderr
    assert int(r.stdout.strip()) >= 0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_demo():
    r = subprocess.run(["bash", os.path.join(REPO, "scripts", "demo.sh"), "--quick"], capture_output=True,
                       text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"demo.sh failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.mark.slow
def test_demo_is_followable_and_its_visualize_command_works():
    outputs = []
    try:
        out = _run_demo()
        outputs.append(out)
        assert "[1/2] Setting up .venv" in out and "[2/2] Running the tutorial's workflows in" in out
        for n in range(1, 7):
            assert f"=== {n}. " in out, f"section {n} missing:\n{out}"
        assert "succeeded on its retry" in out and "(from checkpoints)" in out
        # every section is in the database, including the bash app, the retries and the cache hit
        for name in ("1-several-sites", "3-caching", "4-checkpoint-restart", "5-retries"):
            assert name in out
        assert "tasks tried more than once: broken, flaky" in out
        lines = out.splitlines()
        command = lines[lines.index(next(x for x in lines if x.startswith("web view:"))) + 1].split()
        assert command[0].startswith("/") and command[0].endswith("/.venv/bin/parsl-visualize"), command
        assert command[1].startswith("sqlite:////") and os.path.exists(command[1][len("sqlite:///"):])

        # pasted as printed (plus a free port: 8080 may be taken on a test machine)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        env["PATH"] = "/usr/bin:/bin"
        server = subprocess.Popen(command + ["-p", str(port)], env=env, cwd="/", stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            def page():
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                        return resp.read().decode()
                except OSError:
                    return None
            wait_until(lambda: page() is not None, "parsl-visualize to answer", timeout=60)
            assert "5-retries" in page()
        finally:
            server.terminate()
            server.wait(timeout=30)

        # a second invocation gets its own directory and shows the same checkpoint section
        second = _run_demo()
        outputs.append(second)
        first_dir = next(x for x in out.splitlines() if x.startswith("results:")).split()[1]
        second_dir = next(x for x in second.splitlines() if x.startswith("results:")).split()[1]
        assert first_dir != second_dir
        assert "(from checkpoints)" in second
    finally:
        for o in outputs:
            for line in o.splitlines():
                if line.startswith("results:"):
                    shutil.rmtree(line.split()[1], ignore_errors=True)
