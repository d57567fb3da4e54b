"""The worker's compact end-of-task record: small on the wire, expanded by its reader into
exactly the message the worker would otherwise have built."""
import pickle

from parsl._htex import protocol
from parsl._monitoring.resources import TASK_END, TaskResourceMonitor, _Task, expand_message, expand_task_end
from parsl._monitoring.writer_process import decode_encoded_batch
from parsl.monitoring.message_type import MessageType


def _sample(wall, cpu, rss=1000):
    return {"wall": wall, "cpu": cpu, "user": cpu * 0.75, "system": cpu * 0.25, "rss": rss, "vms": 5000,
            "read": 10.0 * wall, "write": 2.0 * wall, "vol": int(wall), "invol": 1, "children": 0,
            "status": "running", "cpu_num": 1}


class FixedSampler:
    """Returns the samples it is given, in order (no /proc reads: the values are known)."""

    def __init__(self, samples):
        self.samples = list(samples)

    def read(self):
        return self.samples.pop(0)

    read_final = read

    def close(self):
        pass


def _monitor(compact, samples, sent):
    mon = TaskResourceMonitor(lambda *m: sent.append(m), 1.0, hostname="h", block_id=2, run_id="r",
                              compact_end=compact)
    mon.sampler.close()
    mon.sampler = FixedSampler(samples)
    mon._pid = 1234
    mon._last = _sample(100.0, 4.0)
    return mon


def _run_one_task(compact):
    sent = []
    mon = _monitor(compact, [_sample(110.0, 9.0, rss=2048)], sent)
    try:
        # What task_started records, at a fixed start time (so both runs are identical) and
        # without starting the sampler thread (nothing periodic may interleave).
        mon._task = _Task({"executor_task_id": 7}, 105.0, mon._last)
        mon.task_finished()
    finally:
        mon.close()
    assert len(sent) == 1
    return sent[0]


def test_compact_record_expands_to_the_full_message():
    kind, record = _run_one_task(compact=True)
    assert kind == TASK_END
    assert _run_one_task(compact=False) == expand_task_end(record)


def test_expanded_message_has_parsl_fields_with_per_task_deltas():
    kind, msg = _run_one_task(compact=False)
    assert kind is MessageType.WORKER_TASK_INFO
    assert msg["executor_task_id"] == 7 and msg["first_msg"] and msg["last_msg"]
    assert msg["timestamp"] == 105.0 and msg["end_timestamp"] == 110.0
    assert msg["hostname"] == "h" and msg["block_id"] == "2" and msg["run_id"] == "r"
    res = msg["resource"]
    assert res["psutil_process_pid"] == 1234 and res["executor_task_id"] == 7
    assert res["psutil_process_time_user"] == 5.0 * 0.75
    assert res["psutil_process_disk_read"] == 100.0
    assert res["psutil_process_cpu_percent"] == 100.0 * 5.0 / 5.0
    assert res["psutil_process_memory_resident"] == 2048


def test_compact_record_is_much_smaller_than_the_message():
    kind, record = _run_one_task(compact=True)
    full = _run_one_task(compact=False)
    assert len(pickle.dumps((kind, record))) * 2 < len(pickle.dumps(full))


def test_other_messages_pass_through_unchanged():
    body = {"x": 1}
    assert expand_message(MessageType.RESOURCE_INFO, body) == (MessageType.RESOURCE_INFO, body)


def test_writer_expands_compact_records_in_an_encoded_batch():
    kind, record = _run_one_task(compact=True)
    other = (MessageType.RESOURCE_INFO, {"executor_task_id": 8})
    records = [protocol.encode_value(0, protocol.OUTCOME_MONITORING, m) for m in ((kind, record), other)]
    batch = protocol.monitoring_batch(records)
    items = decode_encoded_batch("htex", memoryview(batch)[protocol._RESULT_HEAD.size:])
    assert [k for k, _ in items] == [MessageType.WORKER_TASK_INFO, MessageType.RESOURCE_INFO]
    assert items[0][1]["executor_label"] == "htex" and items[0][1]["resource"]["executor_task_id"] == 7
    assert items[1][1] == {"executor_task_id": 8, "executor_label": "htex"}


def test_htex_expands_compact_records_for_a_sink_that_is_not_the_hub():
    from parsl.executors import HighThroughputExecutor
    kind, record = _run_one_task(compact=True)
    batch = protocol.monitoring_batch([protocol.encode_value(0, protocol.OUTCOME_MONITORING, (kind, record))])
    got = []
    ex = HighThroughputExecutor(label="hx")
    ex.monitoring_messages = lambda k, body: got.append((k, body))     # plain callable: no encoded_batch
    ex._forward_monitoring(protocol.OUTCOME_MONITORING_BATCH, memoryview(batch)[protocol._RESULT_HEAD.size:])
    ((k, body),) = got
    assert k is MessageType.WORKER_TASK_INFO and body["executor_label"] == "hx"
    assert body["resource"]["psutil_process_pid"] == 1234
