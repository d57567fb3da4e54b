"""BasicMemoizer driven directly with task records, as the DFK drives it (no DFK, no threads
besides the checkpoint writer where a mode asks for one)."""
import os

import pytest

from parsl._core.checkpoint import TASKS_FILENAME, read_checkpoint_file
from parsl.dataflow.memoization import BasicMemoizer, MissReason, make_hash
from parsl.dataflow.taskrecord import TaskRecord
from parsl.errors import ConfigurationError


def work(x, y=0):
    return x + y


_ids = iter(range(10**9))


def record(*args, func=work, cache=True, ignore=(), **kwargs):
    rec = TaskRecord(next(_ids), func, func.__name__, args, kwargs, "threads", None)
    rec.memoize = cache
    rec.ignore_for_cache = ignore
    return rec


@pytest.fixture
def memoizer(tmp_path):
    made = []

    def make(**kw):
        m = BasicMemoizer(**kw)
        m.start(dfk=None, run_dir=str(tmp_path / "runinfo" / f"{len(made):03d}"),
                config_run_dir=str(tmp_path / "runinfo"))
        made.append(m)
        return m
    yield make
    for m in made:
        m.close()


def run(m, rec, result):
    """What the DFK does for a task that missed: run it, then report."""
    assert m.check_memo(rec) is None
    rec.from_memo = False
    m.update_memo_result(rec, result)


def test_hit_after_result(memoizer):
    m = memoizer()
    run(m, record(1), 1)
    rec = record(1)
    hit = m.check_memo(rec)
    assert hit is not None and hit.done() and hit.result() == 1
    assert rec.hashsum == make_hash(rec)
    assert rec.memo_miss_reason is None


def test_cache_false_or_memoize_off(memoizer):
    m = memoizer()
    run(m, record(1), 1)
    rec = record(1, cache=False)
    assert m.check_memo(rec) is None and rec.hashsum is None
    off = memoizer(memoize=False)
    rec = record(1)
    assert off.check_memo(rec) is None and rec.hashsum is None
    off.update_memo_result(rec, 1)
    assert off.check_memo(record(1)) is None


def test_identical_calls_in_flight_run_once(memoizer):
    m = memoizer()
    first, second, third = record(5), record(5), record(5)
    assert m.check_memo(first) is None
    w2 = m.check_memo(second)
    w3 = m.check_memo(third)
    assert w2 is not None and not w2.done() and w3 is not None
    first.from_memo = False
    m.update_memo_result(first, 5)
    assert w2.result() == 5 and w3.result() == 5


def test_leader_failure_is_passed_to_waiters_and_replayed(memoizer):
    m = memoizer()
    first, second = record(6), record(6)
    assert m.check_memo(first) is None
    waiter = m.check_memo(second)
    err = ValueError("boom")
    m.update_memo_exception(first, err)
    assert waiter.exception() is err
    # replayed for the rest of the run (as Parsl): the next identical call fails the same way
    assert m.check_memo(record(6)).exception() is err


def test_retry_of_the_leader_is_not_told_to_wait_for_itself(memoizer):
    m = memoizer()
    rec = record(7)
    assert m.check_memo(rec) is None
    assert m.check_memo(rec) is None   # the DFK relaunches the same record for a retry


def test_miss_reasons_recorded(memoizer, caplog):
    m = memoizer()
    rec = record(1, y=1)
    m.check_memo(rec)
    assert rec.memo_miss_reason.kind == MissReason.NEW_APP
    rec.from_memo = False
    m.update_memo_result(rec, 2)
    rec2 = record(1, y=9)
    m.check_memo(rec2)
    assert rec2.memo_miss_reason.kind == MissReason.ARGUMENTS_CHANGED
    assert rec2.memo_miss_reason.changed == ("y",)


def test_close_fails_stranded_waiters(memoizer):
    m = memoizer()
    a, b = record(8), record(8)
    m.check_memo(a)
    w = m.check_memo(b)
    m.close()
    assert isinstance(w.exception(), RuntimeError)
    m.close()


def test_unkeyable_argument_raises_from_check_memo(memoizer):
    m = memoizer()
    with pytest.raises(ValueError, match="register"):
        m.check_memo(record(object()))


@pytest.mark.parametrize("mode", ["dfk_exit", "manual"])
def test_modes_that_write_at_close(memoizer, tmp_path, mode):
    m = memoizer(checkpoint_mode=mode)
    run(m, record(1), 1)
    path = os.path.join(m.run_dir, "checkpoint", TASKS_FILENAME)
    assert not os.path.exists(path)
    m.close()
    assert read_checkpoint_file(path).results == {make_hash(record(1)): 1}


def test_manual_checkpoint_returns_dir_and_is_incremental(memoizer):
    m = memoizer(checkpoint_mode="manual")
    run(m, record(1), 1)
    d = m.checkpoint()
    path = os.path.join(d, TASKS_FILENAME)
    size1 = os.path.getsize(path)
    m.checkpoint()
    assert os.path.getsize(path) == size1      # nothing new, nothing written
    run(m, record(2), 2)
    m.checkpoint()
    assert len(read_checkpoint_file(path).results) == 2


def test_no_mode_writes_only_when_asked(memoizer):
    m = memoizer()
    run(m, record(1), 1)
    m.close()
    assert not os.path.exists(os.path.join(m.run_dir, "checkpoint"))
    m2 = memoizer()
    run(m2, record(1), 1)
    d = m2.checkpoint()
    assert len(read_checkpoint_file(os.path.join(d, TASKS_FILENAME)).results) == 1


def test_memo_hits_are_not_rewritten(memoizer):
    m = memoizer(checkpoint_mode="manual")
    run(m, record(1), 1)
    rec = record(1)
    m.check_memo(rec)
    rec.from_memo = True
    m.update_memo_result(rec, 1)
    d = m.checkpoint()
    assert len(read_checkpoint_file(os.path.join(d, TASKS_FILENAME)).results) == 1


def test_auto_load_of_earlier_runs_when_a_mode_is_set(memoizer):
    first = memoizer(checkpoint_mode="dfk_exit")
    run(first, record(3), 3)
    first.close()
    second = memoizer(checkpoint_mode="task_exit")
    assert second.loaded == 1
    assert second.check_memo(record(3)).result() == 3
    # with no mode and no files nothing is loaded (Parsl's behaviour)
    third = memoizer()
    assert third.loaded == 0


def test_explicit_files_and_reasons_across_runs(memoizer):
    first = memoizer(checkpoint_mode="dfk_exit")
    run(first, record(3, y=1), 4)
    first.close()
    second = memoizer(checkpoint_files=[os.path.join(first.run_dir, "checkpoint")])
    rec = record(3, y=2)
    assert second.check_memo(rec) is None
    assert rec.memo_miss_reason.changed == ("y",)


def test_restart_resets_state(tmp_path):
    m = BasicMemoizer()
    m.start(run_dir=str(tmp_path / "a"), config_run_dir=str(tmp_path))
    run(m, record(1), 1)
    m.close()
    m.start(run_dir=str(tmp_path / "b"), config_run_dir=str(tmp_path))
    assert m.check_memo(record(1)) is None
    m.close()


@pytest.mark.parametrize("kwargs,match", [
    (dict(checkpoint_mode="sometimes"), "checkpoint_mode"),
    (dict(checkpoint_mode="periodic"), "checkpoint_period"),
    (dict(checkpoint_mode="periodic", checkpoint_period="5 minutes"), "HH:MM:SS"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        BasicMemoizer(**kwargs)
