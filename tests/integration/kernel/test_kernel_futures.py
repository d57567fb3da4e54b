"""AppFuture and DataFuture API, cancel() of tasks that have not started, lifted operators."""
import concurrent.futures as cf
import threading

import pytest

from parsl import python_app
from parsl.app.futures import DataFuture
from parsl.data_provider.files import File
from parsl.dataflow.errors import DependencyError
from parsl.dataflow.futures import AppFuture
from parsl.dataflow.states import States
from parsl.executors.threads import ThreadPoolExecutor

from kernel_helpers import DEADLINE, threads_config


@python_app
def identity(x):
    return x


@python_app
def wait_for(gate, value=None):
    if not gate.wait(DEADLINE):
        raise TimeoutError("test gate never opened")
    return value


def test_app_future_api(dfk):
    fut = identity(5)
    assert isinstance(fut, AppFuture) and isinstance(fut, cf.Future)
    assert fut.result(timeout=DEADLINE) == 5
    assert fut.tid == fut.task_record.id == fut.task_record["id"]
    assert fut.task_def is fut.task_record
    assert fut.outputs == []
    assert fut.stdout is None and fut.stderr is None
    assert fut.task_status() == "exec_done"
    assert f"task_id={fut.tid}" in repr(fut) and "identity" in repr(fut)


def test_task_ids_count_up_from_zero(dfk):
    ids = [identity(i).tid for i in range(5)]
    assert ids == [0, 1, 2, 3, 4]


def test_task_status_follows_the_task(dfk):
    gate = threading.Event()
    first = wait_for(gate)
    second = identity(first)
    assert second.task_status() == "pending"
    gate.set()
    second.result(timeout=DEADLINE)
    assert first.task_status() == "exec_done" and second.task_status() == "exec_done"


def test_task_record_times_and_counts(dfk):
    fut = identity(1)
    fut.result(timeout=DEADLINE)
    rec = fut.task_record
    assert rec["time_invoked"] <= rec["try_time_launched"] <= rec["try_time_returned"] <= rec["time_returned"]
    assert rec["fail_count"] == 0 and rec["try_id"] == 0 and rec["status"] is States.exec_done
    assert dfk.task_state_counts[States.exec_done] == 1


def test_futures_work_with_wait_and_as_completed(dfk):
    futs = [identity(i) for i in range(30)]
    done, not_done = cf.wait(futs, timeout=DEADLINE)
    assert not not_done
    assert sorted(f.result() for f in cf.as_completed(futs, timeout=DEADLINE)) == list(range(30))


def test_garbage_collect_drops_finished_records(load):
    d = load()
    fut = identity(1)
    fut.result(timeout=DEADLINE)
    assert fut.tid not in d.tasks
    assert fut.task_record.status is States.exec_done  # still reachable from the future


def test_garbage_collect_off_keeps_records(load):
    d = load(garbage_collect=False)
    fut = identity(1)
    fut.result(timeout=DEADLINE)
    assert d.tasks[fut.tid] is fut.task_record


# -- cancel ---------------------------------------------------------------------------------------

def test_cancel_a_task_waiting_on_a_dependency(dfk):
    gate = threading.Event()
    upstream = wait_for(gate, 1)
    target = identity(upstream)
    downstream = identity(target)
    assert target.cancel() is True
    assert target.cancelled() and target.done()
    with pytest.raises(cf.CancelledError):
        target.result()
    with pytest.raises(DependencyError) as ei:
        downstream.result(timeout=DEADLINE)
    assert "cancelled" in str(ei.value)
    assert f"task {target.tid}" in str(ei.value)
    assert downstream.task_status() == "dep_fail"
    gate.set()
    assert upstream.result(timeout=DEADLINE) == 1  # upstream unaffected
    assert target.cancel() is True  # idempotent


def test_cancel_a_task_queued_behind_a_busy_pool(load):
    load(threads_config(executors=[ThreadPoolExecutor(label="threads", max_threads=1)]))
    gate = threading.Event()
    ran = []

    @python_app
    def record(x):
        ran.append(x)
        return x
    busy = wait_for(gate)
    queued = record("queued")
    assert queued.task_status() == "launched"
    assert queued.cancel() is True
    assert queued.cancelled()
    gate.set()
    busy.result(timeout=DEADLINE)
    assert record("after").result(timeout=DEADLINE) == "after"
    assert ran == ["after"]  # the cancelled task never ran


def test_running_and_finished_tasks_cannot_be_cancelled(dfk):
    started = threading.Event()
    gate = threading.Event()

    @python_app
    def running():
        started.set()
        gate.wait(DEADLINE)
        return "ran"
    fut = running()
    assert started.wait(DEADLINE)
    assert fut.cancel() is False
    gate.set()
    assert fut.result(timeout=DEADLINE) == "ran"
    assert fut.cancel() is False and not fut.cancelled()


def test_cancelled_task_counts_as_done_for_wait_for_current_tasks(dfk):
    gate = threading.Event()
    up = wait_for(gate)
    target = identity(up)
    target.cancel()
    gate.set()
    dfk.wait_for_current_tasks()
    assert up.done() and target.cancelled()


# -- DataFuture ------------------------------------------------------------------------------------

def test_data_future_api(dfk, tmp_path):
    @python_app
    def write(outputs=()):
        with open(outputs[0], "w") as fh:
            fh.write("data")
        return "wrote"
    target = File(str(tmp_path / "out.txt"))
    fut = write(outputs=[target])
    assert len(fut.outputs) == 1
    df = fut.outputs[0]
    assert isinstance(df, DataFuture) and isinstance(df, cf.Future)
    assert df.tid == fut.tid
    assert df.file_obj is target
    assert df.filepath == df.filename == str(tmp_path / "out.txt")
    assert df.result(timeout=DEADLINE) is target
    assert fut.result() == "wrote"
    assert open(df.filepath).read() == "data"
    assert df.cancel() is False
    assert "out.txt" in repr(df)


def test_data_future_fails_with_its_parent(dfk, tmp_path):
    @python_app
    def fail(outputs=()):
        raise OSError("disk full")
    fut = fail(outputs=[File(str(tmp_path / "never.txt"))])
    with pytest.raises(OSError, match="disk full"):
        fut.outputs[0].result(timeout=DEADLINE)


def test_data_futures_feed_downstream_apps(dfk, tmp_path):
    @python_app
    def write(text, outputs=()):
        with open(outputs[0], "w") as fh:
            fh.write(text)

    @python_app
    def concat(inputs=()):
        return "".join(open(f).read() for f in inputs)
    parts = [write(c, outputs=[File(str(tmp_path / f"{c}.txt"))]) for c in "abc"]
    joined = concat(inputs=[p.outputs[0] for p in parts])
    assert joined.result(timeout=DEADLINE) == "abc"


def test_data_future_needs_a_file():
    with pytest.raises(ValueError, match="File"):
        DataFuture(None, "not-a-file")


# -- lifted operators ------------------------------------------------------------------------------

def test_lifted_getitem_and_getattr(dfk):
    class Point:
        def __init__(self):
            self.x = 3
    d = identity({"k": [10, 20]})
    item = d["k"]
    assert isinstance(item, AppFuture)
    assert item[1].result(timeout=DEADLINE) == 20
    p = identity(Point())
    assert p.x.result(timeout=DEADLINE) == 3
    assert item.task_record.executor == "_parsl_internal"


def test_lifted_errors_fail_the_derived_future(dfk):
    d = identity({})
    with pytest.raises(KeyError):
        d["missing"].result(timeout=DEADLINE)
    with pytest.raises(AttributeError):
        identity(1).no_such_attribute.result(timeout=DEADLINE)


def test_private_names_are_not_lifted(dfk):
    fut = identity(1)
    with pytest.raises(AttributeError):
        fut._no_such_private
    fut.result(timeout=DEADLINE)


def test_concurrent_submission_from_many_threads(dfk):
    per_thread, n_threads = 300, 4
    barrier = threading.Barrier(n_threads)
    results = [None] * n_threads

    def submitter(k):
        barrier.wait(DEADLINE)
        fut = identity(0)
        futs = []
        for i in range(per_thread):
            futs.append(identity(i))
            fut = identity(fut)  # a chain per thread as well
        results[k] = (futs, fut)
    threads = [threading.Thread(target=submitter, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    all_futs = []
    for futs, tail in results:
        assert [f.result(timeout=DEADLINE) for f in futs] == list(range(per_thread))
        assert tail.result(timeout=DEADLINE) == 0
        all_futs.extend(futs)
        all_futs.append(tail)
    expected = n_threads * (2 * per_thread + 1)
    assert dfk.task_count == expected
    assert len({f.tid for f in all_futs}) == len(all_futs)
    dfk.wait_for_current_tasks()
    assert dfk.task_state_counts[States.exec_done] == expected
    assert sum(dfk.task_state_counts.values()) == expected


def test_cancelling_a_task_cancels_its_output_data_futures(dfk, tmp_path):
    gate = threading.Event()
    up = wait_for(gate, 1)

    @python_app
    def write(x, outputs=()):
        open(outputs[0], "w").write(str(x))
    w = write(up, outputs=[File(str(tmp_path / "never.txt"))])
    reader = identity(w.outputs[0])
    assert w.cancel() is True
    assert w.outputs[0].cancelled()
    with pytest.raises(DependencyError, match="cancelled"):
        reader.result(timeout=DEADLINE)
    gate.set()
    up.result(timeout=DEADLINE)
    assert not (tmp_path / "never.txt").exists()


def test_app_futures_can_be_awaited_from_asyncio(dfk):
    import asyncio

    async def gather():
        return await asyncio.gather(*(asyncio.wrap_future(identity(i)) for i in range(5)))
    assert asyncio.run(gather()) == [0, 1, 2, 3, 4]
