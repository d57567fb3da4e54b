"""Stand-ins for the kernel's objects, so monitoring is tested without a DFK."""
import datetime
import os
import types

from parsl.dataflow.states import States


class FakeRecord:
    """Has the TaskRecord fields monitoring reads (see docs/ARCHITECTURE.md)."""

    def __init__(self, tid, func_name="f", executor="threads", depends=(), kwargs=None):
        self.id = tid
        self.func_name = func_name
        self.executor = executor
        self.depends = list(depends)
        self.kwargs = kwargs or {}
        self.status = None
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history = []
        self.try_id = 0
        self.memoize = False
        self.hashsum = None
        self.from_memo = None
        self.joins = None
        self.exec_fu = None
        self.time_invoked = datetime.datetime.now()
        self.time_returned = None


class FakeFuture:
    def __init__(self, tid):
        self.tid = tid


def fake_dfk(tmp_path, executors=("threads",), in_process=("threads",)):
    execs = {}
    for label in executors:
        execs[label] = types.SimpleNamespace(label=label, runs_in_process=label in in_process)
    run_dir = os.path.join(str(tmp_path), "runinfo", "000")
    os.makedirs(run_dir, exist_ok=True)
    return types.SimpleNamespace(run_id="run-1", run_dir=run_dir, config=None, workflow_name=None,
                                 workflow_version=None, executors=execs)


def run_task(hub, rec, states=(States.pending, States.launched, States.exec_done)):
    for s in states:
        if s in (States.exec_done, States.failed, States.memo_done, States.dep_fail):
            rec.time_returned = datetime.datetime.now()
        hub.task_state_changed(rec, s)
