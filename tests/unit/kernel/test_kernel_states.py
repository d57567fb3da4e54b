"""Task states (Parsl's names and values) and the kernel's table of legal state moves."""
import time
import types

import pytest

from parsl._core.task import LEGAL, set_state
from parsl.dataflow.states import FINAL_FAILURE_STATES, FINAL_STATES, States
from parsl.dataflow.taskrecord import TaskRecord
from parsl.errors import InternalConsistencyError


def test_state_values_match_parsl():
    assert {s.name: int(s) for s in States if s.name != "unsched"} == {
        "pending": 0, "running": 2, "exec_done": 3, "failed": 4, "dep_fail": 5,
        "launched": 7, "fail_retryable": 8, "memo_done": 9, "joining": 10, "running_ended": 11}


def test_tutorial_era_names_still_resolve():
    assert States.unsched == -1
    assert States.done is States.exec_done


def test_str_gives_qualified_name():
    assert str(States.exec_done) == "States.exec_done"


def test_final_state_sets():
    assert FINAL_STATES == {States.exec_done, States.memo_done, States.failed, States.dep_fail}
    assert FINAL_FAILURE_STATES == {States.failed, States.dep_fail}
    assert FINAL_FAILURE_STATES <= FINAL_STATES


def _fake_kernel():
    # set_state only needs the counters and the (optional) monitoring observer
    seen = []
    k = types.SimpleNamespace(task_state_counts={s: 0 for s in States}, _task_events=None,
                              _observe=lambda rec, new: seen.append((rec.id, new)))
    return k, seen


def _record():
    return TaskRecord(7, print, "print", (), {}, "threads", None)


def _walk(path):
    k, seen = _fake_kernel()
    rec = _record()
    for s in path:
        set_state(k, rec, s)
    return k, rec, seen


@pytest.mark.parametrize("path", [
    [States.pending, States.launched, States.exec_done],
    [States.pending, States.dep_fail],
    [States.pending, States.memo_done],
    [States.pending, States.launched, States.fail_retryable, States.pending, States.launched, States.failed],
    [States.pending, States.launched, States.joining, States.exec_done],
    [States.pending, States.launched, States.joining, States.failed],
    [States.pending, States.failed],  # cancelled before launch
])
def test_legal_paths_are_accepted_and_counted(path):
    k, rec, seen = _walk(path)
    assert rec.status is path[-1]
    # exactly one task is counted, in its current state
    assert {s: n for s, n in k.task_state_counts.items() if n} == {path[-1]: 1}
    assert seen == [(7, s) for s in path]


@pytest.mark.parametrize("path", [
    [States.launched],                                   # must start pending
    [States.pending, States.exec_done],                  # must be launched first
    [States.pending, States.launched, States.exec_done, States.failed],   # final is final
    [States.pending, States.dep_fail, States.pending],
    [States.pending, States.launched, States.memo_done],
    [States.pending, States.launched, States.fail_retryable, States.launched],  # retry goes via pending
])
def test_illegal_moves_raise_and_leave_state_alone(path):
    k, seen = _fake_kernel()
    rec = _record()
    for s in path[:-1]:
        set_state(k, rec, s)
    before = rec.status
    with pytest.raises(InternalConsistencyError, match=r"Task 7: illegal state change"):
        set_state(k, rec, path[-1])
    assert rec.status is before


def test_no_move_leaves_a_final_state():
    for final in FINAL_STATES:
        assert not LEGAL.get(final), f"{final} should be terminal"


def test_the_hubs_event_sink_gets_each_change_with_the_try_as_it_was_then():
    k, seen = _fake_kernel()
    events = []
    k._task_events = events.extend
    rec = _record()
    set_state(k, rec, States.pending)
    rec.try_id, rec.fail_count = 1, 1
    set_state(k, rec, States.launched)
    assert len(events) == 12 and seen == []          # six values per change, nothing called
    assert events[0:2] == [rec, States.pending] and events[3:6] == [0, 0, None]
    assert events[6:8] == [rec, States.launched] and events[9:11] == [1, 1]
    assert events[2] <= events[8] <= time.time()


def test_an_observer_that_raises_does_not_break_the_task():
    k, _ = _fake_kernel()

    def broken(rec, new):
        raise RuntimeError("monitoring down")
    k._observe = broken
    rec = _record()
    set_state(k, rec, States.pending)
    assert rec.status is States.pending
