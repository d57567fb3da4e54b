"""Elasticity: a pure scaling policy (``policy``) and the thin shell that applies it
(``poller``).  ``parsl.jobs.strategy`` and ``parsl.jobs.job_status_poller`` are the
public, Parsl-named faces of this package."""
