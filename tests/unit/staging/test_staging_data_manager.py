"""DataManager decisions with a fake DFK: which provider runs, with what, and what the task gets."""
import pytest

from parsl.app.futures import DataFuture
from parsl.data_provider.data_manager import DataManager, default_staging
from parsl.data_provider.file_noop import NoOpFileStaging
from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging


class FakeExecutor:
    def __init__(self, label, storage_access=None, working_dir=None):
        self.label, self.storage_access, self.working_dir = label, storage_access, working_dir


class FakeDFK:
    def __init__(self, *executors):
        self.executors = {e.label: e for e in executors}


class Recorder(Staging):
    """Takes ``rec://`` files; records every call and wraps the function."""

    def __init__(self):
        self.calls = []

    def can_stage_in(self, file):
        return file.scheme == "rec"

    can_stage_out = can_stage_in

    def stage_in(self, dm, executor, file, parent_fut):
        self.calls.append(("in", executor, file, parent_fut))
        file.local_path = "/w/" + file.filename
        return None

    def stage_out(self, dm, executor, file, app_fu):
        self.calls.append(("out", executor, file, app_fu))
        return None

    def replace_task(self, dm, executor, file, func):
        return lambda: ("wrapped", func())


def test_default_staging_is_parsls_list():
    assert [type(p).__name__ for p in default_staging] == [
        "NoOpFileStaging", "FTPSeparateTaskStaging", "HTTPSeparateTaskStaging", "ZipFileStaging"]


def test_local_files_pass_through_untouched():
    dm = DataManager(FakeDFK(FakeExecutor("a")))
    f = File("/data/x")
    arg, func = dm.stage_in(f, len, "a")
    assert arg is f and func is len
    assert dm.stage_out(f, "a", None) is None and dm.replace_task_stage_out(f, len, "a") is len


def test_provider_gets_label_and_a_clean_copy():
    rec = Recorder()
    dm = DataManager(FakeDFK(FakeExecutor("a", storage_access=[NoOpFileStaging(), rec])))
    f = File("rec://h/file.txt")
    arg, func = dm.stage_in(f, lambda: 1, "a")
    kind, executor, staged, parent = rec.calls[0]
    assert (kind, executor, parent) == ("in", "a", None)
    assert arg is staged and staged is not f and staged.local_path == "/w/file.txt"
    assert f.local_path is None  # the user's File is never changed
    assert func() == ("wrapped", 1)


def test_datafuture_is_rewrapped_around_a_copy():
    rec = Recorder()
    dm = DataManager(FakeDFK(FakeExecutor("a", storage_access=[rec])))
    from concurrent.futures import Future
    producer = Future()
    df = DataFuture(producer, File("rec://h/out.txt"), tid=7)
    arg, _ = dm.stage_in(df, lambda: 1, "a")
    assert isinstance(arg, DataFuture) and arg is not df and arg.tid == 7
    assert arg.file_obj is not df.file_obj and arg.file_obj.local_path == "/w/out.txt"
    assert rec.calls[0][3] is arg  # the staging work waits on the (rewrapped) producer
    producer.set_result(None)
    assert arg.result() is arg.file_obj


def test_unstageable_file_error_names_executor_scheme_and_fix():
    dm = DataManager(FakeDFK(FakeExecutor("cpu")))
    with pytest.raises(ValueError, match=r"Executor cpu cannot stage in file 'globus://e/x'.*"
                                         r"NoOpFileStaging, FTPSeparateTaskStaging.*scheme 'globus'.*GlobusStaging"):
        dm.stage_in(File("globus://e/x"), len, "cpu")
    with pytest.raises(ValueError, match="cannot stage out file 'http://h/x'"):
        dm.stage_out(File("http://h/x"), "cpu", None)


def test_empty_storage_access_turns_staging_off():
    dm = DataManager(FakeDFK(FakeExecutor("a", storage_access=[])))
    f = File("globus://e/x")
    assert dm.stage_in(f, len, "a") == (f, len)
    assert dm.stage_out(f, "a", None) is None
    assert dm.local_outputs_untouched("a")


def test_local_outputs_untouched_only_when_noop_comes_first():
    from parsl.data_provider.rsync import RSyncStaging
    dm = DataManager(FakeDFK(FakeExecutor("default"), FakeExecutor("rsync", storage_access=[RSyncStaging("h")]),
                             FakeExecutor("noop-first", storage_access=[NoOpFileStaging(), RSyncStaging("h")])))
    assert dm.local_outputs_untouched("default")
    assert not dm.local_outputs_untouched("rsync")
    assert dm.local_outputs_untouched("noop-first")
