"""Dependencies: futures in args, kwargs and inputs; shallow and deep resolvers; failure
propagation with DependencyError chains; join apps and JoinError; foreign futures."""
import concurrent.futures as cf
import threading

import pytest

from parsl import join_app, python_app
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER
from parsl.dataflow.errors import DependencyError, JoinError
from parsl.dataflow.states import States

from kernel_helpers import DEADLINE


@python_app
def value(x):
    return x


@python_app
def add(a, b=0, inputs=()):
    return a + b + sum(inputs)


@python_app
def fail(msg="upstream broke"):
    raise ValueError(msg)


@python_app
def echo(x):
    return x


def test_futures_in_args_kwargs_and_inputs_are_replaced_by_results(dfk):
    assert add(value(1), b=value(2), inputs=[value(3), 4]).result(timeout=DEADLINE) == 10


def test_the_same_future_twice(dfk):
    v = value(5)
    fut = add(v, b=v, inputs=[v])
    assert fut.result(timeout=DEADLINE) == 15
    assert fut.task_record.depends == [v]  # waited for once


def test_long_chain(dfk):
    fut = value(0)
    for _ in range(300):
        fut = add(fut, 1)
    assert fut.result(timeout=DEADLINE) == 300


def test_fan_in(dfk):
    parts = [value(i) for i in range(50)]
    assert add(0, inputs=parts).result(timeout=DEADLINE) == sum(range(50))


def test_shallow_resolver_leaves_nested_futures_alone(dfk):
    inner = value(1)
    out = echo([inner]).result(timeout=DEADLINE)
    assert out[0] is inner  # passed as the future itself


def test_deep_resolver_waits_for_nested_futures(load):
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    gate = threading.Event()

    @python_app
    def late(x):
        gate.wait(DEADLINE)
        return x
    nested = {"a": [late(1), (late(2),)], late("key"): {late(3)}}
    fut = echo(nested)
    assert not fut.done()
    gate.set()
    assert fut.result(timeout=DEADLINE) == {"a": [1, (2,)], "key": {3}}


def test_deep_resolver_propagates_nested_failure(load):
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    with pytest.raises(DependencyError):
        echo([[fail()]]).result(timeout=DEADLINE)


def test_deep_resolver_that_cannot_rebuild_an_argument_fails_the_task(load):
    # a set of futures whose results are lists cannot be rebuilt: the task must fail, not hang
    load(dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    fut = echo({value([1])})
    with pytest.raises(TypeError, match="unhashable"):
        fut.result(timeout=DEADLINE)
    assert fut.task_status() == "failed"


def test_failure_propagates_transitively_with_the_chain_of_ids(dfk):
    root = fail()
    a = add(root, 1)
    b = add(a, 1)
    c = add(0, inputs=[b])
    with pytest.raises(ValueError, match="upstream broke"):
        root.result(timeout=DEADLINE)
    with pytest.raises(DependencyError) as ei:
        c.result(timeout=DEADLINE)
    e = ei.value
    msg = str(e)
    assert f"task {c.tid}" in msg
    assert f"task {b.tid} <- task {a.tid} <- task {root.tid}" in msg
    assert "ValueError: upstream broke" in msg
    assert isinstance(e.__cause__, ValueError)
    for f in (a, b, c):
        assert f.task_status() == "dep_fail"


def test_dependency_failure_is_never_retried(load):
    calls = []

    def handler(exc, rec):
        calls.append(rec["id"])
        return 1
    load(retries=3, retry_handler=handler)
    root = fail()
    child = add(root, 1)
    with pytest.raises(DependencyError):
        child.result(timeout=DEADLINE)
    assert child.task_record["fail_count"] == 0 and child.tid not in calls
    assert calls.count(root.tid) == 4  # the root was retried: 1 try + 3 retries


def test_failed_data_future_input_names_the_data_future(dfk, tmp_path):
    from parsl.data_provider.files import File

    @python_app
    def broken_writer(outputs=()):
        raise OSError("no space")
    w = broken_writer(outputs=[File(str(tmp_path / "x"))])
    reader = echo(w.outputs[0])
    with pytest.raises(DependencyError, match=f"DataFuture from task {w.tid}"):
        reader.result(timeout=DEADLINE)


def test_dependent_of_successful_and_failed_inputs(dfk):
    ok = value(1)
    bad = fail()
    out = add(ok, inputs=[bad])
    with pytest.raises(DependencyError):
        out.result(timeout=DEADLINE)
    assert ok.result() == 1


def test_foreign_future_dependency(dfk):
    # a plain concurrent.futures.Future from the user's own code is a dependency like any other;
    # the task waits for it (documented: if it never completes, the task never runs -- cancel it)
    foreign = cf.Future()
    fut = add(foreign, 1)
    assert fut.task_status() == "pending"
    foreign.set_result(41)
    assert fut.result(timeout=DEADLINE) == 42


def test_task_on_a_foreign_future_that_never_completes_can_be_cancelled(dfk):
    forever = cf.Future()
    fut = add(forever, 1)
    assert fut.cancel() is True
    dfk.wait_for_current_tasks()  # returns: nothing is left waiting


def test_foreign_future_failure_is_a_dependency_error(dfk):
    foreign = cf.Future()
    fut = add(foreign, 1)
    foreign.set_exception(RuntimeError("external"))
    with pytest.raises(DependencyError, match="RuntimeError: external"):
        fut.result(timeout=DEADLINE)


def test_cancelled_foreign_future_is_a_dependency_error(dfk):
    foreign = cf.Future()
    fut = add(foreign, 1)
    foreign.cancel()
    with pytest.raises(DependencyError, match="cancelled"):
        fut.result(timeout=DEADLINE)


# -- join apps ---------------------------------------------------------------------------------

@join_app
def fan_out(n):
    return [value(i) for i in range(n)]


@join_app
def one_inner(x):
    return add(value(x), 1)


def test_join_app_returning_one_future(dfk):
    fut = one_inner(1)
    assert fut.result(timeout=DEADLINE) == 2
    assert fut.task_status() == "exec_done"
    assert fut.task_record.executor == "_parsl_internal"


def test_join_app_returning_a_list(dfk):
    assert fan_out(5).result(timeout=DEADLINE) == [0, 1, 2, 3, 4]


def test_join_app_returning_an_empty_list(dfk):
    assert fan_out(0).result(timeout=DEADLINE) == []


def test_join_app_recursion(dfk):
    @join_app
    def fib(n):
        if n < 2:
            return value(n)
        return add(fib(n - 1), fib(n - 2))
    assert fib(10).result(timeout=DEADLINE) == 55


def test_join_app_inner_failure_is_a_join_error(dfk):
    @join_app
    def some_fail():
        return [value(1), fail("inner broke")]
    fut = some_fail()
    with pytest.raises(JoinError) as ei:
        fut.result(timeout=DEADLINE)
    assert "inner broke" in str(ei.value)
    assert isinstance(ei.value.__cause__, ValueError)
    assert fut.task_record["status"] is States.failed


def test_join_app_wrong_return_type_is_a_type_error(dfk):
    @join_app
    def not_futures():
        return 5
    with pytest.raises(TypeError, match="Future"):
        not_futures().result(timeout=DEADLINE)


def test_join_errors_are_not_retried(load):
    load(retries=2)
    runs = []

    @join_app
    def j():
        runs.append(1)
        return fail()
    with pytest.raises(JoinError):
        j().result(timeout=DEADLINE)
    assert len(runs) == 1


def test_join_app_inner_cancelled(dfk):
    gate = threading.Event()

    @python_app
    def blocked():
        gate.wait(DEADLINE)

    holder = {}

    @join_app
    def j():
        inner = echo(blocked())
        holder["inner"] = inner
        inner.cancel()
        return inner
    with pytest.raises(JoinError, match="cancelled"):
        j().result(timeout=DEADLINE)
    gate.set()
