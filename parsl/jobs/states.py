"""Batch job states, at Parsl's import path ``parsl.jobs.states``."""
from parsl._base.job_states import TERMINAL_STATES, JobState, JobStatus  # noqa: F401

__all__ = ["JobState", "JobStatus", "TERMINAL_STATES"]
