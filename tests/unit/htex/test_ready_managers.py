"""ReadyManagers: the interchange's incrementally kept set of managers with free capacity."""
import random

from parsl._htex.matching import ManagerRecord, ReadyManagers, choose_dispatch, plan_recalls
from parsl._htex.protocol import Registration
from parsl.executors.high_throughput.manager_selector import (
    BlockIdManagerSelector,
    ManagerSelector,
    RandomManagerSelector,
)


def mgr(uid, workers=1, block="0"):
    reg = Registration.create(uid=uid, block_id=block, worker_count=workers, prefetch_capacity=0,
                              start_time=0.0, os="Linux", hostname="h", dir="/", cpu_count=2, total_memory=1, pid=1)
    return ManagerRecord(uid.encode(), reg, 0.0)


def fill(m):
    m.tasks.update(range(10_000 * hash(m.uid) % 997, 10_000 * hash(m.uid) % 997 + m.free))


def test_random_pick_covers_what_is_wanted_and_skips_full_gone_and_draining_managers():
    managers = {m.uid: m for m in (mgr(f"m{i}") for i in range(50))}
    ready = ReadyManagers(RandomManagerSelector())
    for m in managers.values():
        ready.add(m)
    full, gone, draining = managers[b"m1"], managers.pop(b"m2"), managers[b"m3"]
    fill(full)
    draining.draining = True
    picked = ready.pick(managers, 3)                     # 1 worker each: 3 idle managers
    assert len(picked) == 3 and len({m.uid for m in picked}) == 3 and all(m.wants == 1 for m in picked)
    everyone = ready.pick(managers, 10**9)
    assert {m.uid for m in everyone} == set(managers) - {b"m1", b"m3"}
    assert gone not in everyone and len(ready) == 47     # stale ones dropped when met
    ready.add(full)                                      # results came back: considered again
    full.tasks.clear()
    assert full in ready.pick(managers, 10**9)


def test_idle_workers_are_found_before_pipeline_room_as_in_choose_dispatch():
    managers = {m.uid: m for m in (mgr(f"m{i}") for i in range(100))}
    ready = ReadyManagers(RandomManagerSelector())
    for m in managers.values():
        ready.add(m)
        if m.uid != b"m42":
            m.tasks.add(int(m.uid[1:]) + 1000)          # its one worker is busy; pipeline room left
    for _ in range(20):
        plan = choose_dispatch(1, ready.pick(managers, 1))
        assert plan == [(managers[b"m42"], 1)]          # the only idle worker, among 100 managers


def test_random_pick_is_spread_over_managers():
    managers = {m.uid: m for m in (mgr(f"m{i}") for i in range(20))}
    ready = ReadyManagers(RandomManagerSelector())
    for m in managers.values():
        ready.add(m)
    random.seed(1)
    firsts = {ready.pick(managers, 1)[0].uid for _ in range(200)}
    assert len(firsts) > 10


def test_block_pick_fills_the_lowest_block_first_and_sees_re_registrations():
    managers = {m.uid: m for m in (mgr(f"m{i}", block=str(b)) for i, b in enumerate([3, 1, 2, 10]))}
    ready = ReadyManagers(BlockIdManagerSelector())
    for m in managers.values():
        ready.add(m)
    cap = managers[b"m1"].free
    assert [m.block_id for m in ready.pick(managers, 2)] == ["1", "2"]
    fill(managers[b"m1"])
    assert [m.block_id for m in ready.pick(managers, 1)] == ["2"]
    assert [m.block_id for m in ready.pick(managers, cap)] == ["2", "3", "10"]
    again = mgr("m1", block="1")                         # the same uid registers anew
    managers[b"m1"] = again
    ready.add(again)
    assert ready.pick(managers, 1) == [again]


def test_a_user_selector_sees_every_ready_manager_through_its_interface():
    seen = []

    class Reverse(ManagerSelector):
        def sort_managers(self, ready_managers, manager_list):     # Parsl's arguments
            assert ready_managers[b"m0"]["block_id"] == "0"
            seen.append(set(manager_list))
            return sorted(manager_list, reverse=True)

    managers = {m.uid: m for m in (mgr(f"m{i}") for i in range(4))}
    ready = ReadyManagers(Reverse())
    for m in managers.values():
        ready.add(m)
    fill(managers[b"m3"])
    plan = choose_dispatch(1, ready.pick(managers, 1))
    assert seen == [{b"m0", b"m1", b"m2"}] and plan[0][0].uid == b"m2"


def test_recall_candidates_are_empty_without_excess_and_match_a_full_scan_with_it():
    managers = {m.uid: m for m in (mgr(f"m{i}", workers=1) for i in range(10))}
    ready = ReadyManagers(RandomManagerSelector())
    for m in managers.values():
        ready.add(m)
    assert ready.recall_candidates(managers) == []
    busy = managers[b"m0"]
    busy.tasks.update({1, 2, 3})
    ready.excess[busy.uid] = busy
    ready.add(busy)
    got = plan_recalls(ready.recall_candidates(managers))
    assert [(m.uid, n) for m, n in got] == [(m.uid, n) for m, n in plan_recalls(list(managers.values()))]
    assert got == [(busy, 2)]
