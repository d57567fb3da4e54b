"""Interchange and scaling decisions: dispatch, recall, loss, scale-in choice, selectors."""
import pytest

from parsl._htex.matching import (
    ManagerRecord,
    choose_direct,
    choose_dispatch,
    find_lost_managers,
    pipeline_extra,
    plan_recalls,
)
from parsl._htex.protocol import Registration
from parsl.executors.high_throughput.executor import choose_blocks_to_scale_in
from parsl.executors.high_throughput.manager_selector import BlockIdManagerSelector, RandomManagerSelector


def mgr(uid, workers=2, prefetch=0, block="0", tasks=(), now=0.0):
    reg = Registration.create(uid=uid, block_id=block, worker_count=workers, prefetch_capacity=prefetch,
                              start_time=0.0, os="Linux", hostname="h", dir="/", cpu_count=2, total_memory=1, pid=1)
    m = ManagerRecord(uid.encode(), reg, now)
    m.tasks.update(tasks)
    return m


def test_capacity_includes_pipeline_beyond_workers_and_prefetch():
    m = mgr("a", workers=2, prefetch=1)
    assert m.max_capacity == 3 + pipeline_extra(2)


def test_without_pipelining_a_manager_holds_only_what_it_asked_for():
    # tasks that give priorities wait in the interchange's priority queue, as in Parsl
    m = mgr("a", workers=2, prefetch=1, tasks={1, 2, 3, 4})
    m.stop_pipelining()
    assert m.max_capacity == 3
    assert choose_dispatch(5, [m]) == []                # holding more than that: gets nothing
    late = ManagerRecord(b"b", Registration.create(
        uid="b", block_id="0", worker_count=2, prefetch_capacity=0, start_time=0.0, os="Linux",
        hostname="h", dir="/", cpu_count=2, total_memory=1, pid=1), 0.0, pipelined=False)
    assert late.free == 2


def test_dispatch_fills_in_selector_order_and_stops_when_empty():
    a, b = mgr("a"), mgr("b")
    assert choose_dispatch(1, [a, b]) == [(a, 1)]
    assert choose_dispatch(2, [b, a]) == [(b, 2)]
    assert choose_dispatch(0, [a, b]) == []


def test_dispatch_fills_idle_workers_everywhere_before_pipelining():
    # a's 2 workers first, then b's, then a's pipelining extra: no task waits in a's queue
    # while b has an idle worker (and a recall would not hand it straight back to a)
    a, b = mgr("a"), mgr("b")
    assert choose_dispatch(3, [a, b]) == [(a, 2), (b, 1)]
    assert choose_dispatch(5, [a, b]) == [(a, 3), (b, 2)]
    assert choose_dispatch(a.free + b.free + 9, [a, b]) == [(a, a.free), (b, b.free)]
    busy = mgr("busy", workers=1, tasks={1})
    assert choose_dispatch(1, [busy, b]) == [(b, 1)]


def test_a_task_sent_straight_to_a_lane_goes_to_the_first_manager_with_an_idle_worker():
    busy, idle = mgr("busy", workers=1, tasks={1}), mgr("idle", workers=1)
    info = {b"busy": busy, b"idle": idle}
    assert choose_direct([b"busy", b"idle"], info) is idle
    idle.tasks.add(2)
    assert choose_direct([b"busy", b"idle"], info) is busy     # none idle: the selector's first
    assert choose_direct([], info) is None


def test_records_answer_parsl_keys_for_user_selectors():
    m = mgr("a", workers=3, prefetch=1, block="7", tasks={4, 2})
    assert (m["block_id"], m["worker_count"], m["max_capacity"], m["tasks"]) == ("7", 3, 4, [2, 4])
    assert m["active"] is True and m["draining"] is False and m["hostname"] == "h"
    assert m["python_version"].count(".") == 2 and m["packages"] == {}
    assert "block_id" in m and m.get("nope", 5) == 5
    with pytest.raises(KeyError, match="block_id"):
        m["blockid"]
    m.took_packages({"numpy": "2.0"})
    assert m["packages"] == {"numpy": "2.0"}


def test_draining_or_held_managers_get_nothing():
    a = mgr("a")
    a.draining = True
    b = mgr("b")
    b.active = False
    assert choose_dispatch(5, [a, b]) == []


def test_recall_takes_unstarted_tasks_from_busy_managers_for_idle_ones():
    busy = mgr("busy", workers=1, tasks={1, 2, 3})      # 1 running, 2 queued
    idle = mgr("idle", workers=2)
    plan = plan_recalls([busy, idle])
    assert [(m.uid, n) for m, n in plan] == [(b"busy", 2)]
    busy.recalling = True
    assert plan_recalls([busy, idle]) == []


def test_no_recall_without_idle_workers():
    assert plan_recalls([mgr("a", workers=1, tasks={1, 2}), mgr("b", workers=1, tasks={3})]) == []


def test_lost_managers_are_the_silent_ones():
    old, fresh = mgr("old", now=0.0), mgr("fresh", now=9.0)
    assert find_lost_managers([old, fresh], now=10.0, threshold=5) == [old]


def test_scale_in_prefers_most_idle_then_fewest_tasks():
    managers = [
        {"block_id": "0", "idle_duration": 5.0, "tasks": 0},
        {"block_id": "1", "idle_duration": 50.0, "tasks": 0},
        {"block_id": "2", "idle_duration": 0.0, "tasks": 3},
    ]
    assert choose_blocks_to_scale_in(["0", "1", "2"], managers, 2, None) == ["1", "0"]
    # with max_idletime only long-idle, empty blocks qualify
    assert choose_blocks_to_scale_in(["0", "1", "2"], managers, 3, 10.0) == ["1"]
    # blocks still starting come last and never under max_idletime
    assert choose_blocks_to_scale_in(["0", "1", "2", "3"], managers, 4, None)[-1] == "3"
    assert "3" not in choose_blocks_to_scale_in(["3"], [], 1, 1.0)


def test_selectors():
    info = {b"x": mgr("x", block="2"), b"y": mgr("y", block="0"), b"z": mgr("z", block="10")}
    # Parsl's call: (every manager's record by uid, the uids with room)
    assert BlockIdManagerSelector().sort_managers(info, set(info)) == [b"y", b"x", b"z"]
    assert BlockIdManagerSelector().sort_managers(info, {b"x", b"z"}) == [b"x", b"z"]
    assert sorted(RandomManagerSelector().sort_managers(info, set(info))) == sorted(info)


def test_mpi_launcher_prefixes():
    from parsl.executors.high_throughput.mpi_executor import launcher_prefixes
    p = launcher_prefixes({"num_nodes": 2, "num_ranks": 8, "launcher_options": "--bind-to core"})
    assert p["mpiexec"] == "mpiexec -n 8 -ppn 4 --bind-to core"
    assert p["srun"] == "srun -N 2 -n 8 --bind-to core"
    assert p["aprun"] == "aprun -n 8 -N 4 --bind-to core"


def test_a_suspect_manager_is_lost_after_the_grace_unless_it_answers():
    m = mgr("m", now=0.0)
    m.suspect_since = 1.0
    assert find_lost_managers([m], now=2.0, threshold=100, suspect_grace=2.0) == []
    assert find_lost_managers([m], now=3.5, threshold=100, suspect_grace=2.0) == [m]
    m.suspect_since = None
    assert find_lost_managers([m], now=3.5, threshold=100) == []
