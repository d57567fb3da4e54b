"""Elasticity: a pure scaling policy (``policy``) over a snapshot of each block executor
(``snapshot``), the strategy that keeps the policy's memory and applies its decisions
(``strategy``), the job status poller that runs it (``poller``) and the block history
(``blocklog``).  ``parsl.jobs.strategy`` and ``parsl.jobs.job_status_poller`` are the
public, Parsl-named faces of this package."""
