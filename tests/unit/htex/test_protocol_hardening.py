"""Bytes from the network are classified before anything trusts them (issue 18, items 1-3)."""
import json
import time

import pytest

from parsl._htex import protocol


def test_result_records_are_classified_and_malformed_ones_recognised():
    assert protocol.classify_result(protocol.encode_value(7, protocol.OUTCOME_RESULT, 1)) == 7
    assert protocol.classify_result(protocol.encode_value(7, protocol.OUTCOME_EXCEPTION, 1)) == 7
    end = b"e" * protocol.TASK_END_SIZE
    assert protocol.classify_result(protocol.encode_result(7, protocol.OUTCOME_RESULT, b"v", end)) == 7
    assert protocol.classify_result(protocol.monitoring_batch([])) == protocol.MONITORING_RECORD
    assert protocol.classify_result(protocol.started_record([3, 4])) == protocol.STARTED_RECORD
    for bad in (b"", b"\x01", b"\x07" + b"\x00" * 7 + bytes([77]),            # short; unknown outcome
                b"\x07" + b"\x00" * 7 + bytes([protocol.OUTCOME_RESULT | 4]) + b"x",   # a task end without its blob
                protocol.encode_value(0, protocol.OUTCOME_RESULT, 1),              # task id 0 completes nothing
                protocol.started_record([1])[:-1]):
        assert protocol.classify_result(bad) == protocol.MALFORMED_RECORD


def test_start_reports_round_trip():
    assert protocol.started_tasks(protocol.started_record([1, 2 ** 40, 9])) == (1, 2 ** 40, 9)


def _fields(**changes):
    reg = protocol.Registration.create(uid="u", block_id="0", worker_count=1, prefetch_capacity=0,
                                       start_time=time.time(), os="Linux", hostname="h", dir="/", cpu_count=1,
                                       total_memory=1, pid=1)._asdict()
    reg.update(changes)
    return json.dumps(reg).encode()


@pytest.mark.parametrize("changes", [{"worker_count": "4"}, {"worker_count": -1}, {"max_capacity": 1.5},
                                     {"block_id": 3}, {"hostname": None}, {"pid": True}])
def test_registrations_of_the_wrong_shape_are_refused_without_blaming_versions(changes):
    with pytest.raises(protocol.BadRegistration) as e:
        protocol.decode_registration(_fields(**changes), protocol.version_info())
    assert not e.value.versions and not e.value.unreadable


def test_lane_framing_that_is_not_ours_raises():
    good = protocol.encode_lane_message(b"R", [b"abc"])
    assert protocol.split_lane_messages(good) == ([(b"R", [b"abc"])], len(good))
    for bad in (b"\x00\x00\x00\x00",                                 # no kind
                b"\x03\x00\x00\x00R\x01\x00",                        # a record head cut short
                b"\x06\x00\x00\x00R\x09\x00\x00\x00x"):              # a record longer than its message
        with pytest.raises(ValueError):
            protocol.split_lane_messages(bad)


def test_a_failure_that_is_not_an_exception_wrapper_still_resolves_its_future():
    from parsl._base.futures import LightFuture
    from parsl.executors import HighThroughputExecutor
    from parsl.executors.errors import BadMessage
    ex = HighThroughputExecutor()
    futs = {5: LightFuture(), 6: LightFuture()}
    ex._tasks.update(futs)
    ex.on_results([protocol.encode_value(5, protocol.OUTCOME_EXCEPTION, 42),
                   protocol.encode_value(6, protocol.OUTCOME_RESULT, "fine")])
    assert isinstance(futs[5].exception(timeout=0), BadMessage)
    assert futs[6].result(timeout=0) == "fine"
