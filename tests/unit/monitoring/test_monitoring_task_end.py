"""The binary end-of-task record: packed by the worker, carried inside the result record,
read back as exactly the message (and the rows) the worker's figures mean."""
import pickle
import time
from concurrent.futures import Future

from parsl._base.monitoring_sink import MonitoringSink
from parsl._htex import protocol
from parsl._monitoring.events import BatchBuilder, rows_as_dicts
from parsl._sampling import records as task_end
from parsl._sampling.records import Kind
from parsl._sampling.sampler import TaskResourceMonitor, running_task
from parsl.dataflow.states import States
from parsl.monitoring.message_type import MessageType

from monitoring_fakes import FakeFuture, FakeRecord


def _sample(wall, cpu, rss=1000, children=0, status="running"):
    return {"wall": wall, "cpu": cpu, "user": cpu * 0.75, "system": cpu * 0.25, "rss": rss, "vms": 5000,
            "read": 10.0 * wall, "write": 2.0 * wall, "vol": int(wall), "invol": 1, "children": children,
            "status": status, "cpu_num": 1}


class FixedSampler:
    """Returns the samples it is given, in order (no /proc reads: the values are known)."""

    def __init__(self, samples):
        self.samples = list(samples)

    def read(self):
        return self.samples.pop(0)

    read_final = read

    def close(self):
        pass


def _monitor(samples, sent=None):
    mon = TaskResourceMonitor(lambda *m: (sent if sent is not None else []).append(m), 1.0,
                              hostname="h", block_id=2)
    mon.sampler.close()
    mon.sampler = FixedSampler(samples)
    mon._pid = 1234
    mon._last = _sample(100.0, 4.0)
    # What task_started records, at a fixed start time and without the sampler thread.
    mon._task = running_task({"executor_task_id": 7}, 105.0, mon._last)
    return mon


def test_record_reads_back_as_the_message_task_finished_sends():
    mon = _monitor([_sample(110.0, 9.0, rss=2048)])
    record = mon.task_end(7)
    kind, hello = mon.hello()
    mon.close()
    assert kind == task_end.WORKER_HELLO and len(record) == task_end.TASK_END_SIZE < 120
    sent = []
    mon2 = _monitor([_sample(110.0, 9.0, rss=2048)], sent)
    mon2.worker_key = mon.worker_key
    mon2.task_finished()
    mon2.close()
    ((_, expected),) = sent
    ((mtype, got),) = [task_end.task_end_message(f, hello) for f in task_end.iter_task_ends(record)]
    assert mtype is MessageType.WORKER_TASK_INFO
    expected["resource"]["psutil_process_memory_percent"] = got["resource"]["psutil_process_memory_percent"]
    assert got == expected


def test_record_holds_per_task_deltas_and_cpu_percent():
    mon = _monitor([_sample(110.0, 9.0, rss=2048, children=1, status="sleeping")])
    fields = task_end.TASK_END.unpack(mon.task_end(7))
    mon.close()
    (etid, key, start, end, user, system, pct, rss, vms, rd, wr, vol, invol, cpu_num, children,
     first, status) = fields
    assert (etid, key, start, end) == (7, mon.worker_key, 105.0, 110.0)
    assert (user, system) == (5.0 * 0.75, 5.0 * 0.25)       # CPU since the task's baseline
    # CPU over wall time of one interval: both since the base sample (the previous end, at 100)
    assert pct == 100.0 * 5.0 / 10.0
    assert (rss, rd, wr, vol, children, first) == (2048, 100, 20, 10, 1, 1)
    assert task_end.status_name(status) == "sleeping" and cpu_num == 1


def test_no_started_task_gives_no_record():
    mon = _monitor([])
    mon._task = None
    assert mon.task_end(1) == b""
    mon.close()


def test_writer_turns_records_into_status_try_and_resource_rows():
    mon = _monitor([_sample(110.0, 9.0, rss=2048)])
    record = mon.task_end(7)
    hello = mon.hello()
    mon.close()
    b = BatchBuilder("r")
    rec = FakeRecord(3, executor="htex")
    rec.exec_fu = FakeFuture(3)
    rec.exec_fu.parsl_executor_task_id = 7
    b.add((Kind.WORKER_BATCH, "htex", task_end.join_frames([task_end.encode_message(*hello)])))
    for s in (States.pending, States.launched):
        b.add((rec, s, time.time(), 0, 0, rec.exec_fu))
    rec.time_returned = time.time()
    b.add((rec, States.exec_done, time.time(), 0, 0, rec.exec_fu))
    b.add((Kind.TASK_ENDS, "htex", record))      # arrives after the result it rode in
    batch = b.take()
    status = rows_as_dicts("status", batch.status)
    assert [s["task_status_name"] for s in status] == ["pending", "launched", "exec_done", "running",
                                                       "running_ended"]
    assert status[-1]["hostname"] == "h"
    (task,) = rows_as_dicts("task", batch.tasks)
    assert task["task_status_name"] == "exec_done"      # the late start does not move it back
    assert task["task_time_running"].endswith(".000000") and task["hostname"] == "h"
    (t,) = rows_as_dicts("try", batch.tries)
    assert t["block_id"] == "2" and t["hostname"] == "h" and t["task_try_time_running"]
    (r,) = rows_as_dicts("resource", batch.resource)
    assert r["task_id"] == 3 and r["try_id"] == 0 and r["psutil_process_pid"] == 1234
    assert r["psutil_process_memory_resident"] == 2048 and r["psutil_process_cpu_percent"] == 50.0


def test_a_record_before_its_try_is_known_waits_for_it():
    mon = _monitor([_sample(110.0, 9.0)])
    record = mon.task_end(7)
    hello = mon.hello()
    mon.close()
    b = BatchBuilder("r")
    b.add(hello)
    b.add((Kind.TASK_ENDS, "htex", record))
    assert b.take().resource == []
    rec = FakeRecord(3, executor="htex")
    rec.exec_fu = FakeFuture(3)
    rec.exec_fu.parsl_executor_task_id = 7
    b.add((rec, States.launched, time.time(), 0, 0, rec.exec_fu))
    assert len(b.take().resource) == 1       # resolved as soon as the launch is known


def test_htex_gives_sinks_other_than_the_hub_parsl_messages():
    from parsl.executors import HighThroughputExecutor
    mon = _monitor([_sample(110.0, 9.0)])
    record = mon.task_end(7)
    hello = mon.hello()
    mon.close()
    got = []
    ex = HighThroughputExecutor(label="hx")
    ex.monitoring_messages = lambda k, body: got.append((k, body))     # plain callable
    fut = Future()
    ex._tasks[7] = fut
    ex._on_results([protocol.encode_result(0, protocol.OUTCOME_MONITORING, task_end.encode_message(*hello)),
                    protocol.encode_result(7, protocol.OUTCOME_RESULT, pickle.dumps(42), record)])
    assert fut.result() == 42
    ((k, body),) = got
    assert k is MessageType.WORKER_TASK_INFO and body["executor_label"] == "hx"
    assert body["executor_task_id"] == 7 and body["resource"]["psutil_process_pid"] == 1234


def test_htex_strips_the_records_and_hands_them_to_the_hub_unopened():
    from parsl.executors import HighThroughputExecutor
    mon = _monitor([_sample(110.0, 9.0)])
    record = mon.task_end(7)
    mon.close()
    got = []

    class HubSink(MonitoringSink):
        def send(self, k, body):
            raise AssertionError("the hub's task_ends should have been used")

        worker_batch = send

        def task_ends(self, label, data):
            got.append((label, bytes(data)))
    ex = HighThroughputExecutor(label="hx")
    ex.monitoring_messages = HubSink()
    futs = [Future(), Future()]
    ex._tasks[7], ex._tasks[8] = futs
    ex._on_results([protocol.encode_result(7, protocol.OUTCOME_EXCEPTION, pickle.dumps(_Wrapped()), record),
                    protocol.encode_result(8, protocol.OUTCOME_RESULT, pickle.dumps("x"), record)])
    assert isinstance(futs[0].exception(), KeyError) and futs[1].result() == "x"
    assert got == [("hx", record + record)]      # one hand-over per batch of results


class _Wrapped:
    def get_exception(self):
        return KeyError("k")


def _as_if_childless(monkeypatch, mon):
    """The light end-of-task paths apply only while the worker has no live child; this
    test process may have one (multiprocessing's resource tracker, started by an earlier
    test), so these tests look at the worker as if it had none."""
    monkeypatch.setattr(mon.sampler._fast, "children", lambda: [])


def test_short_tasks_read_cpu_only_until_the_full_sample_is_old(monkeypatch):
    from parsl._sampling import sampler as resources
    mon = TaskResourceMonitor(lambda *a: None, 1.0, hostname="h")
    _as_if_childless(monkeypatch, mon)
    full = []
    real_full = mon.sampler.read_final
    monkeypatch.setattr(mon.sampler, "read_final", lambda: full.append(clock[0]) or dict(real_full(), wall=clock[0]))
    clock = [1000.0]
    monkeypatch.setattr(resources, "_time", lambda: clock[0])
    try:
        ends = []
        for step in (0.0, 0.001, 0.001, resources.FULL_SAMPLE_EVERY, 0.001):
            clock[0] += step
            mon.begin(1)
            fields = task_end.TASK_END.unpack(mon.task_end(1))
            assert fields[0] == 1 and fields[7] > 0            # memory is always there
            assert fields[4] >= 0 and fields[5] >= 0            # CPU since the task's start
            ends.append(fields[3])
        assert full == [ends[0], ends[3]]                       # the others read CPU only
        assert ends == sorted(ends)
    finally:
        mon.close()


def test_the_hub_knows_in_process_executors_from_the_config_before_the_kernel_registers_them():
    import types

    from parsl.executors import HighThroughputExecutor, ThreadPoolExecutor
    from parsl.monitoring.monitoring import _executors_of
    threads, htex = ThreadPoolExecutor(label="t"), HighThroughputExecutor(label="h")
    dfk = types.SimpleNamespace(config=types.SimpleNamespace(executors=[threads, htex]), executors={})
    got = dict(_executors_of(dfk))
    assert got == {"t": threads, "h": htex}
    assert [label for label, ex in got.items() if ex.runs_in_process] == ["t"]


def test_a_cpu_only_end_sample_still_counts_a_reaped_child(monkeypatch):
    import subprocess
    import sys

    from parsl._sampling import sampler as resources
    monkeypatch.setattr(resources, "FULL_SAMPLE_EVERY", 3600.0)     # always the CPU-only sample
    mon = TaskResourceMonitor(lambda *a: None, 1.0, hostname="h")
    _as_if_childless(monkeypatch, mon)
    try:
        mon.begin(1)
        mon.task_end(1)                     # the first end is a full sample; the next are not
        mon.begin(2)
        subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)
        fields = task_end.TASK_END.unpack(mon.task_end(2))
        child_cpu = fields[4] + fields[5]
        assert child_cpu >= 0.02, child_cpu     # the child's CPU, reaped during the task
        mon.begin(3)
        fields = task_end.TASK_END.unpack(mon.task_end(3))
        assert fields[4] + fields[5] < child_cpu   # and counted once
    finally:
        mon.close()


def test_with_resource_monitoring_off_tasks_still_report_start_and_end():
    mon = TaskResourceMonitor(lambda *a: None, None, hostname="h", block_id=1, sample_resources=False)
    try:
        hello = mon.hello()
        mon.begin(7)
        record = mon.task_end(7)
    finally:
        mon.close()
    fields = task_end.TASK_END.unpack(record)
    assert fields[15] == task_end.NO_SAMPLE | task_end.FIRST_MSG and fields[2] <= fields[3]
    ((_, msg),) = [task_end.task_end_message(f, hello[1]) for f in task_end.iter_task_ends(record)]
    assert msg["first_msg"] and msg["last_msg"] and "resource" not in msg
    b = BatchBuilder("r")
    b.add(hello)
    rec = FakeRecord(3, executor="htex")
    rec.exec_fu = FakeFuture(3)
    rec.exec_fu.parsl_executor_task_id = 7
    b.add((rec, States.launched, time.time(), 0, 0, rec.exec_fu))
    b.add((Kind.TASK_ENDS, "htex", record))
    batch = b.take()
    assert [s["task_status_name"] for s in rows_as_dicts("status", batch.status)] == ["launched", "running",
                                                                                      "running_ended"]
    assert batch.resource == []
    (t,) = rows_as_dicts("try", batch.tries)
    assert t["task_try_time_running"] and t["hostname"] == "h" and t["block_id"] == "1"


def test_tasks_ending_within_a_millisecond_of_the_last_read_pass_their_cpu_on(monkeypatch):
    """No counter is read for them (only the clock); the next task that reads the counters
    reports their CPU too, so the sum over tasks is what the worker spent."""
    from parsl._sampling import sampler as resources
    mon = TaskResourceMonitor(lambda *a: None, 1.0, hostname="h")
    _as_if_childless(monkeypatch, mon)
    clock = [1000.0]
    monkeypatch.setattr(resources, "_time", lambda: clock[0])
    real_full = mon.sampler.read_final
    monkeypatch.setattr(mon.sampler, "read_final", lambda: dict(real_full(), wall=clock[0]))
    cpu = [10.0]
    usage = type("Usage", (), {"ru_stime": 0.0, "ru_nvcsw": 5, "ru_nivcsw": 1})

    def getrusage(who):
        u = usage()
        u.ru_utime = cpu[0]
        return u
    from parsl._sampling import proc  # the full sample's light read (read_final) uses them too
    for module in (resources, proc):
        monkeypatch.setattr(module, "_getrusage", getrusage)
        monkeypatch.setattr(module, "_times", lambda: (0.0, 0.0, 0.0, 0.0, 0.0))   # no children
    try:
        mon.begin(0)
        mon.task_end(0)                                     # a full sample: the base
        mon._last = dict(mon._last, user=10.0, system=0.0, cpu=10.0)
        mon._children_cpu = (0.0, 0.0)
        got = []
        for etid, step in ((1, 0.0002), (2, 0.0002), (3, 0.0002), (4, resources.CPU_SAMPLE_EVERY)):
            mon.begin(etid)
            clock[0] += step
            cpu[0] += 0.0001                               # each task spends 100 us of CPU
            got.append(task_end.TASK_END.unpack(mon.task_end(etid)))
        assert [f[4] for f in got[:3]] == [0.0, 0.0, 0.0]   # carried: nothing read
        assert abs(got[3][4] - 0.0004) < 1e-9              # the reading task counts all four
        assert [f[3] for f in got] == sorted(f[3] for f in got) and got[3][3] == clock[0]
        assert [f[0] for f in got] == [1, 2, 3, 4] and all(f[7] > 0 for f in got)   # memory carried too
    finally:
        mon.close()


def test_short_tasks_next_to_a_live_child_process_still_report(monkeypatch):
    # A worker with a live descendant (a task's background process, multiprocessing's
    # resource tracker): full samples add the child's counters, so the light end-of-task
    # paths (this process alone) must not take such a sample as their base.  They did:
    # the context-switch delta went negative and packing it failed the task.
    import subprocess
    import sys

    from parsl._sampling import sampler as resources
    mon = TaskResourceMonitor(lambda *a: None, 1.0, hostname="h")
    clock = [1000.0]
    monkeypatch.setattr(resources, "_time", lambda: clock[0])
    real_full = mon.sampler.read_final
    monkeypatch.setattr(mon.sampler, "read_final", lambda: dict(real_full(), wall=clock[0]))
    child = subprocess.Popen([sys.executable, "-c", "import sys\nfor _ in range(20000): pass\nsys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        for step in (0.0, 0.0005, 0.002, 0.0005):
            clock[0] += step
            mon.begin(1)
            fields = task_end.TASK_END.unpack(mon.task_end(1))
            assert fields[4] >= 0 and fields[5] >= 0 and fields[11] >= 0 and fields[12] >= 0
            assert fields[14] >= 1                              # the live child is counted
    finally:
        child.communicate(b"")
        mon.close()
