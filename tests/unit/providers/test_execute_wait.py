"""execute_wait: output, exit codes, argv lists, and a deadline that kills the whole group."""
import time

from parsl._batch.commands import TIMED_OUT, execute_wait


def test_output_and_exit_code():
    assert execute_wait("echo out; echo err >&2; exit 4", 10) == (4, "out\n", "err\n")


def test_argv_list_is_not_shell_parsed():
    rc, out, _ = execute_wait(["echo", "a;b"], 10)
    assert (rc, out) == (0, "a;b\n")


def test_missing_command_reports_it():
    rc, _, err = execute_wait("definitely-not-a-command-xyz", 10)
    assert rc == 127 and "not found" in err


def test_timeout_kills_the_process_group_and_says_so():
    t0 = time.monotonic()
    rc, out, err = execute_wait("echo started; sleep 60 & sleep 60; wait", 0.5)
    assert rc == TIMED_OUT and out == "started\n"
    assert "did not finish within 0.5 s" in err
    assert time.monotonic() - t0 < 20
