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


# -- the compact layout: rarely set fields live in an extras object made on first write ----

def test_writing_defaults_creates_no_extras():
    rec = make()
    rec.memoize = False
    rec.join = False
    rec.fail_history = ()
    rec.from_memo = None
    rec.resource_specification = {}
    assert rec._x is None
    assert rec.resource_specification == {}


def test_rare_fields_round_trip_through_attributes_and_items():
    rec = make()
    rec["hashsum"] = "abc"
    rec.fail_history = ["boom"]
    rec["resource_specification"] = {"cores": 2}
    rec.pending_deps = 2
    assert rec._x is not None
    assert rec.hashsum == rec["hashsum"] == "abc"
    assert rec["fail_history"] == ["boom"]
    assert rec.resource_specification == {"cores": 2}
    assert rec.pending_deps == 2
    rec.hashsum = None  # back to the default: stored, still answers
    assert rec["hashsum"] is None
    # a default-valued write of another type is stored as given
    rec2 = make()
    rec2.fail_cost = 0
    assert rec2["fail_cost"] == 0


def test_the_record_is_the_callback_of_its_single_dependency():
    launched = []

    class Kernel:
        def _schedule_launch(self, rec):
            launched.append(rec)

    rec = TaskRecord(4, len, "len", (), {}, "threads", Kernel())
    rec(object())  # what Future.add_done_callback calls
    assert launched == [rec]


def test_tasks_without_keywords_share_one_read_only_kwargs():
    import pickle

    from parsl._core.task import NO_KWARGS
    assert NO_KWARGS == {} and not NO_KWARGS
    for mutate in (lambda d: d.__setitem__("x", 1), lambda d: d.update(x=1), lambda d: d.setdefault("x", 1),
                   lambda d: d.pop("x", None), lambda d: d.clear()):
        with pytest.raises(TypeError, match=r"task_record\['kwargs'\] = "):
            mutate(NO_KWARGS)
    assert NO_KWARGS == {}
    copy = pickle.loads(pickle.dumps(NO_KWARGS))
    assert type(copy) is dict and copy == {}
    assert type(NO_KWARGS.copy()) is dict
    assert dict(NO_KWARGS, y=2) == {"y": 2}
