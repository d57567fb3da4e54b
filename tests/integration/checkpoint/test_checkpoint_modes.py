"""Checkpointing through the real DataFlowKernel: the tutorial's cells and every mode."""
import os

import pytest

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.dataflow.errors import BadCheckpoint
from parsl.dataflow.memoization import BasicMemoizer, MissReason, explain
from parsl.dataflow.states import States
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints, get_last_checkpoint

from waiting import wait_until


def threads_config(**kw):
    return Config(executors=[ThreadPoolExecutor(max_threads=2, label="threads")], **kw)


executed = []


@python_app(cache=True)
def slow_double(x):
    executed.append(x)
    return x * 2


def edited_slow_double():
    @python_app(cache=True)
    def slow_double(x):         # the same app name, an edited body
        return x * 2 + 0
    return slow_double


def run_five():
    d = [slow_double(i) for i in range(5)]
    return [f.result() for f in d], d


def records_in(checkpoint_dirs):
    from parsl._core.checkpoint import load_checkpoints
    return load_checkpoints(checkpoint_dirs)[0]


def test_tutorial_checkpoint_cells():
    """Section 3 'Checkpointing': task_exit, parsl.clear() without cleanup, reload."""
    executed.clear()
    first = parsl.load(threads_config(checkpoint_mode="task_exit"))
    results, _ = run_five()
    assert results == [0, 2, 4, 6, 8]
    parsl.clear()                       # the tutorial does not call cleanup()

    second = parsl.load(threads_config(checkpoint_files=get_all_checkpoints()))
    try:
        results, futs = run_five()
        assert results == [0, 2, 4, 6, 8]
        assert sorted(executed) == [0, 1, 2, 3, 4]        # nothing ran the second time
        assert all(f.task_record.status == States.memo_done for f in futs)
    finally:
        second.cleanup()
        first.cleanup()


def test_task_exit_records_results_before_cleanup():
    d = parsl.load(threads_config(checkpoint_mode="task_exit"))
    try:
        run_five()
        ckdir = os.path.join(d.run_dir, "checkpoint")
        wait_until(lambda: len(records_in([ckdir])) == 5 if os.path.isdir(ckdir) else False,
                   f"5 records checkpointed in {ckdir}")
    finally:
        d.cleanup()


def test_periodic_mode_writes_on_its_own():
    d = parsl.load(threads_config(memoizer=BasicMemoizer(checkpoint_mode="periodic",
                                                         checkpoint_period="00:00:01")))
    try:
        run_five()
        ckdir = os.path.join(d.run_dir, "checkpoint")
        wait_until(lambda: os.path.isdir(ckdir) and len(records_in([ckdir])) == 5, f"5 records checkpointed in {ckdir}")
    finally:
        d.cleanup()


def test_dfk_exit_mode_writes_at_cleanup():
    d = parsl.load(threads_config(checkpoint_mode="dfk_exit"))
    try:
        run_five()
        ckdir = os.path.join(d.run_dir, "checkpoint")
        assert not os.path.exists(ckdir)
    finally:
        d.cleanup()
    assert len(records_in([ckdir])) == 5


def test_manual_mode_dfk_checkpoint():
    d = parsl.load(threads_config(checkpoint_mode="manual"))
    try:
        run_five()
        ckdir = d.checkpoint()
        assert ckdir == os.path.join(d.run_dir, "checkpoint")
        assert len(records_in([ckdir])) == 5
        assert d.memoizer.checkpoint() == ckdir     # today's spelling
    finally:
        d.cleanup()


def test_auto_resume_finds_earlier_runs_without_checkpoint_files():
    executed.clear()
    d = parsl.load(threads_config(memoizer=BasicMemoizer(checkpoint_mode="task_exit")))
    try:
        [slow_double(i).result() for i in range(3)]
    finally:
        d.cleanup()
    d = parsl.load(threads_config(memoizer=BasicMemoizer(checkpoint_mode="task_exit")))
    try:
        results, _ = run_five()
    finally:
        d.cleanup()
    assert results == [0, 2, 4, 6, 8]
    assert sorted(executed) == [0, 1, 2, 3, 4]      # 0..2 from run 000, 3..4 ran in run 001
    assert len(get_all_checkpoints()) == 2
    assert get_last_checkpoint() == [get_all_checkpoints()[-1]]


def test_changed_function_is_recomputed_after_reload_and_says_why():
    d = parsl.load(threads_config(checkpoint_mode="dfk_exit"))
    try:
        slow_double(21).result()
    finally:
        d.cleanup()

    d = parsl.load(threads_config(checkpoint_files=get_all_checkpoints()))
    try:
        fut = edited_slow_double()(21)
        assert fut.result() == 42
        assert fut.task_record.status == States.exec_done
        reason = explain(fut)
    finally:
        d.cleanup()
    assert reason.kind == MissReason.FUNCTION_CHANGED
    assert "run 000" in str(reason)


def test_corrupt_checkpoint_is_a_clear_error_at_load():
    d = parsl.load(threads_config(checkpoint_mode="dfk_exit"))
    try:
        run_five()
    finally:
        d.cleanup()
    (ckdir,) = get_all_checkpoints()
    path = os.path.join(ckdir, "tasks.ckpt")
    data = bytearray(open(path, "rb").read())
    data[40] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(BadCheckpoint) as info:
        parsl.load(threads_config(checkpoint_files=get_all_checkpoints()))
    assert path in str(info.value)
