"""Tutorial-era import path; the poller lives in ``parsl.jobs.job_status_poller`` (as in Parsl since 2023)."""
from parsl.jobs.job_status_poller import JobStatusPoller  # noqa: F401
