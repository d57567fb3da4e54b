"""Parity with today's Parsl: checkpoints written by Parsl load in Chervil (issue 16, item 11).

The fixture in ``parsl_checkpoint/`` was written by reference Parsl (``make_fixture.py``,
run under Parsl; not needed here): ``tasks.pkl`` is Parsl's checkpoint of the calls listed
in ``calls.py`` and ``expected.json`` holds, per call, the cache key Parsl computed and the
result. A user migrating from Parsl points ``checkpoint_files`` at Parsl's run directory and
gets those results without running anything.
"""
import functools
import json
import os
import pickle
import shutil
import sys

import pytest

import parsl
from parsl import bash_app, python_app
from parsl._core.parsl_format import parsl_key, read_parsl_checkpoint_file
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.dataflow.errors import BadCheckpoint
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints, get_last_checkpoint

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "parsl_checkpoint")
sys.path.insert(0, HERE)
import calls as spec  # noqa: E402

with open(os.path.join(HERE, "expected.json")) as _f:
    EXPECTED = json.load(_f)
CALLS = spec.calls(File)
assert len(CALLS) == len(EXPECTED["calls"])


def _recording_apps(ran):
    """The fixture's apps, recording each body that actually runs in ``ran``."""
    def recorded(f):
        @functools.wraps(f)
        def body(*args, **kwargs):
            ran.append(f.__name__)
            return f(*args, **kwargs)
        return body
    apps = {f.__name__: python_app(cache=True)(recorded(f)) for f in spec.PYTHON_APPS}
    apps.update({f.__name__: bash_app(cache=True)(recorded(f)) for f in spec.BASH_APPS})
    return apps


def _parsl_run_dir(tmp_path, name="runinfo", run="000"):
    d = tmp_path / name / run / "checkpoint"
    d.mkdir(parents=True)
    shutil.copyfile(os.path.join(HERE, "tasks.pkl"), d / "tasks.pkl")
    return str(tmp_path / name)


def _config(run_dir, **memo):
    return Config(executors=[ThreadPoolExecutor(label="t", max_threads=2)],
                  memoizer=BasicMemoizer(**memo), run_dir=run_dir)


def _run_all(apps):
    out = []
    for name, args, kwargs in CALLS:
        fut = apps[name](*args, **kwargs)
        exc = fut.exception()
        out.append((fut, exc))
    return out


def _check_served(outcomes, ran):
    for (fut, exc), want in zip(outcomes, EXPECTED["calls"]):
        if want["exception"] is None:
            assert exc is None, (want, exc)
            assert fut.result() == want["result"], want
            assert fut.task_record["from_memo"], want
        else:
            assert isinstance(exc, ValueError)
    # Only the call Parsl could not checkpoint (it failed) ran again.
    assert ran == ["fails"]


# -- the key ------------------------------------------------------------------------------------

def test_the_fixture_was_written_by_reference_parsl():
    assert EXPECTED["parsl_version"] and EXPECTED["pickle_protocol"] in (4, 5)
    results, protocol = read_parsl_checkpoint_file(os.path.join(HERE, "tasks.pkl"))
    want = {c["hash"]: c["result"] for c in EXPECTED["calls"] if c["exception"] is None}
    assert results == want and protocol == EXPECTED["pickle_protocol"]


@pytest.mark.parametrize("i", range(len(CALLS)), ids=[f"{n}{a}" for n, a, _ in CALLS])
def test_parsl_key_matches_parsl_for_each_kind_of_argument(i):
    # ints (and big ints, bools, floats), strings, lists, tuples, nested dicts, keyword
    # arguments, defaults, File arguments and inputs, outputs, and a bash app.
    name, args, kwargs = CALLS[i]
    app = _recording_apps([])[name]
    invocation = dict(app.kwargs)
    invocation.update(kwargs)
    func = getattr(app, "wrapped_remote_function", app.func)
    assert parsl_key(func, args, invocation, [], EXPECTED["pickle_protocol"]) == \
        EXPECTED["calls"][i]["hash"]


def test_parsl_key_honours_ignore_for_cache_and_refuses_what_parsl_refused():
    def f(a, b=0):
        return a
    base = parsl_key(f, (1,), {"b": 2}, [])
    assert parsl_key(f, (1,), {"b": 2}, ["b"]) == parsl_key(f, (1,), {}, [])
    assert parsl_key(f, (1,), {"b": 2}, ["b"]) != base
    assert parsl_key(f, (1,), {}, ["b"]) is None        # Parsl: KeyError, the task failed
    assert parsl_key(f, ({1, 2},), {}, []) is None      # sets had no Parsl encoding
    assert parsl_key(f, (b"bytes",), {}, []) is None
    assert parsl_key(f, ({1: 2, "a": 3},), {}, []) is None   # unsortable keys


def test_a_users_registration_is_used_for_the_parsl_key_as_under_parsl():
    class Point:
        def __init__(self, x):
            self.x = x

    def f(p):
        return p
    assert parsl_key(f, (Point(1),), {}, []) is None

    @id_for_memo.register(Point)
    def _(p, output_ref=False):
        return f"P{p.x}"
    one = parsl_key(f, (Point(1),), {}, [])
    assert one is not None and one == parsl_key(f, (Point(1),), {}, [])
    assert one != parsl_key(f, (Point(2),), {}, [])


# -- loading ------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["get_all_checkpoints", "get_last_checkpoint", "dir", "file"])
def test_a_parsl_checkpoint_serves_its_results_without_running_them(tmp_path, how):
    parsl_runs = _parsl_run_dir(tmp_path)
    files = {"get_all_checkpoints": lambda: get_all_checkpoints(parsl_runs),
             "get_last_checkpoint": lambda: get_last_checkpoint(parsl_runs),
             "dir": lambda: [os.path.join(parsl_runs, "000", "checkpoint")],
             "file": lambda: [os.path.join(parsl_runs, "000", "checkpoint", "tasks.pkl")]}[how]()
    ran = []
    apps = _recording_apps(ran)
    with parsl.load(_config(str(tmp_path / "chervil"), checkpoint_files=files)):
        outcomes = _run_all(apps)
        _check_served(outcomes, ran)


def test_legacy_config_and_automatic_resume_in_parsls_run_dir(tmp_path):
    # The user keeps Parsl's runinfo/ and only switches the import: with a checkpoint mode
    # and no checkpoint_files, earlier runs (Parsl's included) are loaded.
    runinfo = _parsl_run_dir(tmp_path)
    ran = []
    apps = _recording_apps(ran)
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir=runinfo,
                           checkpoint_mode="task_exit")):
        _check_served(_run_all(apps), ran)
    # The results served from Parsl's file went into Chervil's own checkpoint of that run:
    # the next run needs neither the Parsl file nor Parsl's key.
    os.remove(os.path.join(runinfo, "000", "checkpoint", "tasks.pkl"))
    os.rmdir(os.path.join(runinfo, "000", "checkpoint"))
    ran.clear()
    with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], run_dir=runinfo,
                           checkpoint_mode="task_exit")):
        _check_served(_run_all(apps), ran)


def test_an_empty_parsl_checkpoint_loads_as_no_results(tmp_path):
    # Parsl leaves an empty tasks.pkl when every task of the run failed.
    d = tmp_path / "runinfo" / "000" / "checkpoint"
    d.mkdir(parents=True)
    (d / "tasks.pkl").write_bytes(b"")
    ran = []

    @python_app(cache=True)
    def one():
        ran.append(1)
        return 1
    with parsl.load(_config(str(tmp_path / "c"), checkpoint_files=[str(d)])):
        assert one().result() == 1 and ran == [1]


def test_a_parsl_checkpoint_cut_short_keeps_its_complete_records(tmp_path):
    data = open(os.path.join(HERE, "tasks.pkl"), "rb").read()
    path = tmp_path / "tasks.pkl"
    path.write_bytes(data[:-7])      # a kill in the middle of the last record
    results, _ = read_parsl_checkpoint_file(str(path))
    assert len(results) == len([c for c in EXPECTED["calls"] if c["exception"] is None]) - 1


def test_a_damaged_parsl_checkpoint_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "tasks.pkl"
    with open(path, "wb") as f:
        pickle.dump({"hash": "a" * 32, "exception": None, "result": 1}, f)
        f.write(b"\x80\x04garbage that is not a pickle" + b"." * 3)
        pickle.dump({"hash": "b" * 32, "exception": None, "result": 2}, f)
    with pytest.raises(BadCheckpoint, match="tasks.pkl"):
        read_parsl_checkpoint_file(str(path))
    with open(path, "wb") as f:
        pickle.dump(["not", "a", "record"], f)
    with pytest.raises(BadCheckpoint, match="not a Parsl checkpoint record"):
        read_parsl_checkpoint_file(str(path))
