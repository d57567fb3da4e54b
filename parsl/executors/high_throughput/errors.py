"""HighThroughputExecutor errors, at Parsl's import path."""
from parsl.errors import ParslError
from parsl.executors.errors import ExecutorError


class ManagerLost(ParslError):
    """A manager (one per node) stopped heartbeating; its tasks failed with this."""

    def __init__(self, manager_id, hostname):
        super().__init__(manager_id, hostname)
        self.manager_id = manager_id
        self.hostname = hostname

    def __str__(self):
        mid = self.manager_id.decode() if isinstance(self.manager_id, bytes) else self.manager_id
        return (f"Task failure due to loss of manager {mid} on host {self.hostname}: it stopped "
                "heartbeating (node lost, killed or cut off). Retries (Config(retries=N)) can rerun the task.")


class WorkerLost(ParslError):
    """The worker process running a task died; the task failed with this."""

    def __init__(self, worker_id, hostname):
        super().__init__(worker_id, hostname)
        self.worker_id = worker_id
        self.hostname = hostname

    def __str__(self):
        return (f"Task failure due to loss of worker {self.worker_id} on host {self.hostname}: the worker "
                "process died while running it (killed, out of memory, or crashed). The worker was replaced.")


class VersionMismatch(ParslError):
    """A manager's Python or Chervil version differs from the submitting side's."""

    def __init__(self, interchange_version, manager_version):
        super().__init__(interchange_version, manager_version)
        self.interchange_version = interchange_version
        self.manager_version = manager_version

    def __str__(self):
        return (f"Manager version info {self.manager_version} differs from the interchange's "
                f"{self.interchange_version}: install the same Python major.minor and Chervil version on the workers.")


class CommandClientTimeoutError(ParslError):
    """The interchange did not answer a command in time."""


class CommandClientBadError(ParslError):
    """The command channel to the interchange is broken."""


class WorkerPoolError(ExecutorError):
    pass
