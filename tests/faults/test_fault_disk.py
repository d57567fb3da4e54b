"""A full disk (docs/reliability.md, "The disk fills up"): a 2 MB tmpfs, filled mid-run.

Promise: every task still returns its value to its future; a write that cannot succeed is
reported to the user once, at once (monitoring: a RuntimeWarning; checkpoint: an error the
user sees), never retried as if the database were busy; cleanup finishes promptly; the
checkpoint holds only true results.
"""
import glob
import os
import warnings

import pytest

from parsl.monitoring import MonitoringHub

import fault_tools as ft

pytestmark = [pytest.mark.htex]

#: cleanup with a full disk must not wait on retries (issue 18 saw 120 s)
PROMPT_S = 30.0


@pytest.fixture
def small_disk(tmp_path, root_only):
    path = str(tmp_path / "small")
    try:
        ft.tmpfs(path, "2m")
    except Exception as e:           # a container without CAP_SYS_ADMIN
        pytest.skip(f"cannot mount a tmpfs here: {e}")
    yield path
    ft.umount(path)


def test_a_full_disk_under_monitoring_is_reported_once_and_cleanup_is_prompt(tmp_path, small_disk, capfd):
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{small_disk}/monitoring.db", flush_period=0.2)
    dfk = ft.load(ft.htex(workers=2), tmp_path, retries=0, monitoring=hub)
    ledger = ft.Ledger()
    took = None
    try:
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always")
            ledger.submit(50, seconds=0.01)
            ledger.wait_done(20)
            ft.fill(small_disk)
            ledger.submit(150, seconds=0.01, start=50)
            ledger.check()
            took = ft.close(dfk)
    finally:
        ft.close(dfk)
    assert took is not None and took < PROMPT_S, f"cleanup took {took:.0f} s"
    lost = [str(w.message) for w in told if "could not be written" in str(w.message)]
    assert len(lost) == 1 and "full" in lost[0], [str(w.message) for w in told]
    err = capfd.readouterr().err
    assert err.count("Logging error") == 0 and err.count("could not be written") <= 2


@pytest.mark.xfail(reason="needs parity-ckpt's fix: checkpoint writes on a full disk reported to the user, "
                          "logging errors not printed per record, cleanup prompt (issue18 item 4)", strict=True)
def test_run_dir_checkpoint_and_database_on_a_full_disk(tmp_path, small_disk, capfd):
    run_dir = os.path.join(small_disk, "runinfo")
    hub = MonitoringHub(logging_endpoint=f"sqlite:///{small_disk}/monitoring.db", flush_period=0.2)
    import parsl
    from parsl.config import Config
    dfk = parsl.load(Config(executors=[ft.htex(workers=2)], run_dir=run_dir, retries=0, monitoring=hub,
                            checkpoint_mode="task_exit", strategy_period=0.5))
    ledger = ft.Ledger()
    took, raised = None, None
    try:
        with warnings.catch_warnings(record=True) as told:
            warnings.simplefilter("always")
            ledger.submit(50, seconds=0.01)
            ledger.wait_done(20)
            ft.fill(small_disk)
            ledger.submit(150, seconds=0.01, start=50)
            values = ledger.check()
            try:
                took = ft.close(dfk)
            except Exception as e:        # a checkpoint error may surface here, naming itself
                raised = e
    finally:
        ft.close(dfk)
    err = capfd.readouterr().err
    assert raised is None or "checkpoint" in str(raised).lower(), repr(raised)
    assert took is None or took < PROMPT_S, f"cleanup took {took:.0f} s"
    assert err.count("Logging error") <= 1, f"{err.count('Logging error')} 'Logging error' reports on stderr"
    said = " ".join(str(w.message) for w in told) + err + str(raised)
    assert "checkpoint" in said.lower(), "the lost checkpoint writes were not reported to the user"
    # What the checkpoint kept is true: a subset of the futures' values, each once.
    from parsl._core.checkpoint import read_checkpoint_file
    for path in glob.glob(os.path.join(run_dir, "*", "checkpoint", "tasks.ckpt")):
        stored = list(read_checkpoint_file(path).results.values())
        assert len(stored) == len(set(stored)) and set(stored) <= set(values.values())
