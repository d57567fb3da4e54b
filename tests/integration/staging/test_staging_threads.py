"""Staging through the DFK on the thread pool: python and bash apps, separate and in-task."""
import os
import zipfile

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.data_manager import default_staging
from parsl.data_provider.files import File
from parsl.data_provider.ftp import FTPInTaskStaging
from parsl.data_provider.http import HTTPInTaskStaging
from parsl.executors.threads import ThreadPoolExecutor

pytestmark = pytest.mark.network


@python_app
def read_text(inputs=()):
    with open(inputs[0]) as f:
        return f.read()


@python_app
def read_arg(f):
    with open(f.filepath) as fh:
        return fh.read()


@bash_app
def count_lines(inputs=(), outputs=()):
    return f"wc -l < {inputs[0].filepath} > {outputs[0].filepath}"


@python_app
def write_text(text, outputs=()):
    with open(outputs[0].filepath, "w") as f:
        f.write(text)


@pytest.fixture
def load(tmp_path):
    loaded = []

    def _load(storage_access=None, working_dir=None, retries=0):
        wd = str(tmp_path / "work") if working_dir is None else working_dir
        cfg = Config(executors=[ThreadPoolExecutor(label="threads", max_threads=4,
                                                   storage_access=storage_access, working_dir=wd)],
                     retries=retries, run_dir=str(tmp_path / "runinfo"))
        dfk = parsl.load(cfg)
        loaded.append(dfk)
        return dfk
    yield _load
    for dfk in loaded:
        dfk.cleanup()
    parsl.clear()


def test_http_separate_task_python_and_bash(load, http_server, tmp_path):
    dfk = load()
    src = File(http_server.url("numbers.txt"))
    text = read_text(inputs=[src]).result()
    assert text.splitlines()[-1] == "99"
    lines = count_lines(inputs=[src], outputs=[File(str(tmp_path / "count.txt"))])
    lines.result()
    assert (tmp_path / "count.txt").read_text().strip() == "100"
    # the user's File is untouched; the downloaded copy landed in working_dir
    assert src.local_path is None
    assert (tmp_path / "work" / "numbers.txt").exists()
    # one download task per staged input, plus the two apps
    assert http_server.requests_for("numbers.txt") == 2
    assert dfk.task_count == 4


def test_file_as_positional_argument(load, http_server):
    load()
    assert read_arg(File(http_server.url("hello.txt"))).result() == "hello from the server\n"


def test_https_in_task_staging(load, https_server):
    dfk = load(storage_access=[HTTPInTaskStaging()])
    assert read_text(inputs=[File(https_server.url("hello.txt"))]).result() == "hello from the server\n"
    assert dfk.task_count == 1  # no separate task


def test_ftp_separate_and_in_task(load, ftp_server):
    load()
    assert read_text(inputs=[File(ftp_server.url("hello.txt"))]).result() == "hello from the server\n"
    parsl.dfk().cleanup()
    parsl.clear()
    load(storage_access=[FTPInTaskStaging()])
    assert read_text(inputs=[File(ftp_server.url("hello.txt"))]).result() == "hello from the server\n"


def test_missing_http_file_fails_naming_url_and_cause(load, http_server):
    load()
    url = http_server.url("absent.txt")
    fut = read_text(inputs=[File(url)])
    with pytest.raises(Exception) as info:
        fut.result()
    text = str(info.value)
    assert url in text and "404" in text
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_in_task_failure_is_file_not_found(load, http_server):
    load(storage_access=[HTTPInTaskStaging()])
    url = http_server.url("absent.txt")
    with pytest.raises(FileNotFoundError, match="404") as info:
        read_text(inputs=[File(url)]).result()
    assert url in str(info.value)


@pytest.mark.parametrize("in_task", [False, True])
def test_flaky_download_is_retried_under_task_retries(load, http_server, in_task):
    load(storage_access=[HTTPInTaskStaging()] if in_task else None, retries=2)
    http_server.fail_next("hello.txt", 2)
    assert read_text(inputs=[File(http_server.url("hello.txt"))]).result() == "hello from the server\n"
    assert http_server.requests_for("hello.txt") == 3


def test_flaky_download_fails_when_retries_run_out(load, http_server):
    load(retries=1)
    http_server.fail_next("hello.txt", 2)
    with pytest.raises(Exception, match="503"):
        read_text(inputs=[File(http_server.url("hello.txt"))]).result()
    assert http_server.requests_for("hello.txt") == 2


def test_staged_output_of_one_app_feeds_another(load, http_server, tmp_path):
    load()
    first = count_lines(inputs=[File(http_server.url("numbers.txt"))], outputs=[File(str(tmp_path / "n.txt"))])
    assert read_text(inputs=[first.outputs[0]]).result().strip() == "100"


def test_zip_stage_out_then_in(load, tmp_path):
    load()
    archive = tmp_path / "results.zip"
    futs = [write_text(f"result {i}\n", outputs=[File(f"zip:{archive}/out/r{i}.txt")]) for i in range(5)]
    # the output DataFuture completes only once the member is in the archive
    for f in futs:
        f.outputs[0].result()
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [f"out/r{i}.txt" for i in range(5)]
    assert read_text(inputs=[File(f"zip:{archive}/out/r3.txt")]).result() == "result 3\n"
    # chained: an app reads an archived output of another app through its DataFuture
    w = write_text("chained\n", outputs=[File(f"zip:{archive}/chain.txt")])
    assert read_text(inputs=[w.outputs[0]]).result() == "chained\n"


def test_zip_needs_working_dir(load, tmp_path):
    load(working_dir="")
    with pytest.raises(ValueError, match="needs a working_dir"):
        write_text("x", outputs=[File(f"zip:{tmp_path}/a.zip/x.txt")])


def test_unstageable_scheme_names_executor_and_fix(load):
    load(storage_access=default_staging)
    with pytest.raises(ValueError, match="Executor threads cannot stage in file 'globus://ep/x'.*GlobusStaging"):
        read_text(inputs=[File("globus://ep/x")])


def test_storage_access_empty_turns_staging_off(load, tmp_path):
    load(storage_access=[])
    p = tmp_path / "local.txt"
    p.write_text("local\n")
    assert read_text(inputs=[File(str(p))]).result() == "local\n"


def test_custom_provider_through_staging_interface(load, tmp_path):
    """A provider written the Parsl way: a separate task with _parsl_staging_inhibit."""
    from parsl.data_provider.staging import Staging

    def make_file(working_dir, parent_fut=None, outputs=(), _parsl_staging_inhibit=True):
        with open(outputs[0].local_path, "w") as f:
            f.write(f"made for {outputs[0].url}\n")

    class MemoryStaging(Staging):
        def can_stage_in(self, file):
            return file.scheme == "mem"

        def stage_in(self, dm, executor, file, parent_fut):
            wd = dm.dfk.executors[executor].working_dir
            os.makedirs(wd, exist_ok=True)
            file.local_path = os.path.join(wd, file.filename)
            app = python_app(make_file, executors=[executor], data_flow_kernel=dm.dfk)
            fut = app(wd, outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)
            return fut.outputs[0]

    load(storage_access=default_staging + [MemoryStaging()])
    assert read_text(inputs=[File("mem://x/thing.txt")]).result() == "made for mem://x/thing.txt\n"
