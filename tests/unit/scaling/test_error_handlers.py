"""Block error handlers: when an executor gives up, and what its error says."""
from parsl.jobs.error_handlers import all_failed, noop_error_handler, simple_error_handler, windowed_error_handler
from parsl.jobs.errors import TooManyJobFailuresError
from parsl.jobs.states import JobState, JobStatus

from scaling_fakes import FakeBlockExecutor

F, R, T, M = JobState.FAILED, JobState.RUNNING, JobState.TIMEOUT, JobState.MISSING


def statuses(*states):
    return {str(i): JobStatus(s) for i, s in enumerate(states)}


def test_all_failed_needs_threshold_jobs():
    assert not all_failed(statuses(F), 2)
    assert all_failed(statuses(F, M), 2)
    assert not all_failed(statuses(F, R), 2)
    assert not all_failed({}, 1)


def test_walltime_expiry_does_not_count_as_failure():
    assert not all_failed(statuses(T, T), 1)


def test_simple_uses_init_blocks_as_threshold():
    ex = FakeBlockExecutor(init_blocks=2)
    simple_error_handler(ex, statuses(F))
    assert not ex.bad_state_is_set
    simple_error_handler(ex, statuses(F, F))
    assert ex.bad_state_is_set and isinstance(ex.executor_exception, TooManyJobFailuresError)


def test_windowed_looks_at_the_most_recent_blocks():
    ex = FakeBlockExecutor()
    st = statuses(R, R, R, R, R, R, R, R, R, R, F, F)   # block ids "0".."11": numeric order matters
    windowed_error_handler(ex, st, threshold=3)
    assert not ex.bad_state_is_set
    st["12"] = JobStatus(F)
    windowed_error_handler(ex, st, threshold=3)
    assert ex.bad_state_is_set


def test_noop_never_gives_up():
    ex = FakeBlockExecutor()
    noop_error_handler(ex, statuses(F, F, F, F))
    assert not ex.bad_state_is_set


def test_the_error_quotes_the_jobs_own_output(tmp_path):
    out, err = tmp_path / "b.stdout", tmp_path / "b.stderr"
    out.write_text("starting worker pool\n")
    err.write_text("srun: error: Unable to allocate resources: Invalid partition name specified\n")
    ex = FakeBlockExecutor(init_blocks=1)
    ex.blocks_to_job_id = {"0": "4242"}
    simple_error_handler(ex, {"0": JobStatus(F, message="Job failed", exit_code=1,
                                             stdout_path=str(out), stderr_path=str(err))})
    text = str(ex.executor_exception)
    assert "block 0 (job 4242): FAILED: Job failed" in text
    assert "EXIT CODE: 1" in text                           # Parsl's label
    assert "starting worker pool" in text and "Invalid partition name specified" in text
    assert "'fake' gave up" in text


def test_error_pickles():
    import pickle
    e = TooManyJobFailuresError("boom\nstderr: x")
    assert str(pickle.loads(pickle.dumps(e))) == str(e)
