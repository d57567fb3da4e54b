"""Job errors, at Parsl's import path ``parsl.jobs.errors``."""
from parsl._base.job_errors import (  # noqa: F401
    TooManyJobFailuresError,
)
from parsl._base.job_states import describe_failed_jobs  # noqa: F401

__all__ = ['TooManyJobFailuresError', 'describe_failed_jobs']
