"""The staging layout's contracts: one module per scheme, its registration, how staging
tasks reach the kernel, public names kept, and ``parsl._staging`` importing only below it."""
import ast
import os
import pickle
from concurrent.futures import Future

import pytest

import parsl._staging
from parsl._staging import registry
from parsl._staging.manager import DataManager
from parsl._staging.schemes import ftp, globus, http, noop, rsync, zip
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File


class FakeExecutor:
    def __init__(self, label, storage_access=None, working_dir=None):
        self.label, self.storage_access, self.working_dir = label, storage_access, working_dir


class FakeTaskFuture(Future):
    tid = 41


class RecordingDFK:
    """Stands in for the DataFlowKernel: records every ``submit``."""

    def __init__(self, *executors):
        self.executors = {e.label: e for e in executors}
        self.submitted = []

    def submit(self, func, app_args=(), executors="all", cache=False, ignore_for_cache=None,
               app_kwargs=None, join=False):
        fut = FakeTaskFuture()
        self.submitted.append(dict(func=func, app_args=app_args, executors=executors, cache=cache,
                                   ignore_for_cache=ignore_for_cache, app_kwargs=app_kwargs,
                                   join=join, fut=fut))
        return fut


@pytest.mark.parametrize("module,schemes,task", [
    (http, ("http", "https"), "_http_stage_in"),
    (ftp, ("ftp",), "_ftp_stage_in"),
    (zip, ("zip",), "_zip_stage_in"),
    (globus, ("globus",), "_stage_in_transfer"),
])
def test_each_scheme_registers_its_own_module_level_tasks(module, schemes, task):
    for scheme in schemes:
        t = registry.transfer_for(scheme)
        # the name monitoring shows, defined in the scheme's own module
        assert t.stage_in_task.__name__ == task and t.stage_in_task.__module__ == module.__name__
        assert pickle.loads(pickle.dumps(t.stage_in_task)) is t.stage_in_task  # by reference


def test_unregistered_scheme_is_named():
    with pytest.raises(ValueError, match="no transfer registered for URL scheme 'gopher'"):
        registry.transfer_for("gopher")
    with pytest.raises(ValueError, match="no push for scheme 'http'"):
        registry.push(File("http://h/x"))


def test_separate_task_is_submitted_through_the_dfk(tmp_path):
    dfk = RecordingDFK(FakeExecutor("w", working_dir=str(tmp_path)))
    dm = DataManager(dfk)
    parent = Future()
    arg, func = dm.stage_in(DataFuture(parent, File("http://h/d/a.txt"), tid=3), len, "w")
    (call,) = dfk.submitted
    assert call["func"] is http._http_stage_in and call["app_args"] == (str(tmp_path),)
    assert (call["executors"], call["cache"], call["join"]) == (["w"], False, False)
    kw = call["app_kwargs"]
    assert kw["_parsl_staging_inhibit"] is True and kw["parent_fut"].tid == 3
    (staged,) = kw["outputs"]
    assert staged.local_path == os.path.join(str(tmp_path), "a.txt")
    # the app waits for the staging task, and gets the staged File
    assert isinstance(arg, DataFuture) and arg.file_obj is staged and arg.tid == 41 and func is len


def test_zip_stage_out_task_is_the_output_future(tmp_path):
    dfk = RecordingDFK(FakeExecutor("w", working_dir=str(tmp_path)))
    dm = DataManager(dfk)
    app_fu = Future()
    f = File(f"zip:{tmp_path}/a.zip/m/x.txt")
    out = dm.stage_out(f, "w", app_fu)
    (call,) = dfk.submitted
    assert out is call["fut"] and call["func"] is zip._zip_stage_out
    assert call["app_kwargs"]["parent_fut"] is app_fu and call["app_kwargs"]["inputs"] == [f]


def test_in_task_wrapper_carries_its_schemes_fetch(tmp_path):
    from parsl.data_provider.ftp import FTPInTaskStaging
    dfk = RecordingDFK(FakeExecutor("w", storage_access=[FTPInTaskStaging()], working_dir=str(tmp_path)))
    _, func = DataManager(dfk).stage_in(File("ftp://h/a.txt"), len, "w")
    assert dfk.submitted == [] and func.fetch is ftp.fetch and func.__wrapped__ is len
    assert pickle.loads(pickle.dumps(func)).fetch is ftp.fetch


@pytest.mark.parametrize("public,names", [
    ("parsl.data_provider.http", ["HTTPSeparateTaskStaging", "HTTPInTaskStaging"]),
    ("parsl.data_provider.ftp", ["FTPSeparateTaskStaging", "FTPInTaskStaging"]),
    ("parsl.data_provider.zip", ["ZipFileStaging", "ZipAuthorityError"]),
    ("parsl.data_provider.rsync", ["RSyncStaging"]),
    ("parsl.data_provider.file_noop", ["NoOpFileStaging"]),
    ("parsl.data_provider.globus", ["GlobusStaging", "GlobusTransferError"]),
    ("parsl.data_provider.staging", ["Staging"]),
    ("parsl.data_provider.data_manager", ["DataManager"]),
])
def test_public_classes_keep_their_public_module(public, names):
    import importlib
    mod = importlib.import_module(public)
    for name in names:
        cls = getattr(mod, name)
        assert cls.__module__ == public and cls.__qualname__ == name
        assert pickle.loads(pickle.dumps(cls)) is cls


def test_private_staging_imports_only_base_and_itself():
    """``parsl._staging`` sits below the kernel: it imports no public module, nothing of
    ``parsl._core`` or ``parsl.app`` (function-level imports included)."""
    root = os.path.dirname(parsl._staging.__file__)
    bad = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            for node in ast.walk(ast.parse(open(path).read())):
                if isinstance(node, ast.ImportFrom):
                    targets = [node.module or ""] if node.level == 0 else []
                    assert node.level == 0, f"relative import in {path}"
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                for t in targets:
                    if t == "parsl" or (t.startswith("parsl.") and not t.startswith(("parsl._base", "parsl._staging"))):
                        bad.append(f"{os.path.relpath(path, root)}: {t}")
    assert bad == []


def test_no_file_noop_registration_and_noop_is_the_fast_path():
    assert "file" not in registry.url_schemes()
    assert noop.NoOpFileStaging().can_stage_in(File("/x")) and rsync.RSyncStaging("h").can_stage_in(File("/x"))
