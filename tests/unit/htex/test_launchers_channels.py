"""Launchers render shell that really runs; channels keep the tutorial's imports working."""
import subprocess
import warnings

import pytest

from parsl.launchers import SimpleLauncher, SingleNodeLauncher, WrappedLauncher
from parsl.launchers.errors import BadLauncher


def run_bash(text):
    return subprocess.run(["/bin/bash", "-c", text], capture_output=True, text=True, timeout=30)


def test_single_node_launcher_runs_one_copy_per_slot(tmp_path):
    out = tmp_path / "copies"
    script = SingleNodeLauncher(debug=False)(f"echo $CORES >> {out}", tasks_per_node=3, nodes_per_block=2)
    assert run_bash(script).returncode == 0
    lines = out.read_text().split()
    assert len(lines) == 6 and all(int(x) >= 1 for x in lines)


def test_single_node_launcher_fails_only_when_all_fail_unless_fail_on_any():
    some_fail = 'if [ "$1" = 1 ]; then exit 3; fi'
    assert run_bash(SingleNodeLauncher(debug=False)(some_fail, 2, 1)).returncode == 0
    assert run_bash(SingleNodeLauncher(debug=False, fail_on_any=True)(some_fail, 2, 1)).returncode == 1
    assert run_bash(SingleNodeLauncher(debug=False)("exit 2", 2, 1)).returncode == 1


def test_simple_and_wrapped():
    assert SimpleLauncher()("cmd x", 4, 2) == "cmd x"
    assert WrappedLauncher("time")("cmd", 1, 1) == "time cmd"


def test_provider_refuses_a_launcher_class():
    from parsl.providers import LocalProvider
    with pytest.raises(BadLauncher, match="instance"):
        LocalProvider(launcher=SingleNodeLauncher)


def test_local_channel_is_accepted_and_warns_once(monkeypatch):
    import parsl.channels.local as local
    monkeypatch.setattr(local, "_warned", False)
    from parsl.channels import LocalChannel
    from parsl.providers import LocalProvider
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LocalProvider(channel=LocalChannel())
        LocalChannel()
    assert len([w for w in caught if issubclass(w.category, DeprecationWarning)]) == 1


def test_ssh_channels_are_refused_with_advice():
    from parsl.channels import SSHChannel
    from parsl.errors import ConfigurationError
    with pytest.raises(ConfigurationError, match="removed SSH channels"):
        SSHChannel("host")
