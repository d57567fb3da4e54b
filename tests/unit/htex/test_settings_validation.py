"""HighThroughputExecutor refuses values that cannot work at construction (issue 18, item 9)."""
import math

import pytest

from parsl.errors import ConfigurationError, ConfigurationTypeError
from parsl.executors import HighThroughputExecutor


@pytest.mark.parametrize("kw, field, fix", [
    ({"max_workers_per_node": -2}, "max_workers_per_node", "whole number of workers >= 1"),
    ({"max_workers_per_node": 0}, "max_workers_per_node", "whole number of workers >= 1"),
    ({"max_workers_per_node": 2.5}, "max_workers_per_node", "whole number"),
    ({"worker_port": 70000}, "worker_port", "between 1 and 65535"),
    ({"worker_port": 0}, "worker_port", "between 1 and 65535"),
    ({"worker_port_range": (55000, 54000)}, "worker_port_range", "reversed: give (54000, 55000)"),
    ({"worker_port_range": (54000, 54000)}, "worker_port_range", "low < high"),
    ({"interchange_port_range": (1, 70000)}, "interchange_port_range", "low < high"),
    ({"prefetch_capacity": -5}, "prefetch_capacity", ">= 0"),
    ({"heartbeat_threshold": 0}, "heartbeat_threshold", "> 0"),
    ({"heartbeat_period": -1}, "heartbeat_period", "> 0"),
    ({"drain_period": 0}, "drain_period", "> 0, or None"),
])
def test_values_that_cannot_work_are_refused_naming_field_and_fix(kw, field, fix):
    with pytest.raises(ConfigurationError) as info:
        HighThroughputExecutor(**kw)
    assert not isinstance(info.value, TypeError), "a right-typed bad value is not a type error"
    msg = str(info.value)
    assert f"{field}=" in msg and fix in msg


@pytest.mark.parametrize("kw, field", [
    ({"max_workers_per_node": "4"}, "max_workers_per_node"),
    ({"heartbeat_threshold": "abc"}, "heartbeat_threshold"),
    ({"worker_port": "54000"}, "worker_port"),
    ({"worker_port_range": 54000}, "worker_port_range"),
    ({"prefetch_capacity": 1.5}, "prefetch_capacity"),
    ({"max_workers_per_node": True}, "max_workers_per_node"),
])
def test_values_of_the_wrong_type_raise_a_configuration_type_error(kw, field):
    with pytest.raises(ConfigurationTypeError, match=f"{field}=") as info:
        HighThroughputExecutor(**kw)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ConfigurationError)


def test_good_values_are_kept():
    ex = HighThroughputExecutor(max_workers_per_node=4, worker_port=54321, worker_port_range=[50000, 50010],
                                heartbeat_threshold=2.5, heartbeat_period=0.5, prefetch_capacity=3)
    assert (ex.max_workers_per_node, ex.worker_port, ex.worker_port_range) == (4, 54321, (50000, 50010))
    assert HighThroughputExecutor().max_workers_per_node == math.inf
    assert HighThroughputExecutor(max_workers_per_node=2.0).max_workers_per_node == 2


def test_assigning_a_bad_value_later_is_refused_too():
    ex = HighThroughputExecutor()
    with pytest.raises(ConfigurationError, match="prefetch_capacity"):
        ex.prefetch_capacity = -1
    assert ex.prefetch_capacity == 0
