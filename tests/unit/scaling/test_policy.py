"""The scaling policy as a pure function: snapshots, a fake clock, no threads."""
import math

import pytest

from parsl._scaling.policy import ExecutorSnapshot, PolicyMemory, decide

DONE = PolicyMemory(first_pass_done=True)


def snap(**kw):
    base = dict(label="htex", outstanding=0, active_blocks=0, workers_per_node=1, nodes_per_block=1,
                parallelism=1.0, init_blocks=1, min_blocks=0, max_blocks=10, can_scale_in_idle=True)
    base.update(kw)
    return ExecutorSnapshot(**base)


def run(s, memory=DONE, now=0.0, strategy="simple", max_idletime=120.0):
    return decide(s, memory, now, strategy, max_idletime)


# --- first pass -----------------------------------------------------------------

def test_first_pass_submits_init_blocks():
    d, m = run(snap(init_blocks=3), memory=PolicyMemory())
    assert d.scale_out == 3 and m.first_pass_done


def test_first_pass_counts_blocks_htex_already_started():
    d, _ = run(snap(init_blocks=2, active_blocks=2), memory=PolicyMemory())
    assert d.scale_out == 0


def test_first_pass_never_exceeds_max_blocks():
    d, _ = run(snap(init_blocks=5, max_blocks=2), memory=PolicyMemory())
    assert d.scale_out == 2


def test_none_strategy_only_does_the_first_pass():
    d, m = run(snap(init_blocks=1, outstanding=100), memory=PolicyMemory(), strategy="none")
    assert d.scale_out == 1
    d, _ = run(snap(init_blocks=1, active_blocks=1, outstanding=100), memory=m, strategy="none")
    assert d.is_noop


def test_first_pass_blocks_count_toward_the_rest_of_the_pass():
    # 10 tasks, p=1, W=1: init gives 1 block, the parallelism rule adds the other 9.
    d, _ = run(snap(init_blocks=1, outstanding=10), memory=PolicyMemory())
    assert d.scale_out == 10


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="unknown strategy 'fast'"):
        run(snap(), strategy="fast")


# --- the tutorial's elasticity section ------------------------------------------------

def test_tutorial_parallelism_point_one_keeps_one_block():
    # 10 tasks, 1 block of 1 worker: S/T = 0.1, not < 0.1
    d, _ = run(snap(outstanding=10, active_blocks=1, parallelism=0.1, max_blocks=2))
    assert d.is_noop


def test_tutorial_parallelism_one_adds_the_second_block():
    d, _ = run(snap(outstanding=10, active_blocks=1, parallelism=1, max_blocks=2))
    assert d.scale_out == 1


# --- scale out ------------------------------------------------------------------

@pytest.mark.parametrize("T,B,W,N,p,maxb,expected", [
    (100, 0, 4, 2, 1.0, 100, 13),      # ceil(100/8)
    (100, 2, 4, 2, 1.0, 100, 11),      # ceil((100-16)/8)
    (100, 2, 4, 2, 0.5, 100, 5),       # ceil(ceil(50-16)/8) = ceil(34/8)
    (100, 2, 4, 2, 1.0, 5, 3),         # capped by max_blocks
    (8, 8, 1, 1, 1.0, 8, 0),           # S == T
])
def test_scale_out_formula(T, B, W, N, p, maxb, expected):
    d, _ = run(snap(outstanding=T, active_blocks=B, workers_per_node=W, nodes_per_block=N,
                    parallelism=p, max_blocks=maxb))
    assert d.scale_out == expected and d.scale_in == 0


def test_parallelism_zero_starts_one_block_when_there_are_no_slots():
    d, _ = run(snap(outstanding=50, active_blocks=0, parallelism=0))
    assert d.scale_out == 1
    d, _ = run(snap(outstanding=50, active_blocks=1, parallelism=0))
    assert d.is_noop


def test_unbounded_workers_per_node_counts_as_one():
    d, _ = run(snap(outstanding=3, active_blocks=0, workers_per_node=math.inf))
    assert d.scale_out == 3


def test_min_blocks_is_enforced():
    d, _ = run(snap(outstanding=0, active_blocks=0, min_blocks=2))
    assert d.scale_out == 2


# --- scale in when idle -------------------------------------------------------------

def test_idle_executor_scales_in_to_min_blocks_after_max_idletime():
    s = snap(outstanding=0, active_blocks=4, min_blocks=1)
    d, m = run(s, now=100.0, max_idletime=30)
    assert d.is_noop and m.idle_since == 100.0
    d, m = run(s, memory=m, now=129.0, max_idletime=30)
    assert d.is_noop
    d, m = run(s, memory=m, now=130.0, max_idletime=30)
    assert d.scale_in == 3 and d.scale_in_max_idletime is None and m.idle_since is None


def test_work_arriving_resets_the_idle_timer():
    idle = snap(outstanding=0, active_blocks=2)
    _, m = run(idle, now=0.0, max_idletime=10)
    _, m = run(snap(outstanding=2, active_blocks=2), memory=m, now=5.0, max_idletime=10)
    assert m.idle_since is None
    d, m = run(idle, memory=m, now=11.0, max_idletime=10)
    assert d.is_noop and m.idle_since == 11.0


def test_idle_at_min_blocks_does_nothing():
    d, m = run(snap(outstanding=0, active_blocks=1, min_blocks=1), now=1e6, max_idletime=0)
    assert d.is_noop and m.idle_since is None


# --- scale in under partial load -----------------------------------------------------

def test_htex_auto_scale_removes_surplus_idle_blocks():
    s = snap(outstanding=2, active_blocks=8, workers_per_node=1, parallelism=1.0)
    d, _ = run(s, strategy="htex_auto_scale", max_idletime=7)
    assert d.scale_in == 6 and d.scale_in_max_idletime == 7


def test_simple_never_scales_in_under_load():
    d, _ = run(snap(outstanding=2, active_blocks=8), strategy="simple")
    assert d.is_noop


def test_htex_auto_scale_keeps_min_blocks_and_needs_an_idle_aware_executor():
    d, _ = run(snap(outstanding=1, active_blocks=8, min_blocks=6), strategy="htex_auto_scale")
    assert d.scale_in == 2
    d, _ = run(snap(outstanding=1, active_blocks=8, can_scale_in_idle=False), strategy="htex_auto_scale")
    assert d.is_noop


def test_scale_in_then_out_does_not_oscillate_on_steady_load():
    # Steady 4 tasks on 4 one-worker blocks: neither rule fires.
    d, _ = run(snap(outstanding=4, active_blocks=4), strategy="htex_auto_scale")
    assert d.is_noop
