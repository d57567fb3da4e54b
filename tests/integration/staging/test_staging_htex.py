"""Staging with apps on HTEX workers (separate processes): downloads land where workers see
them, in-task wrappers travel pickled to the worker, failures come back with their cause."""
import zipfile

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.data_manager import default_staging
from parsl.data_provider.files import File
from parsl.data_provider.ftp import FTPInTaskStaging
from parsl.data_provider.http import HTTPInTaskStaging
from parsl.data_provider.rsync import RSyncStaging
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

pytestmark = [pytest.mark.htex, pytest.mark.network]


@python_app
def read_text(inputs=()):
    import os
    with open(inputs[0]) as f:
        return os.getpid(), f.read()


@bash_app
def count_lines(inputs=(), outputs=()):
    return f"wc -l < {inputs[0].filepath} > {outputs[0].filepath}"


@python_app
def write_text(text, outputs=()):
    with open(outputs[0].filepath, "w") as f:
        f.write(text)


def htex_config(tmp_path, storage_access=None, retries=0):
    return Config(executors=[HighThroughputExecutor(
        label="htex", max_workers_per_node=2, storage_access=storage_access,
        working_dir=str(tmp_path / "work"),
        provider=LocalProvider(init_blocks=1, max_blocks=1))],
        retries=retries, run_dir=str(tmp_path / "runinfo"))


@pytest.fixture
def run_htex(tmp_path):
    dfks = []

    def load(**kw):
        dfk = parsl.load(htex_config(tmp_path, **kw))
        dfks.append(dfk)
        return dfk
    yield load
    for dfk in dfks:
        dfk.cleanup()
    parsl.clear()


def test_default_staging_http_ftp_zip_on_workers(run_htex, http_server, ftp_server, tmp_path):
    import os
    run_htex(storage_access=default_staging, retries=1)
    pid, text = read_text(inputs=[File(http_server.url("hello.txt"))]).result()
    assert text == "hello from the server\n" and pid != os.getpid()
    assert read_text(inputs=[File(ftp_server.url("hello.txt"))]).result()[1] == "hello from the server\n"
    # bash app on a worker: staged input in, local output out
    count_lines(inputs=[File(http_server.url("numbers.txt"))], outputs=[File(str(tmp_path / "n.txt"))]).result()
    assert (tmp_path / "n.txt").read_text().strip() == "100"
    # zip out from a worker, then back in
    archive = tmp_path / "res.zip"
    w = write_text("zipped\n", outputs=[File(f"zip:{archive}/a/b.txt")])
    assert read_text(inputs=[w.outputs[0]]).result()[1] == "zipped\n"
    with zipfile.ZipFile(archive) as zf:
        assert zf.namelist() == ["a/b.txt"]
    # a flaky server: the download task is retried under the task's retries
    http_server.fail_next("numbers.txt", 1)
    assert read_text(inputs=[File(http_server.url("numbers.txt"))]).result()[1].startswith("0\n1\n")
    # a missing file: the app fails, naming the URL and the cause
    url = http_server.url("absent.txt")
    with pytest.raises(Exception) as info:
        read_text(inputs=[File(url)]).result()
    assert url in str(info.value) and "404" in str(info.value)


def test_in_task_https_and_ftp_on_workers(run_htex, https_server, ftp_server):
    # SSL_CERT_FILE (set by the https_server fixture) reaches the workers through their env
    run_htex(storage_access=[HTTPInTaskStaging(), FTPInTaskStaging()])
    assert read_text(inputs=[File(https_server.url("hello.txt"))]).result()[1] == "hello from the server\n"
    assert read_text(inputs=[File(ftp_server.url("numbers.txt"))]).result()[1].endswith("99\n")
    url = https_server.url("absent.txt")
    with pytest.raises(FileNotFoundError, match="404") as info:
        read_text(inputs=[File(url)]).result()
    assert url in str(info.value)


def test_rsync_on_workers(run_htex, sshd, tmp_path, monkeypatch):
    monkeypatch.setenv("RSYNC_RSH", sshd)
    run_htex(storage_access=[RSyncStaging("testhost")])
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "in.txt").write_text("a\nb\nc\n")
    fut = count_lines(inputs=[File(str(remote / "in.txt"))], outputs=[File(str(remote / "count.txt"))])
    fut.outputs[0].result()
    assert (remote / "count.txt").read_text().strip() == "3"
