"""What cloudpickle refuses is pickled with dill (as Parsl does), and plain pickle loads it;
without dill the error names both the failure and the fix."""
import io
import pickle
import queue
import sys
import threading

import pytest

from parsl._base.errors import SerializationError
from parsl._htex import protocol, worker
from parsl.serialize.facade import serialize, serialize_arguments, serialize_arguments_into

pytest.importorskip("dill")


def _no_dill(monkeypatch):
    monkeypatch.setitem(sys.modules, "dill", None)     # `import dill` raises ImportError


def test_a_lock_and_a_queue_in_the_arguments_travel_through_dill():
    q = queue.Queue()
    q.put(7)
    args, kwargs = pickle.loads(serialize_arguments((threading.Lock(),), {"q": q}))
    assert args[0].acquire(blocking=False)          # a fresh lock, unlocked as it was sent
    assert kwargs["q"].get_nowait() == 7


def test_arguments_written_into_a_record_buffer_drop_the_failed_attempt():
    buf = io.BytesIO()
    buf.write(b"HEAD")
    big = b"x" * 100_000                              # cloudpickle writes this before it fails
    serialize_arguments_into(buf, (big, threading.Lock()), {})
    value = buf.getvalue()
    assert value.startswith(b"HEAD")
    args, kwargs = pickle.loads(value[4:])
    assert args[0] == big and kwargs == {}
    assert len(value) < 4 + 2 * len(big)               # no leftover of the first attempt


def test_values_neither_can_pickle_name_both_failures():
    gen = (i for i in range(3))
    with pytest.raises(SerializationError) as ei:
        serialize_arguments((gen,), {})
    text = str(ei.value)
    assert "cannot pickle 'generator' object" in text and "dill could not pickle it either" in text


def test_without_dill_the_error_says_how_to_get_it(monkeypatch):
    _no_dill(monkeypatch)
    with pytest.raises(SerializationError, match="pip install dill"):
        serialize_arguments((threading.Lock(),), {})
    with pytest.raises(SerializationError, match="pip install dill"):
        serialize(threading.Lock())
    buf = io.BytesIO()
    with pytest.raises(SerializationError, match="pip install dill"):
        serialize_arguments_into(buf, (threading.Lock(),), {})


def test_a_worker_returns_a_lock_through_dill():
    record = worker._dump_result(5, threading.Lock())
    task_id, outcome, payload = protocol.decode_result(record)
    assert (task_id, outcome) == (5, protocol.OUTCOME_RESULT)
    lock = pickle.loads(payload)
    assert lock.acquire(blocking=False)


def test_a_worker_without_dill_sends_an_error_that_says_how_to_get_it(monkeypatch):
    _no_dill(monkeypatch)
    record = worker._dump_result(5, threading.Lock())
    task_id, outcome, payload = protocol.decode_result(record)
    assert outcome == protocol.OUTCOME_EXCEPTION
    with pytest.raises(SerializationError, match="pip install dill"):
        pickle.loads(payload).reraise()
