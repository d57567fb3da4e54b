"""``AppFuture``: the future an app call returns (``parsl.dataflow.futures``)."""
from __future__ import annotations

from concurrent.futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED

from parsl._base.futures import LightFuture


class AppFuture(LightFuture):
    """The future of one app invocation.

    Beyond Parsl: ``cancel()`` works for a task that has not started running; its
    dependents then fail with a ``DependencyError`` saying the upstream task was cancelled.
    ``fut[key]`` and ``fut.attr`` are lifted: they return new AppFutures computed once this
    one completes.
    """

    __slots__ = ("task_record", "_outputs")

    def __init__(self, task_record):
        LightFuture.__init__(self)
        self.task_record = task_record
        self._outputs = None

    @property
    def tid(self):
        return self.task_record.id

    # Parsl's pre-2023 name
    @property
    def task_def(self):
        return self.task_record

    @property
    def outputs(self):
        return self._outputs if self._outputs is not None else []

    @outputs.setter
    def outputs(self, value):
        self._outputs = value

    @property
    def stdout(self):
        rec = self.task_record
        return rec.get("_stdout_datafuture") or rec.kwargs.get("stdout")

    @property
    def stderr(self):
        rec = self.task_record
        return rec.get("_stderr_datafuture") or rec.kwargs.get("stderr")

    def task_status(self):
        st = self.task_record.status
        return st.name if st is not None else "unsched"

    def cancel(self):
        """Cancel the task if it has not started; returns whether it is cancelled."""
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            return True
        if self._state == FINISHED:
            return False
        dfk = self.task_record.dfk
        if dfk is None:
            return False
        return dfk._cancel_task(self.task_record)

    def __repr__(self):
        rec = self.task_record
        base = LightFuture.__repr__(self)[:-1]
        return f"{base} task_id={rec.id} func={rec.func_name}>"

    # -- lifted operators -------------------------------------------------------
    def __getitem__(self, key):
        from parsl.dataflow.lifted import lifted_getitem
        return lifted_getitem(self, key)

    def __getattr__(self, name):
        # only reached for names the future itself does not have
        if name.startswith("_"):
            raise AttributeError(name)
        from parsl.dataflow.lifted import lifted_getattr
        return lifted_getattr(self, name)
