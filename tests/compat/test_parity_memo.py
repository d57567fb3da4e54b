"""Parity with today's Parsl: caching (issue 16, items 9 and 10).

* a cache hit on a failed call fails with the same exception object as the first failure;
* ``@id_for_memo.register(T)`` functions may return ``str`` or other plain values, not only
  bytes (Parsl's own tests register ``File`` returning ``file.url``).
"""
import pytest

import parsl
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl.dataflow.states import States
from parsl.executors.threads import ThreadPoolExecutor


@pytest.fixture
def load():
    loaded = []

    def _load(**kw):
        dfk = parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], memoizer=BasicMemoizer(),
                                run_dir="runinfo", **kw))
        loaded.append(dfk)
        return dfk
    yield _load
    for dfk in loaded:
        dfk.cleanup()


# -- item 9: memoized exceptions ----------------------------------------------------------------

@pytest.mark.parametrize("retries", [0, 2])
def test_a_cached_failure_is_the_same_exception_object(load, retries):
    runs = []

    @parsl.python_app(cache=True)
    def boom(x):
        runs.append(x)
        raise ValueError(f"boom {x}")

    load(retries=retries)
    first = boom(1)
    e1 = first.exception()
    second = boom(1)
    e2 = second.exception()
    assert isinstance(e1, ValueError) and e2 is e1
    assert runs == [1] * (retries + 1)        # the first call's tries only; the second replays
    rec = second.task_record
    assert rec["status"] == States.failed and rec["from_memo"]
    # a different call still runs
    assert isinstance(boom(2).exception(), ValueError) and runs[-1] == 2


def test_a_later_success_replaces_a_cached_failure():
    m = BasicMemoizer()
    m.start(run_dir="runinfo/000")
    try:
        from parsl.dataflow.taskrecord import TaskRecord

        def f(x):
            return x

        def rec(i):
            r = TaskRecord(i, f, "f", (1,), {}, "t", None)
            r.memoize = True
            return r

        first = rec(0)
        assert m.check_memo(first) is None
        err = RuntimeError("once")
        m.update_memo_exception(first, err)
        assert m.check_memo(rec(1)).exception() is err
        retry_ok = rec(2)
        retry_ok.hashsum = first.hashsum
        m.update_memo_result(retry_ok, 5)
        assert m.check_memo(rec(3)).result() == 5
    finally:
        m.close()


def test_cached_failures_are_not_checkpointed():
    runs = []

    @parsl.python_app(cache=True)
    def boom():
        runs.append(1)
        raise KeyError("k")

    def config():
        return Config(executors=[ThreadPoolExecutor(label="t")], run_dir="runinfo",
                      memoizer=BasicMemoizer(checkpoint_mode="task_exit"))

    with parsl.load(config()):
        assert isinstance(boom().exception(), KeyError)
        assert isinstance(boom().exception(), KeyError)
    assert runs == [1]
    with parsl.load(config()) as dfk:     # loads the earlier run's checkpoint
        assert len(dfk.memoizer) == 0
        assert isinstance(boom().exception(), KeyError)
    assert runs == [1, 1]


# -- item 10: id_for_memo registrations returning str or other values --------------------------

class Sample:
    def __init__(self, name):
        self.name = name


class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b


@id_for_memo.register(Sample)
def _sample_by_name(obj, output_ref=False):
    return obj.name                       # a str, as Parsl users write it


@id_for_memo.register(Pair)
def _pair_by_values(obj, output_ref=False):
    return ("Pair", obj.a, obj.b)         # a tuple of plain values


class Forgetful:
    pass


@id_for_memo.register(Forgetful)
def _forgot_to_return(obj, output_ref=False):
    pass


def test_registrations_returning_str_or_values_key_python_apps(load):
    runs = []

    @parsl.python_app(cache=True)
    def use(x):
        runs.append(x)
        return type(x).__name__

    load()
    assert use(Sample("a")).result() == "Sample"
    hit = use(Sample("a"))
    assert hit.result() == "Sample" and hit.task_record["from_memo"]
    assert use(Sample("b")).result() == "Sample"
    assert use(Pair(1, 2)).result() == "Pair"
    again = use(Pair(1, 2))
    assert again.result() == "Pair" and again.task_record["from_memo"]
    other = use(Pair(1, 3))
    assert other.result() == "Pair" and not other.task_record["from_memo"]
    assert len(runs) == 4


def test_a_file_registration_returning_the_url_works_in_a_bash_app(load, tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("x")

    @parsl.bash_app(cache=True)
    def copy(inputs=(), outputs=()):
        return f"cp {inputs[0]} {outputs[0]}"

    @id_for_memo.register(File)
    def _file_by_url(f, output_ref=False):
        return f.url

    try:
        load()
        out = tmp_path / "out.txt"
        first = copy(inputs=[File(str(source))], outputs=[File(str(out))])
        assert first.result() == 0 and out.read_text() == "x"
        again = copy(inputs=[File(str(source))], outputs=[File(str(out))])
        assert again.result() == 0 and again.task_record["from_memo"]
    finally:
        # restore Chervil's own File encoding (by content) for the rest of the suite
        from parsl._core import memo
        id_for_memo.register(File)(memo._file)


def test_a_registration_returning_none_fails_the_task_with_a_clear_message(load):
    @parsl.python_app(cache=True)
    def use(x):
        return 1

    load()
    exc = use(Forgetful()).exception()
    assert isinstance(exc, TypeError)
    assert "Forgetful" in str(exc) and "returned None" in str(exc)


def test_keys_from_str_registrations_are_deterministic():
    from parsl._core.memo import memo_bytes
    assert memo_bytes(Sample("a")) == memo_bytes(Sample("a")) != memo_bytes(Sample("b"))
    assert memo_bytes(Pair(1, 2)) == memo_bytes(Pair(1, 2)) != memo_bytes(Pair(2, 1))
    assert memo_bytes([Sample("a"), {"k": Pair(1, 2)}]) == memo_bytes([Sample("a"), {"k": Pair(1, 2)}])
