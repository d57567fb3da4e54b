"""The job status poller, at Parsl's import path ``parsl.jobs.job_status_poller``.

The DataFlowKernel creates one at load, hands it its block executors with ``add_executors``
and calls ``close()`` at cleanup; the work is in ``parsl._scaling.poller``.
"""
from parsl._scaling.poller import JobStatusPoller  # noqa: F401

__all__ = ["JobStatusPoller"]
