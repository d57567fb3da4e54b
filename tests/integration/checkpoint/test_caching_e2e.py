"""App caching through the real DataFlowKernel and ThreadPoolExecutor.

Includes the tutorial's "App Caching" cell (section 3), with threads instead of HTEX and
without the 5 s sleep: that the second call is a hit is asserted through behaviour (the body
ran once, the task ended memo_done), not through timing.
"""
import threading

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.dataflow.memoization import BasicMemoizer, MissReason, explain
from parsl.dataflow.states import States
from parsl.executors.threads import ThreadPoolExecutor


def threads_config(**kw):
    return Config(executors=[ThreadPoolExecutor(max_threads=2, label="threads")], **kw)


@pytest.fixture
def dfk():
    d = parsl.load(threads_config())
    yield d
    d.cleanup()


calls = []


@python_app(cache=True)
def slow_message(message):
    calls.append(message)
    return message


def test_tutorial_app_caching_cell(dfk):
    calls.clear()
    first = slow_message("Hello World")
    assert first.result() == "Hello World"
    second = slow_message("Hello World")
    assert second.result() == "Hello World"
    third = slow_message("Hello World!")
    assert third.result() == "Hello World!"
    assert calls == ["Hello World", "Hello World!"]          # the second call did not run
    assert second.task_record.status == States.memo_done
    assert second.task_record.from_memo
    assert explain(second) is None
    assert explain(third).kind == MissReason.ARGUMENTS_CHANGED
    assert "message" in str(explain(third))


def test_legacy_app_cache_false_turns_caching_off():
    calls.clear()
    d = parsl.load(threads_config(app_cache=False))
    try:
        assert slow_message("x").result() == "x"
        assert slow_message("x").result() == "x"
    finally:
        d.cleanup()
    assert calls == ["x", "x"]


def test_modern_memoizer_memoize_false():
    calls.clear()
    d = parsl.load(threads_config(memoizer=BasicMemoizer(memoize=False)))
    try:
        slow_message("y").result()
        slow_message("y").result()
    finally:
        d.cleanup()
    assert calls == ["y", "y"]


def test_identical_calls_in_flight_run_once(dfk):
    gate = threading.Event()
    ran = []

    @python_app(cache=True)
    def blocked(x):
        ran.append(x)
        gate.wait(30)
        return x * 10

    futs = [blocked(4) for _ in range(5)]
    gate.set()
    assert [f.result() for f in futs] == [40] * 5
    assert ran == [4]


def test_a_failure_is_replayed_for_the_rest_of_the_run(dfk):
    # as Parsl: the identical later call fails with the same exception, without running
    attempts = []

    @python_app(cache=True)
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("first time fails")
        return x

    first = flaky(1).exception()
    assert isinstance(first, RuntimeError)
    assert flaky(1).exception() is first
    assert len(attempts) == 1
    assert flaky(2).result() == 2          # other calls run


def test_ignore_for_cache(dfk):
    ran = []

    @python_app(cache=True, ignore_for_cache=["tag"])
    def tagged(x, tag="a"):
        ran.append(tag)
        return x

    assert tagged(1, tag="a").result() == 1
    assert tagged(1, tag="b").result() == 1
    assert ran == ["a"]


def test_changing_the_body_recomputes(dfk):
    ran = []

    def make(version):
        if version == 1:
            @python_app(cache=True)
            def step(x):
                ran.append(1)
                return x + 1
        else:
            @python_app(cache=True)
            def step(x):
                ran.append(2)
                return x + 2
        return step

    assert make(1)(1).result() == 2
    again = make(1)(1)       # a new function object, same body: a hit
    assert again.result() == 2
    changed = make(2)(1)     # same name, different body: recomputed, and says why
    assert changed.result() == 3
    assert ran == [1, 2]
    assert explain(changed).kind == MissReason.FUNCTION_CHANGED


def test_file_inputs_keyed_by_content(dfk, tmp_path):
    ran = []
    data = tmp_path / "data.txt"
    data.write_text("1\n2\n")

    @python_app(cache=True)
    def total(inputs=()):
        ran.append(1)
        with open(inputs[0]) as f:
            return sum(int(line) for line in f)

    assert total(inputs=[File(str(data))]).result() == 3
    assert total(inputs=[File(str(data))]).result() == 3
    data.write_text("1\n2\n3\n")
    changed = total(inputs=[File(str(data))])
    assert changed.result() == 6
    assert len(ran) == 2
    reason = explain(changed)
    assert reason.kind == MissReason.INPUT_FILES_CHANGED and "data.txt" in str(reason)


def test_bash_app_caching(dfk, tmp_path):
    out = tmp_path / "out.txt"

    @bash_app(cache=True)
    def echo(word, outputs=()):
        return f"echo {word} >> {outputs[0].filepath}"

    assert echo("hi", outputs=[File(str(out))]).result() == 0
    assert echo("hi", outputs=[File(str(out))]).result() == 0
    assert out.read_text() == "hi\n"


def test_unkeyable_argument_fails_the_task_with_a_clear_error(dfk):
    class Opaque:
        pass

    @python_app(cache=True)
    def takes(obj):
        return 1

    with pytest.raises(ValueError) as info:
        takes(Opaque()).result()
    assert "Opaque" in str(info.value) and "id_for_memo.register" in str(info.value)


def test_miss_reason_is_logged(dfk, caplog):

    @python_app(cache=True)
    def logged(x):
        return x

    from parsl.log_utils import TRACE

    # everyday misses (new argument values) are logged below DEBUG, so they cost nothing
    # in the default parsl.log; ask for TRACE to see them
    with caplog.at_level(TRACE, logger="parsl.dataflow.memoization"):
        logged(1).result()
        logged(2).result()
    assert any("not served from cache" in r.getMessage() and "'x'" in r.getMessage()
               for r in caplog.records)


def test_everyday_misses_stay_out_of_the_debug_log(dfk, caplog):
    import logging

    @python_app(cache=True)
    def quiet(x):
        return x

    with caplog.at_level(logging.DEBUG, logger="parsl.dataflow.memoization"):
        quiet(1).result()
        f = quiet(2)
        f.result()
    assert not any("not served from cache" in r.getMessage() for r in caplog.records)
    assert "'x'" in str(f.task_record["memo_miss_reason"])
