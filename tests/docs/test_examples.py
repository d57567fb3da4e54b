"""Every code example of the documentation runs (see docs_examples.py for the page markers).

Python examples run as their own program (``python example.py``, with this venv's Python) in a
fresh folder; shell examples run under ``bash -e`` in a fresh folder that has the repository's
``.venv``, ``examples`` and ``docs`` linked in, so ``.venv/bin/...`` works as printed.
"""
import os
import re
import subprocess
import sys

import pytest

from docs_examples import REPO, all_examples

EXAMPLES = all_examples()
WARNING = re.compile(r"\b\w*Warning\b")


def _param(e):
    marks = [pytest.mark.slurm] if e.slurm else []
    if e.skip_reason is not None:
        marks.append(pytest.mark.skip(reason=f"not run: {e.skip_reason}"))
    return pytest.param(e, id=e.id, marks=marks)


@pytest.fixture
def example_dir(tmp_path):
    for name in (".venv", "examples", "docs"):
        os.symlink(os.path.join(REPO, name), tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("example", [_param(e) for e in EXAMPLES])
def test_example_runs(example, example_dir, request):
    if example.slurm:
        request.getfixturevalue("docs_slurm")
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO
    if example.language == "python":
        script = example_dir / "example.py"
        script.write_text(example.code)
        cmd = [sys.executable, str(script)]
    else:
        cmd = ["bash", "-e", "-o", "pipefail", "-c", example.code]
    try:
        r = subprocess.run(cmd, cwd=example_dir, env=env, capture_output=True, text=True, timeout=240,
                           start_new_session=True)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{example.id} did not finish within 240 s; output so far:\n{e.stdout}\n{e.stderr}")
    report = f"{example.id} ({example.language}):\n--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}"
    assert r.returncode == 0, f"exit {r.returncode}: {report}"
    if not example.warns:
        assert not WARNING.search(r.stderr), f"the example printed a warning: {report}"
    printed = {line.strip() for line in r.stdout.splitlines()}
    missing = [line for line in example.expected_output if line not in printed]
    assert not missing, f"expected output lines not printed: {missing}\n{report}"


def test_there_are_examples_and_skips_give_reasons():
    assert len([e for e in EXAMPLES if e.skip_reason is None]) >= 20
    for e in EXAMPLES:
        assert e.skip_reason is None or len(e.skip_reason) > 10, f"{e.id}: say why it is not run"
