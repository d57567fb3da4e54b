"""Provider errors, at Parsl's import path ``parsl.providers.errors``."""
from parsl.errors import ParslError


class ExecutionProviderException(ParslError):
    """Base class of provider errors."""


class ScaleOutFailed(ExecutionProviderException):
    def __init__(self, provider, reason):
        super().__init__(provider, reason)
        self.provider = provider
        self.reason = reason

    def __str__(self):
        return f"Unable to scale out {self.provider}: {self.reason}"


class SchedulerMissingArgs(ExecutionProviderException):
    def __init__(self, missing_keywords, sitename):
        super().__init__(missing_keywords, sitename)
        self.missing_keywords = missing_keywords
        self.sitename = sitename

    def __str__(self):
        return f"Missing keyword arguments {self.missing_keywords} for provider {self.sitename}"


class ScriptPathError(ExecutionProviderException):
    def __init__(self, script_path, reason):
        super().__init__(script_path, reason)
        self.script_path = script_path
        self.reason = reason

    def __str__(self):
        return f"Unable to write submit script {self.script_path}: {self.reason}"


class SubmitException(ExecutionProviderException):
    """The scheduler refused a job; its own output is quoted."""

    def __init__(self, job_name, message, stdout=None, stderr=None, retcode=None):
        super().__init__(job_name, message, stdout, stderr, retcode)
        self.job_name = job_name
        self.message = message
        self.stdout = stdout
        self.stderr = stderr
        self.retcode = retcode

    @property
    def task_name(self):
        return self.job_name

    def __str__(self):
        return (f"Cannot launch job {self.job_name}: {self.message}; recode={self.retcode}, "
                f"stdout={self.stdout!r}, stderr={self.stderr!r}")


class SchedulerCommandError(ExecutionProviderException):
    """A scheduler command failed or printed something we cannot read; its own words are quoted."""

    def __init__(self, cmd, retcode, stdout, stderr, reason=None):
        super().__init__(cmd, retcode, stdout, stderr, reason)
        self.cmd = cmd
        self.retcode = retcode
        self.stdout = stdout
        self.stderr = stderr
        self.reason = reason

    def __str__(self):
        what = self.reason or f"exited with code {self.retcode}"
        msg = f"Scheduler command {self.cmd!r} {what}"
        if self.stderr and self.stderr.strip():
            msg += f"; it said: {self.stderr.strip()}"
        elif self.stdout and self.stdout.strip() and not self.reason:
            msg += f"; it printed: {self.stdout.strip()}"
        return msg
