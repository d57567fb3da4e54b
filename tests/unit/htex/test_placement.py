"""Worker counts, CPU affinity and accelerator assignment are pure functions."""
import math

import pytest

from parsl._htex import placement


def test_workers_per_node_takes_the_smallest_known_limit():
    assert placement.workers_per_node(max_workers_per_node=8, cores=4, cores_per_worker=1) == 4
    assert placement.workers_per_node(max_workers_per_node=2, cores=4) == 2
    assert placement.workers_per_node(cores=8, cores_per_worker=2, mem_gb=10, mem_per_worker=4) == 2
    assert placement.workers_per_node(cores=2, cores_per_worker=0.5) == 4
    assert placement.workers_per_node(max_workers_per_node=10, accelerators=["a", "b", "c"]) == 3


def test_unbounded_means_one():
    assert placement.workers_per_node(max_workers_per_node=math.inf) == 1


def test_accelerator_names():
    assert placement.accelerator_names(3) == ["0", "1", "2"]
    assert placement.accelerator_names(["a", 1]) == ["a", "1"]
    assert placement.accelerator_names(()) == []
    assert placement.accelerator_names("0,2") == ["0", "2"]


def test_accelerator_env_sets_every_vendor_variable():
    env = placement.accelerator_env("3")
    assert env == {"CUDA_VISIBLE_DEVICES": "3", "ROCR_VISIBLE_DEVICES": "3", "ZE_AFFINITY_MASK": "3"}


def test_affinity_modes():
    cpus = [0, 1, 2, 3]
    assert placement.cpu_affinity("none", 2, cpus) == {0: None, 1: None}
    assert placement.cpu_affinity("block", 2, cpus, cores_per_worker=2) == {0: [0, 1], 1: [2, 3]}
    assert placement.cpu_affinity("block-reverse", 2, cpus, cores_per_worker=2) == {0: [2, 3], 1: [0, 1]}
    assert placement.cpu_affinity("alternating", 2, cpus, cores_per_worker=2) == {0: [0, 2], 1: [1, 3]}
    assert placement.cpu_affinity("list:0-1:2,3", 2, cpus) == {0: [0, 1], 1: [2, 3]}


def test_affinity_env_variables():
    env = placement.affinity_env([0, 2])
    assert env["OMP_NUM_THREADS"] == "2" and env["GOMP_CPU_AFFINITY"] == "0,2"
    assert placement.affinity_env(None) == {}


def test_bad_affinity_is_refused_with_the_accepted_values():
    with pytest.raises(ValueError, match="alternating"):
        placement.validate_cpu_affinity("sideways")
    with pytest.raises(ValueError):
        placement.cpu_affinity("list:0", 2, [0, 1])
