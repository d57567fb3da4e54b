"""The job status poller, at Parsl's import path ``parsl.jobs.job_status_poller``.

The DataFlowKernel creates one at load, hands it its block executors with
``add_executors`` and calls ``close()`` at cleanup; all the work is in
``parsl._scaling.poller.ScalingLoop``.
"""
from __future__ import annotations

from parsl._scaling.poller import ScalingLoop


class JobStatusPoller(ScalingLoop):
    def __init__(self, *, strategy="simple", strategy_period: float = 5.0, max_idletime: float = 120.0,
                 dfk=None, **kwargs):
        super().__init__(strategy=strategy, strategy_period=strategy_period, max_idletime=max_idletime, **kwargs)
        self.dfk = dfk

    @property
    def executors(self):
        return list(self._executors)
