"""Error classes: messages that say what happened, pickling, remote tracebacks."""
import pickle
import sys
import traceback
from concurrent.futures import CancelledError

import pytest

from parsl.app.errors import (
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
    RemoteExceptionWrapper,
    wrap_error,
)
from parsl.dataflow.errors import DependencyError, JoinError, PropagatedException
from parsl.errors import OptionalModuleMissing, ParslError


def test_dependency_error_names_the_chain_and_the_root_cause():
    root = ValueError("bad input")
    first = DependencyError([(root, "task 1")], 2)
    second = DependencyError([(first, "task 2")], 3)
    msg = str(second)
    assert "task 3" in msg
    assert "task 2 <- task 1" in msg
    assert "ValueError: bad input" in msg
    assert second.__cause__ is root
    assert second.dependent_exceptions_tids == [(first, "task 2")]
    assert second.task_id == 3


def test_dependency_error_with_several_failed_dependencies_says_so():
    e = DependencyError([(ValueError("a"), "task 1"), (KeyError("b"), "task 4")], 5)
    assert "(+ others)" in str(e)


def test_dependency_error_from_a_cancelled_task_says_cancelled():
    e = DependencyError([(CancelledError(), "task 0")], 1)
    assert "cancelled" in str(e)


def test_join_error_kind():
    e = JoinError([(RuntimeError("inner"), "task 8")], 9)
    assert str(e).startswith("Join failure for task 9")
    assert isinstance(e, PropagatedException)


@pytest.mark.parametrize("exc", [
    DependencyError([(ValueError("x"), "task 1")], 2),
    JoinError([(ValueError("x"), "task 1")], 2),
    BashExitFailure("app", 3, "out.txt", "err.txt"),
    BashAppNoReturn("no return"),
    MissingOutputs("gone", ["a.txt"]),
    BadStdStreamFile("cannot open"),
    AppTimeout("too slow"),
    OptionalModuleMissing(["zmq"], "not installed"),
])
def test_errors_pickle_with_their_message(exc):
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    assert isinstance(back, ParslError)


def test_bash_exit_failure_message_says_code_and_where_output_went():
    msg = str(BashExitFailure("build", 2, "/r/out.txt", "/r/err.txt"))
    assert "build" in msg and "exit code 2" in msg
    assert "/r/out.txt" in msg and "/r/err.txt" in msg


def test_bash_exit_failure_without_redirection_suggests_it():
    assert "stdout=" in str(BashExitFailure("build", 1))


def test_bash_exit_failure_by_signal():
    assert "signal 9" in str(BashExitFailure("build", -9))


def _failing_function():
    raise KeyError("deep inside")


def test_remote_exception_wrapper_reraises_original_type_with_traceback():
    try:
        _failing_function()
    except KeyError:
        w = RemoteExceptionWrapper(*sys.exc_info())
    w = pickle.loads(pickle.dumps(w))
    with pytest.raises(KeyError) as ei:
        w.reraise()
    names = [fr.name for fr in traceback.extract_tb(ei.value.__traceback__)]
    assert "_failing_function" in names


def test_remote_exception_wrapper_keeps_the_cause():
    try:
        try:
            raise OSError("disk")
        except OSError as inner:
            raise RuntimeError("outer") from inner
    except RuntimeError:
        w = RemoteExceptionWrapper(*sys.exc_info())
    e = pickle.loads(pickle.dumps(w)).get_exception()
    assert isinstance(e, RuntimeError) and isinstance(e.__cause__, OSError)


def test_wrap_error_returns_a_wrapper_instead_of_raising():
    wrapped = wrap_error(_failing_function)
    out = wrapped()
    assert isinstance(out, RemoteExceptionWrapper)
    assert wrap_error(lambda: 5)() == 5
