"""BatchBuilder: events in, merged rows out (pure, no threads)."""
import datetime
import re
import time

from parsl._monitoring.events import BatchBuilder, dependency_ids, rows_as_dicts
from parsl.dataflow.states import States
from parsl.monitoring.message_type import MessageType

from monitoring_fakes import FakeFuture, FakeRecord


def feed(builder, rec, *states):
    for s in states:
        builder.add((rec, s, time.time(), rec.try_id, rec.fail_count))


def test_a_task_seen_start_to_end_in_one_batch_is_one_task_row():
    b = BatchBuilder("r", in_process_executors=["threads"])
    rec = FakeRecord(3, func_name="double", depends=[FakeFuture(1), FakeFuture(2)])
    feed(b, rec, States.pending, States.launched, States.exec_done)
    batch = b.take()
    assert len(batch.tasks) == 1
    row = rows_as_dicts("task", batch.tasks)[0]
    assert row["task_id"] == 3 and row["run_id"] == "r"
    assert row["task_func_name"] == "double"
    assert row["task_depends"] == "1,2"
    assert row["task_status_name"] == "exec_done"
    # tutorial-era columns are filled
    assert row["task_time_submitted"] == row["task_time_invoked"]
    assert row["task_time_running"] is not None and row["task_time_returned"] is not None
    # a thread runs the task at its launch: "running"/"running_ended" as Parsl's thread pool records them
    assert [s["task_status_name"] for s in rows_as_dicts("status", batch.status)] == [
        "pending", "launched", "running", "running_ended", "exec_done"]
    assert len(batch.tries) == 1 and rows_as_dicts("try", batch.tries)[0]["task_try_time_launched"] is not None
    assert batch.completed == {"r": 1} and batch.failed == {}


def test_an_in_process_task_in_flight_is_running():
    b = BatchBuilder("r", in_process_executors=["threads"])
    feed(b, FakeRecord(5), States.pending, States.launched)
    assert rows_as_dicts("task", b.take().tasks)[0]["task_status_name"] == "running"


def test_an_in_process_task_that_never_launched_gets_no_running_rows():
    b = BatchBuilder("r", in_process_executors=["threads"])
    rec = FakeRecord(4)
    rec.fail_history = ["boom"]
    feed(b, rec, States.pending, States.failed)
    names = [s["task_status_name"] for s in rows_as_dicts("status", b.take().status)]
    assert names == ["pending", "failed"]


def test_retry_makes_two_tries_and_counts_failure_once():
    b = BatchBuilder("r")
    rec = FakeRecord(0, executor="htex")
    feed(b, rec, States.pending, States.launched)
    rec.fail_count, rec.fail_history = 1, ["ValueError('x')"]
    feed(b, rec, States.fail_retryable)
    rec.try_id = 1
    feed(b, rec, States.launched)
    rec.fail_count, rec.fail_history = 2, ["ValueError('x')", "ValueError('y')"]
    feed(b, rec, States.failed)
    batch = b.take()
    tries = sorted(rows_as_dicts("try", batch.tries), key=lambda t: t["try_id"])
    assert [t["try_id"] for t in tries] == [0, 1]
    assert all(t["task_try_time_returned"] is not None for t in tries)
    assert tries[1]["task_fail_history"] == "ValueError('y')"
    assert rows_as_dicts("task", batch.tasks)[0]["task_fail_count"] == 2
    assert batch.failed == {"r": 1}
    # a remote executor: no worker said "running", so no running time is invented here
    assert "task_time_running" not in rows_as_dicts("task", batch.tasks)[0]


def test_memo_hit_and_dep_fail_make_no_try():
    b = BatchBuilder("r")
    rec = FakeRecord(0)
    rec.from_memo = True
    feed(b, rec, States.pending, States.memo_done)
    rec2 = FakeRecord(1)
    feed(b, rec2, States.pending, States.dep_fail)
    batch = b.take()
    assert rows_as_dicts("try", batch.tries) == []
    assert batch.completed == {"r": 1} and batch.failed == {"r": 1}


def test_worker_messages_resolved_through_executor_task_id_even_if_early():
    b = BatchBuilder("r")
    rec = FakeRecord(7, executor="htex")
    rec.try_id = 2
    fut = FakeFuture(7)
    fut.parsl_executor_task_id = 100
    rec.exec_fu = fut
    now = datetime.datetime.now()
    # the worker's start message overtakes the DFK's "launched" event
    b.add((MessageType.WORKER_TASK_INFO, {"executor_task_id": 100, "executor_label": "htex",
                                          "first_msg": True, "timestamp": now,
                                          "hostname": "h1", "block_id": 0}))
    first = b.take()
    assert rows_as_dicts("status", first.status) == []
    feed(b, rec, States.pending, States.launched)
    b.add((MessageType.RESOURCE_INFO, {"executor_task_id": 100, "timestamp": now,
                                       "psutil_process_memory_resident": 5.0}))
    batch = b.take()
    feed(b, rec, States.exec_done)
    batch2 = b.take()
    names = [s["task_status_name"]
             for s in rows_as_dicts("status", batch.status) + rows_as_dicts("status", batch2.status)]
    assert "running" in names
    assert (rows_as_dicts("resource", batch.resource)[0]["task_id"] == 7
            and rows_as_dicts("resource", batch.resource)[0]["try_id"] == 2)
    running = [r for r in rows_as_dicts("task", batch.tasks) if r.get("task_time_running")]
    assert running and running[0]["hostname"] == "h1"
    assert [t for t in rows_as_dicts("try", batch.tries) if t.get("block_id") == "0"]


def test_late_running_message_does_not_undo_a_final_state():
    b = BatchBuilder("r")
    rec = FakeRecord(1, executor="htex")
    feed(b, rec, States.pending, States.launched, States.exec_done)
    b.take()
    b.add((MessageType.WORKER_TASK_INFO, {"task_id": 1, "try_id": 0, "first_msg": True,
                                          "timestamp": time.time()}))
    batch = b.take()
    assert "task_status_name" not in rows_as_dicts("task", batch.tasks)[0]
    assert b._live_state == {}


def test_live_state_follows_transitions_and_forgets_final_tasks():
    b = BatchBuilder("r")
    recs = [FakeRecord(i) for i in range(3)]
    for r in recs:
        feed(b, r, States.pending)
    feed(b, recs[0], States.launched)
    feed(b, recs[1], States.launched, States.exec_done)
    assert b._live_state == {0: "launched", 2: "pending"}


def test_block_node_and_foreign_task_messages():
    from parsl.jobs.states import JobState
    b = BatchBuilder("r")
    b.add((MessageType.BLOCK_INFO, {"executor_label": "htex", "block_id": 0, "job_id": 1234,
                                    "status": JobState.PENDING, "timestamp": time.time()}))
    b.add((MessageType.NODE_INFO, {"hostname": "n1", "uid": "abc", "block_id": "0", "cpu_count": 2,
                                   "worker_count": 2, "active": True, "timestamp": time.time(),
                                   "unknown_key": 1}))
    b.add((MessageType.TASK_INFO, {"task_id": 9, "task_func_name": "ext", "task_status_name": "pending"}))
    batch = b.take()
    assert (rows_as_dicts("block", batch.block)[0]["status"] == "PENDING"
            and rows_as_dicts("block", batch.block)[0]["job_id"] == "1234")
    assert rows_as_dicts("node", batch.node)[0]["reg_time"] == rows_as_dicts("node", batch.node)[0]["timestamp"]
    assert "unknown_key" not in rows_as_dicts("node", batch.node)[0]
    assert (rows_as_dicts("task", batch.tasks)[0]["task_func_name"] == "ext"
            and rows_as_dicts("status", batch.status)[0]["task_id"] == 9)


def test_dependency_ids_accepts_futures_records_and_ints():
    class WithRecord:
        task_record = {"id": 5}
    assert dependency_ids([FakeFuture(1), WithRecord(), 7]) == "1,5,7"
    assert dependency_ids([]) is None


def test_one_combined_worker_message_gives_running_ended_and_a_sample():
    b = BatchBuilder("r")
    rec = FakeRecord(4, executor="htex")
    fut = FakeFuture(4)
    fut.parsl_executor_task_id = 9
    rec.exec_fu = fut
    feed(b, rec, States.pending, States.launched)
    b.add((MessageType.WORKER_TASK_INFO, {
        "executor_task_id": 9, "first_msg": True, "last_msg": True, "timestamp": 1000.0,
        "end_timestamp": 1000.5, "hostname": "w", "block_id": "1",
        "resource": {"executor_task_id": 9, "timestamp": 1000.5, "psutil_process_cpu_percent": 12.0}}))
    feed(b, rec, States.exec_done)
    batch = b.take()
    names = [s["task_status_name"] for s in rows_as_dicts("status", batch.status)]
    assert names == ["pending", "launched", "running", "running_ended", "exec_done"]
    assert (rows_as_dicts("resource", batch.resource)[0]["task_id"] == 4
            and rows_as_dicts("resource", batch.resource)[0]["hostname"] == "w")
    assert rows_as_dicts("task", batch.tasks)[0]["task_status_name"] == "exec_done"


def test_monitoring_never_triggers_lifted_attribute_access():
    """AppFuture turns unknown attribute reads into new tasks; monitoring must not read any."""
    lifted = []

    class Lifting:
        def __init__(self, tid):
            self.tid = tid

        def __getattr__(self, name):
            lifted.append(name)
            return Lifting(-1)

    b = BatchBuilder("r")
    rec = FakeRecord(5, depends=[Lifting(1)], kwargs={"inputs": [Lifting(1), Lifting(2)], "stdout": Lifting(3)})
    rec.exec_fu = Lifting(9)
    feed(b, rec, States.pending, States.launched, States.exec_done)
    row = rows_as_dicts("task", b.take().tasks)[0]
    assert lifted == []
    assert re.fullmatch(r"\[<\S+Lifting object at 0x[0-9a-f]+>, <\S+Lifting object at 0x[0-9a-f]+>\]",
                        row["task_inputs"]), row["task_inputs"]
    assert row["task_depends"] == "1"


def _through_the_writer_path(builder, items):
    """What the hub's sink and the kernel (queue), the router (compact, in the user process)
    and the writer process (decode, add_wire) do.  ``items``: task events as the kernel
    queues them, Parsl messages, or ("batch", label, bytes) for a worker batch."""
    from parsl._monitoring.compact import compact_events
    from parsl._monitoring.router import QueueSink
    from parsl._sampling import records
    queue = []
    sink = QueueSink(queue.extend)
    for i in items:
        if isinstance(i[0], MessageType):
            sink.send(*i)
        elif i[0] == "batch":
            sink.worker_batch(i[1], i[2])
        else:
            queue.extend(i)
    flat = []
    compact_events(flat, queue)             # the router reads the records when it flushes
    _, data = records.encode_chunk(flat, False)
    for item in records.decode_chunk(data):
        builder.add_wire(item)


def test_retried_try_keeps_its_worker_samples_although_the_record_moved_on():
    """The router reads records after the fact: by then a retry has replaced exec_fu."""
    b = BatchBuilder("r")
    rec = FakeRecord(5, executor="htex")
    items = []

    def change(state):
        items.append((rec, state, time.time(), rec.try_id, rec.fail_count, rec.exec_fu))

    change(States.pending)
    change(States.launched)
    rec.exec_fu = FakeFuture(5)
    rec.exec_fu.parsl_executor_task_id = 11          # first try on the executor
    rec.fail_count, rec.fail_history = 1, ["WorkerLost()"]
    change(States.fail_retryable)
    rec.try_id, rec.exec_fu = 1, None
    change(States.pending)
    change(States.launched)
    rec.exec_fu = FakeFuture(5)
    rec.exec_fu.parsl_executor_task_id = 12          # second try
    rec.time_returned = time.time()
    change(States.exec_done)
    worker = [(MessageType.RESOURCE_INFO, {"executor_task_id": etid, "executor_label": "htex",
                                           "timestamp": time.time(), "psutil_process_memory_resident": etid})
              for etid in (11, 12)]
    _through_the_writer_path(b, items + worker)
    batch = b.take()
    got = sorted((r["try_id"], r["psutil_process_memory_resident"]) for r in rows_as_dicts("resource", batch.resource))
    assert got == [(0, 11), (1, 12)]
    assert sorted(t["try_id"] for t in rows_as_dicts("try", batch.tries)) == [0, 1]


def test_encoded_worker_batches_are_opened_in_the_writer_and_labelled():
    from parsl._sampling import records
    b = BatchBuilder("r")
    rec = FakeRecord(8, executor="htex")
    rec.exec_fu = FakeFuture(8)
    rec.exec_fu.parsl_executor_task_id = 3
    msg = (MessageType.WORKER_TASK_INFO, {"executor_task_id": 3, "first_msg": True, "last_msg": True,
                                          "timestamp": 1000.0, "end_timestamp": 1000.1, "hostname": "n",
                                          "resource": {"timestamp": 1000.1, "psutil_process_cpu_percent": 1.0}})
    payload = records.join_frames([records.encode_message(*msg)])
    events = [(rec, s, time.time(), 0, 0, rec.exec_fu) for s in (States.pending, States.launched)]
    _through_the_writer_path(b, events + [("batch", "htex", payload)])
    batch = b.take()
    assert ([s["task_status_name"] for s in rows_as_dicts("status", batch.status)]
            == ["pending", "launched", "running", "running_ended"])
    assert (rows_as_dicts("resource", batch.resource)[0]["task_id"] == 8
            and rows_as_dicts("resource", batch.resource)[0]["psutil_process_cpu_percent"] == 1.0)


def _task_row(**kwargs):
    b = BatchBuilder("r")
    feed(b, FakeRecord(1, kwargs=kwargs), States.pending)
    return rows_as_dicts("task", b.take().tasks)[0]


def _no_addresses(text):
    return re.sub(r"0x[0-9a-f]+", "0x?", text)


def test_task_columns_without_arguments_read_as_parsl_writes_them():
    row = _task_row()
    assert (row["task_inputs"], row["task_outputs"], row.get("task_stdin"), row["task_stdout"],
            row["task_stderr"], row["task_depends"], row["task_memoize"]) == (
        "None", "None", None, "", "", "", "0")


def test_task_inputs_and_outputs_are_str_of_the_argument_with_parsls_reprs():
    from parsl._base.futures import DataFuture, LightFuture
    from parsl.data_provider.files import File

    staged = File("globus://ep/p/q.txt")
    staged.local_path = "/l/q.txt"
    pending = DataFuture(LightFuture(), File("o.txt"))
    done = DataFuture(None, File("/d/o.txt"))
    done.set_result(done.file_obj)
    row = _task_row(inputs=[1, "a", File("x.txt"), (1,), (1, 2), {"k": None}, b"x", 2.5, [True]],
                    outputs=[staged, pending, done])
    assert _no_addresses(row["task_inputs"]) == (
        "[1, 'a', <File at 0x? url=x.txt scheme=file netloc= path=x.txt filename=x.txt>, (1,), (1, 2),"
        " {'k': None}, b'x', 2.5, [True]]")
    assert _no_addresses(row["task_outputs"]) == (
        "[<File at 0x? url=globus://ep/p/q.txt scheme=globus netloc=ep path=/p/q.txt filename=q.txt"
        " local_path=/l/q.txt>, <parsl.app.futures.DataFuture object at 0x? representing <File at 0x?"
        " url=o.txt scheme=file netloc= path=o.txt filename=o.txt> not done>,"
        " <parsl.app.futures.DataFuture object at 0x? representing <File at 0x? url=/d/o.txt scheme=file"
        " netloc= path=/d/o.txt filename=o.txt> done>]")
    assert _task_row(inputs=[], outputs="abc")["task_inputs"] == "[]"
    assert _task_row(inputs="abc")["task_inputs"] == "abc"
    assert _task_row(inputs=File("x.txt"))["task_inputs"] == "x.txt"


def test_task_memoize_reads_1_for_a_cached_app():
    b = BatchBuilder("r")
    rec = FakeRecord(1)
    rec.memoize = True
    feed(b, rec, States.pending)
    assert rows_as_dicts("task", b.take().tasks)[0]["task_memoize"] == "1"
