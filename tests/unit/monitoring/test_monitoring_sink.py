"""The seams between the workflow and monitoring: ``MonitoringHubBase`` (what the kernel
calls) and ``MonitoringSink`` (what executors call), and the adapter for plain callables."""
import sqlite3
import time
import types

import pytest

from parsl._base.monitoring_sink import MonitoringHubBase, MonitoringSink
from parsl._sampling import records
from parsl._sampling.adapter import CallableSink, as_sink
from parsl.dataflow.states import States
from parsl.monitoring import MessageType, MonitoringHub

from monitoring_fakes import FakeFuture, FakeRecord, fake_dfk


class _Radio:
    """A radio with Parsl's interface: the hub starts its receiver and shuts it down."""

    def __init__(self):
        self.events = []

    def create_receiver(self, run_dir=None, resource_msgs=None):
        self.events.append(("started", resource_msgs is not None))
        return types.SimpleNamespace(shutdown=lambda: self.events.append(("shut down",)))


def test_the_hub_is_driven_through_its_interface_alone(tmp_path):
    db = tmp_path / "m.db"
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{db}", flush_period=0.05)
    assert isinstance(hub, MonitoringHubBase)
    with pytest.raises(RuntimeError):
        hub.send(MessageType.NODE_INFO, {})            # before start()
    hub.start(fake_dfk(tmp_path, executors=("htex",), in_process=()))
    write = hub.task_event_writer()
    radio = _Radio()
    ex = types.SimpleNamespace(label="htex", monitoring_messages=None, remote_monitoring_radio=radio)
    hub.attach_executor(ex)
    sink = ex.monitoring_messages
    assert isinstance(sink, MonitoringSink) and radio.events == [("started", True)]

    rec = FakeRecord(1, executor="htex")
    rec.exec_fu = FakeFuture(1)
    rec.exec_fu.parsl_executor_task_id = 9
    for state in (States.pending, States.launched):
        write((rec, state, time.time(), 0, 0, rec.exec_fu))
    hello = {"worker_key": 5, "hostname": "n1", "block_id": "0", "pid": 77,
             "resource_monitoring_interval": 1.0, "total_memory": 1000}
    sink.worker_batch("htex", records.join_frames([records.encode_message(records.WORKER_HELLO, hello)]))
    now = time.time()
    sink.task_ends("htex", records.pack_task_end(9, 5, now - 1, now, 0.5, 0.1, 60.0, 100, 200, 0, 0, 1, 1,
                                                 0, 0, records.FIRST_MSG, records.STATUS_RUNNING))
    rec.time_returned = now
    write((rec, States.exec_done, now, 0, 0, rec.exec_fu))
    sink(MessageType.BLOCK_INFO, {"executor_label": "htex", "block_id": "0", "status": "RUNNING"})
    hub.close()
    assert radio.events == [("started", True), ("shut down",)]

    conn = sqlite3.connect(db)
    assert conn.execute("select task_status_name, hostname from task").fetchone() == ("exec_done", "n1")
    assert sorted(r[0] for r in conn.execute("select task_status_name from status")) == \
        sorted(["pending", "launched", "running", "running_ended", "exec_done"])
    assert conn.execute("select psutil_process_pid, psutil_process_cpu_percent from resource").fetchone() == (77, 60.0)
    assert conn.execute("select count(*) from block").fetchone()[0] == 1
    conn.close()


def test_a_plain_callable_gets_parsl_messages():
    got = []
    target = got.append
    sink = as_sink(lambda k, body: target((k, body)))
    assert isinstance(sink, CallableSink) and as_sink(sink) is sink and as_sink(None) is None
    assert as_sink(sink.target, sink) is sink          # reused: it remembers the workers' hellos
    hello = {"worker_key": 5, "hostname": "n1", "block_id": "0", "pid": 77, "total_memory": 1000}
    sink.worker_batch("hx", records.join_frames([
        records.encode_message(records.WORKER_HELLO, hello),
        records.encode_message(MessageType.RESOURCE_INFO, {"executor_task_id": 3})]))
    blob = records.pack_task_end(3, 5, 1.0, 2.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0,
                                 records.NO_SAMPLE, records.STATUS_RUNNING)
    sink.task_ends("hx", blob + records.pack_task_end(4, 6, 1.0, 2.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0))
    # the hello is not a Parsl message; the record of a worker that never said hello is dropped
    (resource, (kind, info)) = got
    assert resource == (MessageType.RESOURCE_INFO, {"executor_task_id": 3, "executor_label": "hx"})
    assert kind is MessageType.WORKER_TASK_INFO and info["hostname"] == "n1"
    assert info["executor_task_id"] == 3 and info["executor_label"] == "hx" and "resource" not in info
