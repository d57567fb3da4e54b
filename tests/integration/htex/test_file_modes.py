"""Files a run writes that name hosts, keys, arguments or results are readable by their
owner only, whatever the umask (issue 18 item 8; docs/reliability.md lists them)."""
import os
import stat

import pytest

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.monitoring import MonitoringHub
from parsl.providers import LocalProvider

pytestmark = [pytest.mark.htex, pytest.mark.slow]


@python_app(cache=True)
def double(x):
    return 2 * x


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_keys_logs_checkpoint_and_database_are_owner_only(tmp_path):
    old = os.umask(0o022)       # a permissive umask: the modes must not depend on it
    try:
        run_dir = str(tmp_path / "runinfo")
        dfk = parsl.load(Config(
            executors=[HighThroughputExecutor(label="htex", address="127.0.0.1", max_workers_per_node=1,
                                              worker_debug=True,
                                              provider=LocalProvider(init_blocks=1, max_blocks=1))],
            run_dir=run_dir, checkpoint_mode="task_exit",
            monitoring=MonitoringHub(logging_endpoint=f"sqlite:///{tmp_path}/monitoring.db")))
        try:
            assert double(21).result(timeout=60) == 42
        finally:
            dfk.cleanup()
    finally:
        os.umask(old)
    found = {}
    for root, _dirs, files in os.walk(tmp_path):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                found[os.path.relpath(path, tmp_path)] = _mode(path)
    private = {p: m for p, m in found.items()
               if p.endswith((".log", ".ckpt", ".key_secret", ".db"))}
    assert any(p.endswith("manager.log") for p in private), sorted(found)
    assert any(p.endswith("parsl.log") for p in private), sorted(found)
    assert any(p.endswith(".ckpt") for p in private), sorted(found)
    assert any(p.endswith(".key_secret") for p in private), sorted(found)
    assert "monitoring.db" in private, sorted(found)
    wide = {p: oct(m) for p, m in private.items() if m & 0o077}
    assert not wide, f"readable by others: {wide}"
