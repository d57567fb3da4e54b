"""Worker-side resource sampling: one thread per worker, samples per task."""
import subprocess
import sys
import threading

import psutil

from parsl._sampling.proc import ProcessTreeSampler
from parsl._sampling.sampler import TaskResourceMonitor, resource_fields
from parsl.monitoring.message_type import MessageType


class Inbox:
    def __init__(self):
        self.messages = []
        self.arrived = threading.Event()

    def send(self, mtype, payload):
        self.messages.append((mtype, payload))
        self.arrived.set()

    def of(self, mtype):
        return [p for t, p in self.messages if t is mtype]


def test_short_task_sends_one_message_with_start_end_and_final_sample():
    inbox = Inbox()
    mon = TaskResourceMonitor(inbox.send, 1.0, hostname="h", block_id=3)
    try:
        mon.task_started(executor_task_id=42)
        mon.task_finished()
    finally:
        mon.close()
    assert len(inbox.messages) == 1
    mtype, msg = inbox.messages[0]
    assert mtype is MessageType.WORKER_TASK_INFO
    assert msg["first_msg"] and msg["last_msg"] and msg["executor_task_id"] == 42
    assert msg["hostname"] == "h" and msg["block_id"] == "3"
    assert msg["end_timestamp"] >= msg["timestamp"]
    res = msg["resource"]
    assert res["executor_task_id"] == 42 and res["psutil_process_memory_resident"] > 0
    assert 0 <= res["psutil_process_memory_percent"] < 100


def test_long_task_reports_running_then_periodic_samples_including_children():
    inbox = Inbox()
    mon = TaskResourceMonitor(inbox.send, 0.05)
    try:
        mon.task_started(task_id=1, try_id=0)
        # A child that burns CPU until we have seen two periodic samples of it.
        child = subprocess.Popen([sys.executable, "-c", "import sys\nwhile not sys.stdin.read(1): pass"],
                                 stdin=subprocess.PIPE)
        try:
            for _ in range(200):
                inbox.arrived.wait(5)
                inbox.arrived.clear()
                samples = inbox.of(MessageType.RESOURCE_INFO)
                if len([s for s in samples if s["psutil_process_children_count"] >= 1]) >= 2:
                    break
        finally:
            child.communicate(b"x")
        mon.task_finished()
    finally:
        mon.close()
    starts = [m for m in inbox.of(MessageType.WORKER_TASK_INFO) if m["first_msg"]]
    assert len(starts) == 1 and not starts[0]["last_msg"]
    end = [m for m in inbox.of(MessageType.WORKER_TASK_INFO) if m["last_msg"]][0]
    assert end["first_msg"] is False
    samples = inbox.of(MessageType.RESOURCE_INFO)
    assert any(s["psutil_process_children_count"] >= 1 for s in samples)
    # the child's CPU (reaped by now) counts toward the task
    assert end["resource"]["psutil_process_time_user"] + end["resource"]["psutil_process_time_system"] > 0
    assert all(s["task_id"] == 1 and s["try_id"] == 0 for s in samples)


def test_sampler_thread_ends_at_close_and_close_is_idempotent():
    mon = TaskResourceMonitor(lambda *a: None, 0.01)
    mon.task_started(task_id=1, try_id=0)
    mon.task_finished()
    mon.close()
    mon.close()
    assert not [t for t in threading.enumerate() if t.name == "parsl-resource-sampler"]


def test_fast_reader_agrees_with_psutil():
    s = ProcessTreeSampler()
    try:
        fast = s.read()
        user, system, rss, vms, *_ = s._read_psutil()
        assert abs(fast["user"] - user) < 0.5 and abs(fast["system"] - system) < 0.5
        assert abs(fast["rss"] - rss) < 64 * 1024 * 1024
        assert fast["vms"] > 0
    finally:
        s.close()


def test_cpu_percent_is_cpu_over_wall_and_usage_is_since_task_start():
    base = {"wall": 100.0, "cpu": 10.0, "user": 8.0, "system": 2.0, "read": 5, "write": 7, "vol": 1, "invol": 1}
    now = dict(base, wall=102.0, cpu=11.0, user=8.5, system=2.5, read=15, write=7, vol=4, invol=1,
               rss=1000, vms=2000, children=0, status="running", cpu_num=1)
    f = resource_fields(now, base, base, 2.0)
    assert f["psutil_process_cpu_percent"] == 50.0
    assert f["psutil_process_time_user"] == 0.5 and f["psutil_process_disk_read"] == 10
    assert f["psutil_process_num_ctx_switches_voluntary"] == 3


def test_end_of_task_sample_is_light_but_agrees_with_the_full_one():
    s = ProcessTreeSampler()
    try:
        # Children this process already has (Python's multiprocessing resource tracker,
        # once any test made a spawn-context queue) are counted too.
        before = len(psutil.Process().children(recursive=True))
        full = s.read()
        light = s.read_final()
        assert light["children"] == before and light["status"] == "running"
        assert light["cpu_num"] == full["cpu_num"]
        assert 0 <= light["cpu"] - full["cpu"] < 0.5          # same CPU sources: never backwards
        assert abs(light["rss"] - full["rss"]) < 64 * 1024 * 1024
        assert light["read"] >= full["read"] and light["vol"] >= full["vol"]
    finally:
        s.close()


def test_end_of_task_sample_counts_a_live_child():
    s = ProcessTreeSampler()
    before = len(psutil.Process().children(recursive=True))
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert s.read_final()["children"] == before + 1
    finally:
        child.communicate(b"")
        s.close()
