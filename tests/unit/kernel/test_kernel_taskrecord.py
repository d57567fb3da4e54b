"""TaskRecord: a slotted object that also answers Parsl's dict-style access."""
import pytest

from parsl.dataflow.states import States
from parsl.dataflow.taskrecord import TaskRecord

DOCUMENTED_KEYS = ("id, func, func_name, args, kwargs, executor, status, depends, app_fu, exec_fu, "
                   "fail_count, fail_cost, fail_history, from_memo, memoize, ignore_for_cache, hashsum, "
                   "join, joins, try_id, time_invoked, time_returned, try_time_launched, "
                   "try_time_returned, resource_specification").split(", ")


def make():
    return TaskRecord(3, len, "len", ("abc",), {"x": 1}, "threads", None)


def test_item_access_mirrors_attributes():
    rec = make()
    assert rec["id"] == rec.id == 3
    assert rec["func"] is len
    assert rec["func_name"] == "len"
    assert rec["args"] == ("abc",)
    assert rec["kwargs"] == {"x": 1}
    assert rec["executor"] == "threads"
    rec["status"] = States.pending
    assert rec.status is States.pending


def test_every_documented_key_is_present():
    rec = make()
    for k in DOCUMENTED_KEYS:
        assert k in rec, k
        rec[k]  # no KeyError
    assert set(DOCUMENTED_KEYS) <= set(rec.keys())


def test_initial_values_are_those_of_a_fresh_task():
    rec = make()
    assert rec["fail_count"] == 0
    assert rec["fail_cost"] == 0
    assert rec["try_id"] == 0
    assert rec["status"] is None
    assert rec["memoize"] is False
    assert rec["join"] is False


def test_unknown_key_is_a_key_error_and_get_has_a_default():
    rec = make()
    with pytest.raises(KeyError):
        rec["no_such_key"]
    assert rec.get("no_such_key") is None
    assert rec.get("no_such_key", 5) == 5
    assert "no_such_key" not in rec


def test_extra_keys_can_be_stored_like_a_dict():
    # users' retry handlers and plugins stash their own keys on the record
    rec = make()
    rec["my_note"] = "hello"
    assert rec["my_note"] == "hello"
    assert "my_note" in rec
    assert "my_note" in rec.keys()
    assert rec.get("my_note") == "hello"


def test_keys_hide_internal_slots():
    ks = make().keys()
    assert "dfk" not in ks and "pending_deps" not in ks
    assert not any(k.startswith("_") for k in ks)


def test_record_is_slotted():
    rec = make()
    with pytest.raises(AttributeError):
        rec.__dict__


def test_retries_left_without_a_kernel_is_zero():
    assert make().retries_left == 0


def test_repr_names_the_task():
    assert repr(make()) == "<TaskRecord 3 len None>"
