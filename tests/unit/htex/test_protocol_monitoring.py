"""Monitoring batches on the HTEX wire: the manager coalesces its workers' monitoring records."""
import pickle

from parsl._htex import protocol


def test_monitoring_batch_carries_every_message_and_is_no_completion():
    msgs = [("RESOURCE_INFO", {"n": i}) for i in range(3)] + [("WORKER_TASK_INFO", {"big": b"x" * 70000})]
    records = [protocol.encode_value(0, protocol.OUTCOME_MONITORING, m) for m in msgs]
    batch = protocol.monitoring_batch(records)
    task_id, outcome, payload = protocol.decode_result(batch)
    assert (task_id, outcome) == (0, protocol.OUTCOME_MONITORING_BATCH)
    assert not protocol.is_completion(batch) and protocol.is_monitoring(batch)
    assert [pickle.loads(m) for m in protocol.split_monitoring_batch(payload)] == msgs


def test_results_and_exceptions_are_completions():
    for outcome in (protocol.OUTCOME_RESULT, protocol.OUTCOME_EXCEPTION):
        rec = protocol.encode_value(5, outcome, None)
        assert protocol.is_completion(rec) and not protocol.is_monitoring(rec)


def test_empty_batch_splits_to_nothing():
    _, _, payload = protocol.decode_result(protocol.monitoring_batch([]))
    assert protocol.split_monitoring_batch(payload) == []


def test_a_result_carrying_its_end_of_task_record_is_a_completion():
    for outcome in (protocol.OUTCOME_RESULT, protocol.OUTCOME_EXCEPTION):
        rec = protocol.encode_result(5, outcome, pickle.dumps(None), b"E" * protocol.TASK_END_SIZE)
        _, got, payload = protocol.decode_result(rec)
        assert got == outcome | protocol.OUTCOME_TASK_END_FLAG
        assert bytes(payload[:protocol.TASK_END_SIZE]) == b"E" * protocol.TASK_END_SIZE
        assert pickle.loads(payload[protocol.TASK_END_SIZE:]) is None
        assert protocol.is_completion(rec) and not protocol.is_monitoring(rec)
