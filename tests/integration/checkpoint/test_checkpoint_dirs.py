"""Where checkpoints are left, and what a checkpoint directory must hold (issues 16 item 11,
18 items 8 and 9)."""
import os
import stat

import pytest

import parsl
from parsl.config import Config
from parsl.dataflow.errors import BadCheckpoint
from parsl.dataflow.memoization import BasicMemoizer
from parsl.executors.threads import ThreadPoolExecutor
from parsl.utils import get_all_checkpoints, get_last_checkpoint


def config(run_dir="runinfo", **memo):
    return Config(executors=[ThreadPoolExecutor(label="t")], memoizer=BasicMemoizer(**memo),
                  run_dir=run_dir)


@parsl.python_app(cache=True)
def fails(x):
    raise ValueError(x)


@parsl.python_app(cache=True)
def square(x):
    return x * x


@pytest.mark.parametrize("mode", ["task_exit", "periodic", "dfk_exit", "manual"])
def test_a_run_whose_tasks_all_failed_leaves_a_loadable_checkpoint(mode):
    extra = {"checkpoint_period": "01:00:00"} if mode == "periodic" else {}
    with parsl.load(config(checkpoint_mode=mode, **extra)) as dfk:
        assert all(isinstance(fails(i).exception(), ValueError) for i in range(3))
        run_dir = dfk.run_dir
    found = get_last_checkpoint()
    assert found == [os.path.join(run_dir, "checkpoint")]
    # the next run loads it: no results, no error
    with parsl.load(config(checkpoint_files=found)) as dfk:
        assert dfk.memoizer.loaded == 0
        assert square(3).result() == 9


@pytest.mark.parametrize("memoize", [True, False])
def test_dfk_checkpoint_leaves_the_checkpoint_where_parsl_users_look(memoize):
    with parsl.load(config(memoize=memoize)) as dfk:
        square(2).result()
        where = dfk.checkpoint()
        assert where == os.path.join(dfk.run_dir, "checkpoint")
        assert os.path.isdir(where) and get_all_checkpoints() == [where]
    with parsl.load(config(checkpoint_files=[where])) as dfk:
        assert dfk.memoizer.loaded == (1 if memoize else 0)


def test_a_checkpoint_dir_without_a_checkpoint_file_is_refused_as_parsl_does(tmp_path):
    empty = tmp_path / "runinfo" / "000" / "checkpoint"
    empty.mkdir(parents=True)
    with pytest.raises(BadCheckpoint) as info:
        parsl.load(config(checkpoint_files=[str(empty)]))
    assert str(empty) in str(info.value) and "no checkpoint file" in str(info.value)
    parsl.clear()
    # found automatically (checkpoint mode, no checkpoint_files): skipped with a warning
    with parsl.load(config(run_dir=str(tmp_path / "runinfo"), checkpoint_mode="task_exit")) as dfk:
        assert square(4).result() == 16 and dfk.memoizer.loaded == 0


def test_checkpoint_and_log_files_are_owner_only():
    old = os.umask(0o022)
    try:
        with parsl.load(config(checkpoint_mode="task_exit")) as dfk:
            square(5).result()
            run_dir = dfk.run_dir
    finally:
        os.umask(old)
    for path in (os.path.join(run_dir, "checkpoint", "tasks.ckpt"), os.path.join(run_dir, "parsl.log")):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    assert stat.S_IMODE(os.stat(os.path.join(run_dir, "checkpoint")).st_mode) == 0o700
