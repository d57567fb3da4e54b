"""A full disk under the run directory, its checkpoint and its log (issue 18, item 4).

Each test mounts its own 2 MB tmpfs (root only; skipped otherwise) and unmounts it after.
What must hold: the user is told at once, and once, that results could not be checkpointed
(a warning, not only the log); the checkpoint holds exactly what it claims and loads in the
next run; cleanup() finishes and raises nothing; the log says once that it stopped instead
of printing "Logging error" per record.
"""
import os
import subprocess
import warnings

import pytest

import parsl
from parsl._core.checkpoint import CheckpointWriteError, CheckpointWriteWarning, load_checkpoints
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints

pytestmark = [pytest.mark.root, pytest.mark.timeout(90)]


@pytest.fixture
def tiny_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt, leave=96 * 1024):
    """Fill the file system until only about ``leave`` bytes are free."""
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(mnt / "filler", "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def records_in(run_dirs):
    return load_checkpoints(run_dirs)[0]


@pytest.mark.parametrize("mode", ["task_exit", "dfk_exit"])
def test_full_disk_is_reported_once_and_the_checkpoint_holds_what_it_claims(tiny_disk, capfd, mode):
    runinfo = tiny_disk / "runinfo"
    fill(tiny_disk)

    @parsl.python_app(cache=True)
    def big(i):
        return str(i) * 5000          # ~5-20 KB each: 200 of them cannot fit

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dfk = parsl.load(Config(executors=[ThreadPoolExecutor(label="t", max_threads=2)],
                                run_dir=str(runinfo), checkpoint_mode=mode))
        try:
            futures = [big(i) for i in range(200)]
            values = {f.task_record["hashsum"]: f.result() for f in futures}
            if mode == "task_exit":
                from waiting import wait_until
                wait_until(lambda: any(issubclass(w.category, CheckpointWriteWarning) for w in seen),
                           "the checkpoint failure to reach the user", timeout=30)
            written = dfk.memoizer.checkpointed_tasks
        finally:
            dfk.cleanup()                  # finishes, and raises nothing
        written = dfk.memoizer.checkpointed_tasks
    warned = [str(w.message) for w in seen if issubclass(w.category, CheckpointWriteWarning)]
    assert 1 <= len(warned) <= 2, warned   # at once; plus the final tally at cleanup
    assert "No space left on device" in warned[0] and "checkpoint" in warned[0]
    # Nothing claimed that is not there, and what is there is right.
    os.remove(tiny_disk / "filler")
    stored = records_in(get_all_checkpoints(str(runinfo)))
    assert len(stored) == written < 200
    assert all(values[k] == v for k, v in stored.items())
    err = capfd.readouterr().err
    assert "Logging error" not in err
    assert err.count("cannot write the log file") <= 1


def test_manual_checkpoint_on_a_full_disk_raises_and_keeps_the_results_queued(tiny_disk):
    runinfo = tiny_disk / "runinfo"

    @parsl.python_app(cache=True)
    def big(i):
        return str(i) * 2000

    memo = BasicMemoizer(checkpoint_mode="manual")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with parsl.load(Config(executors=[ThreadPoolExecutor(label="t")], memoizer=memo,
                               run_dir=str(runinfo))) as dfk:
            [f.result() for f in [big(i) for i in range(60)]]
            fill(tiny_disk, leave=64 * 1024)
            with pytest.raises(CheckpointWriteError) as info:
                dfk.checkpoint()
            assert isinstance(info.value, OSError)
            assert os.path.join(dfk.run_dir, "checkpoint") in str(info.value)
            assert memo.checkpointed_tasks == 0
            os.remove(tiny_disk / "filler")          # space again: nothing was lost
            dfk.checkpoint()
            assert memo.checkpointed_tasks == 60
    assert len(records_in(get_all_checkpoints(str(runinfo)))) == 60
