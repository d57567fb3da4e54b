"""A block executor made of plain data, for driving the poller without processes."""
from types import SimpleNamespace

from parsl.jobs.error_handlers import simple_error_handler
from parsl.jobs.states import JobState, JobStatus


class FakeBlockExecutor:
    def __init__(self, label="fake", init_blocks=1, min_blocks=0, max_blocks=4, parallelism=1.0,
                 workers_per_node=1, nodes_per_block=1, with_idle_scale_in=True, handler=simple_error_handler):
        self.label = label
        self.provider = SimpleNamespace(init_blocks=init_blocks, min_blocks=min_blocks, max_blocks=max_blocks,
                                        parallelism=parallelism, nodes_per_block=nodes_per_block,
                                        cancelled=[], cancel=lambda ids: self.provider.cancelled.extend(ids))
        self.workers_per_node = workers_per_node
        self.status_polling_interval = 1
        self.tasks = 0
        self.blocks = {}
        self.blocks_to_job_id = {}
        self.bad_state_is_set = False
        self.executor_exception = None
        self.calls = []
        self._handler = handler
        if not with_idle_scale_in:
            self.scale_in_facade = self._scale_in_plain

    def outstanding(self):
        return self.tasks

    def status(self):
        return dict(self.blocks)

    def poll_facade(self):
        self.calls.append("poll")

    def handle_errors(self):
        self._handler(self, self.status())

    def scale_out_facade(self, n):
        self.calls.append(("out", n))
        for _ in range(n):
            bid = str(len(self.blocks))
            self.blocks[bid] = JobStatus(JobState.PENDING)
            self.blocks_to_job_id[bid] = f"job{bid}"

    def scale_in_facade(self, n, max_idletime=None):
        self.calls.append(("in", n, max_idletime))
        self._scale_in_plain(n)

    def _scale_in_plain(self, n):
        alive = [b for b, js in self.blocks.items() if not js.terminal]
        for b in alive[-n:]:
            self.blocks[b] = JobStatus(JobState.SCALED_IN)

    def set_bad_state_and_fail_all(self, exc):
        self.bad_state_is_set = True
        self.executor_exception = exc

    def set_state(self, bid, state, **kw):
        self.blocks[bid] = JobStatus(state, **kw)
