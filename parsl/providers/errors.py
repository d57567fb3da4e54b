"""Provider errors, at Parsl's import path ``parsl.providers.errors``."""
from parsl._base.job_errors import (  # noqa: F401
    ExecutionProviderException,
    ScaleOutFailed,
    SchedulerCommandError,
    SchedulerMissingArgs,
    ScriptPathError,
    SubmitException,
)

__all__ = ['ExecutionProviderException', 'ScaleOutFailed', 'SchedulerMissingArgs', 'ScriptPathError',
           'SubmitException', 'SchedulerCommandError']
