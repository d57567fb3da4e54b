"""The wire format: records round-trip, batching frames, version checks."""
import pickle

from parsl._htex import protocol


def test_task_record_round_trip():
    rec = protocol.encode_task(42, b"FUNC", b"ARGS-BYTES")
    assert protocol.task_id_of(rec) == 42
    tid, f, a = protocol.decode_task(rec)
    assert (tid, bytes(f), bytes(a)) == (42, b"FUNC", b"ARGS-BYTES")


def test_result_record_round_trip_and_completion_flag():
    rec = protocol.encode_value(7, protocol.OUTCOME_RESULT, {"x": 1})
    tid, outcome, payload = protocol.decode_result(rec)
    assert (tid, outcome, pickle.loads(payload)) == (7, protocol.OUTCOME_RESULT, {"x": 1})
    assert protocol.is_completion(rec)
    mon = protocol.encode_value(0, protocol.OUTCOME_MONITORING, ("RESOURCE_INFO", {}))
    assert not protocol.is_completion(mon)


def test_large_task_ids_survive():
    rec = protocol.encode_task(2**40 + 3, b"", b"")
    assert protocol.task_id_of(rec) == 2**40 + 3


def test_batch_messages_keep_one_record_per_frame():
    recs = [protocol.encode_task(i, b"f", b"a") for i in range(3)]
    msg = protocol.tasks_message(recs)
    assert msg[0] == protocol.TASKS and msg[1:] == recs
    assert protocol.results_message([b"r"])[0] == protocol.RESULTS


def test_message_kinds_are_distinct_single_bytes():
    kinds = [protocol.REGISTER, protocol.HEARTBEAT, protocol.DRAIN, protocol.RESULTS, protocol.RETURNED,
             protocol.TASKS, protocol.DRAINED, protocol.STOP, protocol.REJECT, protocol.RECALL,
             protocol.PING, protocol.LANE, protocol.LANE_ACK]
    assert len(set(kinds)) == len(kinds)
    assert all(len(k) == 1 for k in kinds)


def test_version_mismatch_names_each_difference():
    ours = protocol.version_info()
    assert protocol.version_mismatch(ours, dict(ours)) == ""
    theirs = dict(ours, python_v="2.7", parsl_v="0.1")
    diff = protocol.version_mismatch(ours, theirs)
    assert "python_v" in diff and "parsl_v" in diff and "2.7" in diff


def _registration(**kw):
    fields = dict(uid="abc", block_id="3", worker_count=4, prefetch_capacity=2, start_time=0.0, os="Linux",
                  hostname="h", dir="/", cpu_count=2, total_memory=1, pid=1)
    fields.update(kw)
    return protocol.Registration.create(**fields)


def test_registration_carries_capacity_and_identity():
    info = _registration()
    assert info.max_capacity == 6 and info.block_id == "3" and info.uid == "abc"
    frames = protocol.registration_message(info)
    assert protocol.decode_registration(frames[1], protocol.version_info()).worker_count == 4


def test_registration_of_another_version_is_refused_naming_the_difference():
    import pytest
    frame = protocol.registration_message(_registration(parsl_version="0.0.1-other"))[1]
    with pytest.raises(protocol.BadRegistration, match="0.0.1-other") as e:
        protocol.decode_registration(frame, protocol.version_info())
    assert e.value.versions["parsl_v"] == "0.0.1-other"
    with pytest.raises(protocol.BadRegistration) as e:   # an older manager's pickle is never unpickled
        protocol.decode_registration(pickle.dumps({"parsl_v": "x"}), protocol.version_info())
    assert e.value.versions


def test_control_messages_round_trip():
    assert protocol.decode_recall(protocol.recall_message(7)) == 7
    assert protocol.decode_reason(protocol.stop_message("bye")) == "bye"
    assert protocol.decode_lane_offer(protocol.lane_offer_message(4242, b"t" * 32)) == (4242, b"t" * 32)
    cfg = protocol.WorkerConfig(task_fd=3, result_fd=4, lifeline_fd=5, manager_pid=9, rank=1,
                                cpu_affinity=[0, 1], resource_monitoring_interval=-1.0)
    assert protocol.WorkerConfig.decode(cfg.encode()) == cfg


def test_registration_carries_the_full_python_version_but_only_major_minor_must_match():
    import json
    import sys
    info = _registration()
    assert info.python_version == "{}.{}.{}".format(*sys.version_info[:3])
    data = json.loads(protocol.registration_message(info)[1])
    data["python_version"] = "3.0.99"          # another micro release: still compatible
    assert protocol.decode_registration(json.dumps(data).encode(), protocol.version_info()).python_version == "3.0.99"
    del data["python_version"]                 # optional: the version fields decide compatibility
    assert protocol.decode_registration(json.dumps(data).encode(), protocol.version_info()).python_version == ""


def test_packages_request_and_answer():
    assert protocol.decode_packages([protocol.PACKAGES]) == {}
    frames = protocol.packages_message({"numpy": "2.1.0", "chervil": "1"})
    assert frames[0] == protocol.PACKAGES
    assert protocol.decode_packages(frames) == {"numpy": "2.1.0", "chervil": "1"}
    assert protocol.decode_packages([protocol.PACKAGES, b"\xff not json"]) == {}
    assert protocol.decode_packages([protocol.PACKAGES, b"[1, 2]"]) == {}
