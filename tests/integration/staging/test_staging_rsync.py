"""RSyncStaging against a real sshd on loopback: pull inputs, push outputs, report failures."""
import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.data_provider.rsync import RSyncStaging
from parsl.executors.threads import ThreadPoolExecutor

pytestmark = pytest.mark.network


@python_app
def shout(inputs=(), outputs=()):
    with open(inputs[0].filepath) as src, open(outputs[0].filepath, "w") as dst:
        dst.write(src.read().upper())
    return inputs[0].filepath


@bash_app
def copy_bash(inputs=(), outputs=()):
    return f"tr a-z A-Z < {inputs[0].filepath} > {outputs[0].filepath}"


@pytest.fixture
def rsync_dfk(sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("RSYNC_RSH", sshd)
    cfg = Config(executors=[ThreadPoolExecutor(label="threads", storage_access=[RSyncStaging("testhost")],
                                               working_dir=str(tmp_path / "work"))],
                 run_dir=str(tmp_path / "runinfo"))
    dfk = parsl.load(cfg)
    yield dfk
    dfk.cleanup()
    parsl.clear()


@pytest.mark.parametrize("app", [shout, copy_bash])
def test_rsync_in_and_out(rsync_dfk, tmp_path, app):
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "data.txt").write_text("quiet words\n")
    out = File(str(remote / "loud.txt"))
    fut = app(inputs=[File(str(remote / "data.txt"))], outputs=[out])
    fut.result()
    fut.outputs[0].result()
    # the output was pushed back to the "remote" path; the user's File keeps no local_path
    assert (remote / "loud.txt").read_text() == "QUIET WORDS\n"
    assert out.local_path is None and out.filepath == str(remote / "loud.txt")
    # the app worked on copies in working_dir
    assert (tmp_path / "work" / "data.txt").read_text() == "quiet words\n"
    if app is shout:
        assert fut.result() == str(tmp_path / "work" / "data.txt")


def test_rsync_missing_remote_file(rsync_dfk, tmp_path):
    missing = tmp_path / "remote" / "nothing.txt"
    with pytest.raises(FileNotFoundError, match="rsync .* exited with 23") as info:
        shout(inputs=[File(str(missing))], outputs=[File(str(tmp_path / "o.txt"))]).result()
    assert str(missing) in str(info.value)
