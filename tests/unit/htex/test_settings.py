"""HTEX's settings: validated once, frozen, and the source of the manager's command line,
which the manager parses back into the same values."""
import dataclasses
import math
import shlex

import pytest

from parsl._htex.settings import DEFAULT_LAUNCH_CMD, HTEXSettings, LaunchContext, NodeFacts, manager_settings_from_argv


def _settings(**kw):
    params = dict(max_workers=None, max_workers_per_node=None, available_accelerators=(),
                  worker_port_range=(54000, 55000), interchange_port_range=(55000, 56000))
    params.update(kw)
    return HTEXSettings.from_parameters(**params)


def _argv(settings, block_id="3", **run):
    ctx = dict(python="python3", addresses="10.0.0.1,127.0.0.1", port=5555, cert_dir="/certs",
               logdir="/logs", resource_monitoring_interval=None)
    ctx.update(run)
    cmd = settings.launch_command(block_id, LaunchContext(**ctx))
    words = shlex.split(cmd)
    assert words[:3] == ["python3", "-m", "parsl.executors.high_throughput.process_worker_pool"]
    return words[3:]


def test_settings_are_frozen_and_validated():
    s = _settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.label = "other"
    with pytest.raises(ValueError, match="cores_per_worker"):
        s.replace(cores_per_worker=0)
    with pytest.raises(ValueError, match="cpu_affinity"):
        _settings(cpu_affinity="diagonal")
    assert s.max_workers_per_node == math.inf and s.launch_cmd is None


def test_the_managers_command_line_carries_the_settings():
    s = _settings(max_workers_per_node=3, prefetch_capacity=2, heartbeat_period=5, heartbeat_threshold=50,
                  drain_period=600, worker_debug=True, cpu_affinity="block", available_accelerators=2,
                  address_probe_timeout=7, cores_per_worker=0.5)
    m = manager_settings_from_argv(_argv(s, resource_monitoring_interval=-1), NodeFacts(cores=64, memory_gb=None))
    assert m.addresses == ("10.0.0.1", "127.0.0.1") and m.port == 5555 and m.block_id == "3"
    assert m.worker_count == 2            # two accelerators limit the three workers
    assert (m.prefetch_capacity, m.heartbeat_period, m.heartbeat_threshold, m.drain_period) == (2, 5, 50, 600)
    assert (m.debug, m.cpu_affinity, m.accelerators, m.address_probe_timeout) == (True, "block", ("0", "1"), 7)
    assert m.cert_dir == "/certs" and m.cores_per_worker == 0.5 and m.resource_monitoring_interval == -1
    assert m.logdir.startswith("/logs/block-3/")
    cfg = m.worker_config(1, task_fd=3, result_fd=4, lifeline_fd=5, manager_pid=9, cpu_affinity=[2])
    assert (cfg.rank, cfg.debug, cfg.cpu_affinity, cfg.resource_monitoring_interval) == (1, True, [2], -1)
    assert cfg.logfile.endswith("worker_1.log")


def test_defaults_leave_the_node_to_decide():
    m = manager_settings_from_argv(_argv(_settings(encrypted=False), cert_dir=None), NodeFacts(cores=4, memory_gb=8))
    assert m.worker_count == 4 and m.cert_dir is None and m.resource_monitoring_interval is None
    assert m.address_probe_timeout == 30 and m.drain_period is None


def test_default_template_is_the_public_one():
    from parsl.executors.high_throughput.executor import DEFAULT_LAUNCH_CMD as public
    assert public == DEFAULT_LAUNCH_CMD
