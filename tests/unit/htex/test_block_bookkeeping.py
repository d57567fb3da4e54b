"""BlockProviderExecutor bookkeeping with a fake provider: ids, failures, bad state, MISSING."""
import pytest

from parsl.executors.high_throughput.executor import HighThroughputExecutor
from parsl.jobs.states import JobState, JobStatus
from parsl.providers.base import ExecutionProvider


class FakeProvider(ExecutionProvider):
    def __init__(self, fail_submit=False, init_blocks=1):
        super().__init__()
        self.init_blocks = init_blocks
        self.fail_submit = fail_submit
        self.states = {}
        self.submitted = []
        self.cancelled = []

    def submit(self, command, tasks_per_node, job_name="parsl.auto"):
        if self.fail_submit:
            raise RuntimeError("queue is closed")
        job = f"job{len(self.submitted)}"
        self.submitted.append((job, command, job_name))
        self.states[job] = JobStatus(JobState.RUNNING)
        return job

    def status(self, job_ids):
        return [self.states[j] for j in job_ids]

    def cancel(self, job_ids):
        self.cancelled.extend(job_ids)
        return [True] * len(job_ids)

    @property
    def label(self):
        return "fake"

    @property
    def status_polling_interval(self):
        return 0


def make(provider):
    ex = HighThroughputExecutor(label="hx", provider=provider, address="127.0.0.1")
    ex.all_addresses = "127.0.0.1"
    ex.worker_port = 1234
    return ex


def test_block_ids_job_names_and_launch_command():
    p = FakeProvider()
    ex = make(p)
    assert ex.scale_out_facade(2) == ["0", "1"]
    assert ex.blocks_to_job_id == {"0": "job0", "1": "job1"}
    job, cmd, name = p.submitted[1]
    assert name == "parsl.hx.block-1"
    assert "--block_id=1" in cmd and "--port=1234" in cmd and "-a 127.0.0.1" in cmd


def test_failed_submit_becomes_a_failed_block_and_bad_state():
    ex = make(FakeProvider(fail_submit=True))
    assert ex.scale_out_facade(1) == []
    st = ex.status()["0"]
    assert st.state == JobState.FAILED and st.message == "Failed to start block 0: queue is closed"   # Parsl's text
    assert "0" not in ex.blocks_to_job_id
    ex.handle_errors()
    assert ex.bad_state_is_set
    assert "queue is closed" in str(ex.executor_exception)


def test_block_that_ended_without_connecting_is_missing():
    p = FakeProvider()
    ex = make(p)
    ex.scale_out_facade(2)
    p.states["job0"] = JobStatus(JobState.COMPLETED, exit_code=0)
    ex._connected_blocks.add("1")
    p.states["job1"] = JobStatus(JobState.COMPLETED, exit_code=0)
    ex.poll_facade()
    st = ex.status()
    assert st["0"].state == JobState.MISSING and "without any manager" in st["0"].message
    assert st["1"].state == JobState.COMPLETED


def test_scale_in_without_managers_cancels_the_newest_blocks():
    p = FakeProvider()
    ex = make(p)
    ex.scale_out_facade(3)
    assert ex.scale_in_facade(2) == ["2", "1"]
    assert p.cancelled == ["job2", "job1"]
    assert ex.status()["2"].state == JobState.SCALED_IN


def test_launch_cmd_placeholders_are_checked():
    ex = make(FakeProvider())
    ex.launch_cmd = "run-pool --id {block_id} --nonsense {no_such_thing}"
    from parsl.executors.errors import ExecutorError
    with pytest.raises(ExecutorError, match="no_such_thing"):
        ex._get_launch_command("0")
    ex.launch_cmd = "run-pool --id {block_id} --port {task_port}"
    assert ex._get_launch_command("4") == "run-pool --id 4 --port 1234"


def test_a_running_block_whose_manager_never_connects_is_warned_about_once(monkeypatch, caplog):
    import logging

    from parsl.executors.high_throughput import executor as htex_module
    from parsl.executors.status_handling import BlockProviderExecutor
    ex = HighThroughputExecutor(label="h", address="10.9.8.7")
    ex.blocks_to_job_id["0"] = "job0"
    monkeypatch.setattr(BlockProviderExecutor, "status", lambda self: {
        "0": JobStatus(JobState.RUNNING, stdout_path="/runs/block0.out", stderr_path="/runs/block0.err")})
    clock = [1000.0]
    monkeypatch.setattr(ex, "_clock", lambda: clock[0])

    def warnings_after(seconds):
        clock[0] = 1000.0 + seconds
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=htex_module.logger.name):
            ex.status()
        return [r.getMessage() for r in caplog.records]

    assert warnings_after(0) == []
    assert warnings_after(htex_module.UNCONNECTED_WARN_S - 1) == []
    (msg,) = warnings_after(htex_module.UNCONNECTED_WARN_S + 1)
    assert "block 0 (job job0)" in msg and "no manager has connected" in msg
    assert "10.9.8.7" in msg and "/runs/block0.err" in msg
    assert warnings_after(10 * htex_module.UNCONNECTED_WARN_S) == []          # once
    ex._connected_blocks.add("0")                                             # it connected after all
    assert warnings_after(20 * htex_module.UNCONNECTED_WARN_S) == []


def test_a_failed_submit_reaches_the_monitoring_block_table():
    from parsl.monitoring.message_type import MessageType
    ex = make(FakeProvider(fail_submit=True))
    sent = []
    ex.monitoring_messages = lambda kind, msg: sent.append((kind, msg))
    ex.scale_out_facade(1)
    assert [(k, m["block_id"], m["status"]) for k, m in sent] == [(MessageType.BLOCK_INFO, "0", "FAILED")]
