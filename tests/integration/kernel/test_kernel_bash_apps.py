"""Bash apps: commands under bash, exit codes, outputs, std streams, walltime kills the tree."""
import os

import psutil
import pytest

from parsl import bash_app
from parsl.app.errors import AppTimeout, BashAppNoReturn, BashExitFailure, MissingOutputs
from parsl.data_provider.files import File

from kernel_helpers import DEADLINE
from waiting import wait_until


@bash_app
def run(cmd, stdout=None, stderr=None, outputs=(), walltime=None):
    return cmd


def test_command_runs_under_bash_and_returns_zero(dfk, tmp_path):
    out = tmp_path / "o.txt"
    # bash-only syntax: arithmetic expansion and [[ ]]
    fut = run('[[ -n "$BASH_VERSION" ]] && echo $(( 6 * 7 ))', stdout=str(out))
    assert fut.result(timeout=DEADLINE) == 0
    assert out.read_text() == "42\n"


def test_multiline_command(dfk, tmp_path):
    out = tmp_path / "o.txt"
    run("x=1\nfor i in a b; do\n  echo $i$x\ndone", stdout=str(out)).result(timeout=DEADLINE)
    assert out.read_text() == "a1\nb1\n"


def test_arguments_format_the_command(dfk, tmp_path):
    @bash_app
    def greet(name, stdout=None):
        return f"echo hello {name}"
    out = tmp_path / "g.txt"
    greet("world", stdout=str(out)).result(timeout=DEADLINE)
    assert out.read_text() == "hello world\n"


def test_nonzero_exit_is_bash_exit_failure_naming_code_and_files(dfk, tmp_path):
    out, err = tmp_path / "o.txt", tmp_path / "e.txt"
    fut = run("echo partial; echo broken >&2; exit 3", stdout=str(out), stderr=str(err))
    with pytest.raises(BashExitFailure) as ei:
        fut.result(timeout=DEADLINE)
    e = ei.value
    assert e.exitcode == 3 and e.app_name == "run"
    assert "exit code 3" in str(e) and str(out) in str(e) and str(err) in str(e)
    assert out.read_text() == "partial\n"
    err_text = err.read_text()
    assert "broken" in err_text and "exit 3" in err_text  # stderr starts with the command banner


def test_exit_failure_without_redirection_says_so(dfk):
    with pytest.raises(BashExitFailure, match="not redirected"):
        run("exit 1").result(timeout=DEADLINE)


def test_command_not_found_is_exit_127(dfk):
    with pytest.raises(BashExitFailure) as ei:
        run("definitely-not-a-command-xyz").result(timeout=DEADLINE)
    assert ei.value.exitcode == 127


def test_killed_by_signal_gives_a_negative_code(dfk):
    with pytest.raises(BashExitFailure) as ei:
        run("kill -9 $$").result(timeout=DEADLINE)
    assert ei.value.exitcode == -9 and "signal 9" in str(ei.value)


def test_function_returning_a_non_string_is_a_clear_error(dfk):
    @bash_app
    def forgot_return():
        "echo hi"

    @bash_app
    def returns_list():
        return ["echo", "hi"]
    with pytest.raises(BashAppNoReturn, match="did you forget a 'return'"):
        forgot_return().result(timeout=DEADLINE)
    with pytest.raises(BashAppNoReturn, match="list"):
        returns_list().result(timeout=DEADLINE)


def test_function_that_raises_fails_with_its_exception(dfk):
    @bash_app
    def bad():
        raise ZeroDivisionError("no command")
    with pytest.raises(ZeroDivisionError):
        bad().result(timeout=DEADLINE)


def test_outputs_become_data_futures_when_created(dfk, tmp_path):
    f = File(str(tmp_path / "made.txt"))
    fut = run(f"echo made > {f.filepath}", outputs=[f])
    assert fut.outputs[0].result(timeout=DEADLINE) is f
    assert fut.result() == 0


def test_missing_outputs(dfk, tmp_path):
    made, missing = File(str(tmp_path / "made.txt")), File(str(tmp_path / "missing.txt"))
    fut = run(f"touch {made.filepath}", outputs=[made, missing])
    with pytest.raises(MissingOutputs) as ei:
        fut.result(timeout=DEADLINE)
    assert "missing.txt" in str(ei.value) and "made.txt" not in str(ei.value)
    with pytest.raises(MissingOutputs):
        fut.outputs[1].result(timeout=DEADLINE)


def test_file_as_stdout_is_a_data_future(dfk, tmp_path):
    target = File(str(tmp_path / "captured.txt"))
    fut = run("echo captured", stdout=target)
    df = fut.stdout
    assert df.result(timeout=DEADLINE).filepath == target.filepath
    assert open(target.filepath).read() == "captured\n"


def test_unopenable_stdout_fails_with_a_clear_error(dfk, tmp_path):
    (tmp_path / "a_file").write_text("")
    from parsl.app.errors import BadStdStreamFile
    with pytest.raises(BadStdStreamFile, match="a_file"):
        run("echo x", stdout=str(tmp_path / "a_file" / "sub.txt")).result(timeout=DEADLINE)


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_walltime_raises_app_timeout_and_kills_the_whole_tree(dfk, tmp_path):
    # The command starts a grandchild in the background, and one more that leaves the command's
    # process group with setsid: both must be dead once the task has timed out.
    pids = tmp_path / "pids"
    cmd = (f"sleep 300 & echo $! >> {pids}; "
           f"setsid sleep 300 & echo $! >> {pids}; "
           "wait")
    fut = run(cmd, walltime=1)
    with pytest.raises(AppTimeout, match="walltime"):
        fut.result(timeout=DEADLINE)
    grandchildren = [int(p) for p in pids.read_text().split()]
    assert len(grandchildren) == 2
    for pid in grandchildren:
        wait_until(lambda: _gone(pid), f"grandchild {pid} to be killed")


def test_bash_app_within_walltime_succeeds(dfk):
    assert run("true", walltime=DEADLINE).result(timeout=DEADLINE) == 0


def test_working_directory_is_the_callers(dfk, tmp_path):
    out = tmp_path / "pwd.txt"
    run("pwd", stdout=str(out)).result(timeout=DEADLINE)
    assert os.path.realpath(out.read_text().strip()) == os.path.realpath(os.getcwd())
