"""Tutorial-era module name (``parsl.providers.provider_base``, now ``parsl.providers.base``)."""
from parsl._base.job_states import JobState, JobStatus  # noqa: F401  (lived here before 2023.07)
from parsl.providers.base import ExecutionProvider  # noqa: F401
