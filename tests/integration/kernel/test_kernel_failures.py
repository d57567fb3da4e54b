"""Exceptions keep their type and traceback; retries and retry_handler cost semantics;
fail_history; python-app walltime."""
import threading
import time
import traceback

import pytest

from parsl import python_app
from parsl.app.errors import AppTimeout
from parsl.dataflow.states import States

from kernel_helpers import DEADLINE


class CustomError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _helper_that_raises():
    raise CustomError(17)


@python_app
def raises():
    _helper_that_raises()


def test_exception_keeps_its_type_attributes_and_traceback(dfk):
    fut = raises()
    with pytest.raises(CustomError) as ei:
        fut.result(timeout=DEADLINE)
    assert ei.value.code == 17
    frames = [fr.name for fr in traceback.extract_tb(ei.value.__traceback__)]
    assert "_helper_that_raises" in frames
    assert fut.task_status() == "failed"
    assert fut.task_record["fail_count"] == 1
    assert fut.task_record["fail_history"] == ["CustomError(17)"]


def test_base_exceptions_from_apps_fail_the_task_not_the_pool(dfk):
    @python_app
    def exits():
        raise SystemExit(3)

    @python_app
    def fine():
        return "ok"
    with pytest.raises(SystemExit):
        exits().result(timeout=DEADLINE)
    assert fine().result(timeout=DEADLINE) == "ok"


def flaky_app(fail_times):
    attempts = []

    @python_app
    def flaky():
        attempts.append(1)
        if len(attempts) <= fail_times:
            raise CustomError(len(attempts))
        return len(attempts)
    return flaky, attempts


def test_no_retries_by_default(dfk):
    flaky, attempts = flaky_app(1)
    with pytest.raises(CustomError):
        flaky().result(timeout=DEADLINE)
    assert len(attempts) == 1


def test_retries_until_success(load):
    load(retries=2)
    flaky, attempts = flaky_app(2)
    fut = flaky()
    assert fut.result(timeout=DEADLINE) == 3
    rec = fut.task_record
    assert rec["fail_count"] == 2 and rec["try_id"] == 2
    assert rec["fail_history"] == ["CustomError(1)", "CustomError(2)"]
    assert rec["status"] is States.exec_done
    assert rec["executor"] == "threads"


def test_retries_exhausted_raise_the_last_error(load):
    load(retries=2)
    flaky, attempts = flaky_app(10)
    fut = flaky()
    with pytest.raises(CustomError) as ei:
        fut.result(timeout=DEADLINE)
    assert ei.value.code == 3 and len(attempts) == 3
    assert fut.task_record["fail_count"] == 3 and fut.task_status() == "failed"


def test_retry_handler_cost_is_summed_against_the_budget(load):
    seen = []

    def half_cost(exc, rec):
        seen.append((type(exc).__name__, rec["fail_count"]))
        return 0.5
    load(retries=2, retry_handler=half_cost)
    flaky, attempts = flaky_app(100)
    fut = flaky()
    with pytest.raises(CustomError):
        fut.result(timeout=DEADLINE)
    # costs 0.5, 1.0, 1.5, 2.0 are within the budget of 2; the fifth failure (2.5) is final
    assert len(attempts) == 5
    assert fut.task_record["fail_cost"] == 2.5
    assert seen == [("CustomError", i) for i in range(1, 6)]


def test_retry_handler_can_make_a_failure_final(load):
    def by_type(exc, rec):
        return 100 if isinstance(exc, CustomError) and exc.code >= 2 else 1
    load(retries=5, retry_handler=by_type)
    flaky, attempts = flaky_app(100)
    with pytest.raises(CustomError):
        flaky().result(timeout=DEADLINE)
    assert len(attempts) == 2


def test_retry_handler_that_raises_fails_the_task_with_its_exception(load):
    def broken(exc, rec):
        raise LookupError("handler bug")
    load(retries=5, retry_handler=broken)
    flaky, attempts = flaky_app(100)
    fut = flaky()
    with pytest.raises(LookupError, match="handler bug"):
        fut.result(timeout=DEADLINE)
    assert len(attempts) == 1
    assert fut.task_record["fail_cost"] == 6


@pytest.mark.parametrize("bad_cost", [None, "1"])
def test_retry_handler_returning_a_non_number_fails_the_task_clearly(load, bad_cost):
    load(retries=3, retry_handler=lambda exc, rec: bad_cost)
    flaky, attempts = flaky_app(100)
    with pytest.raises(TypeError, match="must return a number") as ei:
        flaky().result(timeout=DEADLINE)
    assert isinstance(ei.value.__cause__, CustomError)
    assert len(attempts) == 1


def test_retry_handler_reads_the_record_like_a_dict(load):
    got = {}

    def handler(exc, rec):
        got.update(func_name=rec["func_name"], try_id=rec["try_id"], history=list(rec["fail_history"]))
        return 1
    load(retries=1, retry_handler=handler)
    flaky, _ = flaky_app(1)
    flaky().result(timeout=DEADLINE)
    assert got == {"func_name": "flaky", "try_id": 0, "history": ["CustomError(1)"]}


def test_retried_tasks_dependents_wait_for_the_final_try(load):
    load(retries=3)
    flaky, _ = flaky_app(2)

    @python_app
    def plus_ten(x):
        return x + 10
    assert plus_ten(flaky()).result(timeout=DEADLINE) == 13


# -- python walltime ----------------------------------------------------------------------------

def test_python_walltime_raises_app_timeout(dfk):
    @python_app
    def spin(walltime=0.2):
        # pure-Python work: the timeout is delivered between bytecodes
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            pass
        return "finished"
    fut = spin()
    with pytest.raises(AppTimeout, match="walltime"):
        fut.result(timeout=DEADLINE + 5)
    assert fut.task_status() == "failed"


def test_python_walltime_given_at_call_time(dfk):
    @python_app
    def spin():
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            pass
    with pytest.raises(AppTimeout):
        spin(walltime=0.1).result(timeout=DEADLINE + 5)


def test_fast_app_with_walltime_is_unaffected_and_timer_does_not_fire_later(dfk):
    @python_app
    def quick(walltime=0.2):
        return "done"
    fut = quick()
    assert fut.result(timeout=DEADLINE) == "done"

    # the same pool thread keeps working well past the walltime without a stray AppTimeout
    @python_app
    def after():
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            pass
        return threading.current_thread().name
    assert after().result(timeout=DEADLINE)


def test_walltime_timeouts_can_be_retried(load):
    load(retries=1)
    attempts = []

    @python_app
    def slow_first(walltime=0.2):
        attempts.append(1)
        if len(attempts) == 1:
            end = time.monotonic() + DEADLINE
            while time.monotonic() < end:
                pass
        return len(attempts)
    assert slow_first().result(timeout=DEADLINE + 5) == 2
