"""The kernel's decisions (retry or fail, release of waiting tasks, join completion), tested as
pure functions: no kernel, no threads, no sleeps. Futures are made already done."""
import concurrent.futures as cf

import pytest

from parsl._base.files import File
from parsl._base.futures import DataFuture, LightFuture
from parsl._core.decisions import dependency_failures, join_outcome, join_targets, release, retry_or_fail
from parsl._core.task import AppFuture, TaskRecord
from parsl.dataflow.errors import DependencyError, JoinError


def done(value):
    f = cf.Future()
    f.set_result(value)
    return f


def failed(exc):
    f = cf.Future()
    f.set_exception(exc)
    return f


def cancelled():
    f = cf.Future()
    f.cancel()
    return f


def record(tid=3):
    return TaskRecord(tid, print, "print", (), {}, "threads", None)


# -- retry or fail ---------------------------------------------------------------------------

def test_without_retries_the_first_failure_is_final():
    d = retry_or_fail(ValueError(), 0.0, 0, 1.0)
    assert not d.retry and d.fail_cost == 1.0


@pytest.mark.parametrize("fail_cost, retries, retry", [(0.0, 2, True), (1.0, 2, True), (2.0, 2, False)])
def test_a_task_is_retried_while_its_cost_is_within_the_budget(fail_cost, retries, retry):
    d = retry_or_fail(RuntimeError("boom"), fail_cost, retries, 1.0)
    assert d.retry is retry and d.fail_cost == fail_cost + 1.0


def test_the_retry_handler_cost_counts_against_the_budget():
    assert retry_or_fail(OSError(), 0.0, 3, 0.5).retry          # cheap failures: many tries
    assert not retry_or_fail(OSError(), 0.0, 3, 10).retry        # an expensive one ends it
    assert retry_or_fail(OSError(), 2.5, 3, 0.5) == (True, 3.0)


def test_a_failed_retry_handler_fails_the_task_at_once():
    d = retry_or_fail(TypeError(), 0.0, 5, None)
    assert not d.retry and d.fail_cost == 6


@pytest.mark.parametrize("exc", [DependencyError([], 1), JoinError([], 1)])
def test_dependency_and_join_errors_are_never_retried(exc):
    assert not retry_or_fail(exc, 0.0, 10, 1.0).retry


# -- releasing a waiting task ----------------------------------------------------------------

def test_a_task_is_released_when_its_last_dependency_finishes():
    rec = record()
    rec.pending_deps = 3
    assert [release(rec), release(rec), release(rec)] == [False, False, True]
    assert rec.pending_deps == 0


def test_finished_dependencies_without_failures_give_none():
    assert dependency_failures([done(1), done(None)]) is None


def test_failed_and_cancelled_dependencies_are_named():
    err = KeyError("x")
    failures = dependency_failures([done(1), failed(err), cancelled()])
    assert [type(e) for e, _ in failures] == [KeyError, cf.CancelledError]
    assert failures[0][0] is err
    assert "was cancelled" in str(failures[1][0])


def test_dependency_failures_read_light_futures_and_name_their_tasks():
    rec = record(tid=41)
    app_fu = AppFuture(rec)
    rec.app_fu = app_fu
    app_fu.set_exception(ValueError("upstream"))
    data_fu = DataFuture(app_fu, File("out.txt"), tid=41)
    light = LightFuture()
    light.set_exception(OSError())
    failures = dependency_failures([app_fu, data_fu, light])
    assert [desc for _, desc in failures][:2] == ["task 41", "DataFuture from task 41"]
    assert isinstance(failures[2][0], OSError)


# -- joins -----------------------------------------------------------------------------------

def test_a_join_waits_for_a_future_or_a_list_of_futures():
    f = done(1)
    assert join_targets(f, "j") == ([f], None)
    assert join_targets([f, f], "j") == ([f, f], None)
    assert join_targets([], "j") == ([], None)


@pytest.mark.parametrize("bad", [3, "x", [1, done(2)], (done(1),)])
def test_a_join_app_returning_anything_else_is_a_type_error(bad):
    futs, err = join_targets(bad, "my_join")
    assert futs == [] and isinstance(err, TypeError)
    assert "join_app my_join must return a Future or a list of Futures" in str(err)


def test_join_outcome_is_the_inner_result_or_the_list_of_results():
    assert join_outcome(done(5), 1) == (5, None)
    assert join_outcome([done(1), done(2)], 1) == ([1, 2], None)
    assert join_outcome([], 1) == ([], None)


def test_join_outcome_collects_every_inner_failure_in_a_join_error():
    result, err = join_outcome([done(1), failed(ValueError("a")), cancelled()], 9)
    assert result is None and isinstance(err, JoinError)
    assert [type(e) for e, _ in err.dependent_exceptions_tids] == [ValueError, cf.CancelledError]
