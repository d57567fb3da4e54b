"""The linters CI runs: ruff, mypy (configured in pyproject.toml) and import-linter (.importlinter).

Each runs as a subprocess from the same environment as the tests; ``scripts/setup.sh``
installs all three through the ``test`` extra, so in CI none is skipped. A failure shows the
tool's own report.
"""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run_tool(name, *args, timeout=300):
    exe = os.path.join(BIN, name)
    if not os.path.exists(exe):
        exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed in this environment (pip install -e '.[test]' installs it)")
    proc = subprocess.run([exe, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        command = " ".join([name, *args])
        pytest.fail(f"`{command}` failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}", pytrace=False)


def test_ruff():
    run_tool("ruff", "check", "--no-cache", "--output-format=concise", "parsl", "tests", "benchmarks", "examples")


@pytest.mark.slow
def test_mypy():
    # files and per-package strictness come from [tool.mypy] in pyproject.toml
    run_tool("mypy")


def test_import_contracts():
    run_tool("lint-imports", "--no-cache")
