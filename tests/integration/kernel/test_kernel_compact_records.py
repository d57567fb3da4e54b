"""Apps called without keywords, with one or several dependencies: the compact task
record (shared empty kwargs, the record as its dependency's callback) behaves as before."""
import concurrent.futures

from parsl import python_app

DEADLINE = 60


@python_app
def plus(a, b=0):
    return a + b


@python_app
def keywords(**kw):
    return sorted(kw)


def test_single_and_multiple_dependencies_launch_once_their_futures_complete(dfk):
    gate = concurrent.futures.Future()
    one = [plus(gate) for _ in range(50)]
    two = [plus(gate, b=f) for f in one]
    assert not any(f.done() for f in one + two)
    assert one[0].task_record["kwargs"] == {}
    assert one[0].task_record["depends"] == [gate]
    gate.set_result(1)
    assert [f.result(timeout=DEADLINE) for f in two] == [2] * 50


def test_an_app_called_without_keywords_still_receives_a_fresh_dict(dfk):
    # the shared empty kwargs is never handed to the function itself
    assert keywords().result(timeout=DEADLINE) == []
    assert keywords(x=1).result(timeout=DEADLINE) == ["x"]
