"""Every error Chervil raises, in one hierarchy (re-exported at Parsl's paths).

Each class names, as its ``__module__``, the public module where Parsl users import it, so
tracebacks, ``repr`` and pickles read exactly as they do with Parsl, and an ``except`` on the
public name catches it. Every error keeps its constructor arguments in ``self.args`` (or a
``__reduce__``), so it pickles and unpickles unchanged across processes.

Exception
├── ParslError                              parsl.errors
│   ├── ConfigurationError
│   │   └── ConfigurationTypeError (also TypeError)
│   ├── OptionalModuleMissing
│   ├── InternalConsistencyError
│   ├── NoDataFlowKernelError
│   ├── ParslAppError                       parsl.app.errors
│   │   ├── AppException
│   │   │   ├── BashExitFailure
│   │   │   ├── AppTimeout
│   │   │   └── BashAppNoReturn (also ValueError)
│   │   ├── AppBadFormatting
│   │   ├── MissingOutputs
│   │   └── BadStdStreamFile
│   ├── DataFlowException                   parsl.dataflow.errors
│   │   ├── BadCheckpoint
│   │   └── PropagatedException
│   │       ├── DependencyError
│   │       └── JoinError
│   ├── ExecutorError                       parsl.executors.errors
│   │   ├── BadStateException
│   │   ├── UnsupportedFeatureError
│   │   ├── InvalidResourceSpecification
│   │   ├── ScalingFailed
│   │   └── WorkerPoolError                 parsl.executors.high_throughput.errors
│   ├── BadMessage                          parsl.executors.errors
│   ├── ManagerLost, WorkerLost, VersionMismatch,
│   │   CommandClientTimeoutError, CommandClientBadError
│   │                                       parsl.executors.high_throughput.errors
│   ├── ExecutionProviderException          parsl.providers.errors
│   │   ├── ScaleOutFailed
│   │   ├── SchedulerMissingArgs
│   │   ├── ScriptPathError
│   │   ├── SubmitException
│   │   └── SchedulerCommandError
│   ├── SerializationError, DeserializationError, DeserializerPluginError
│   │                                       parsl.serialize.errors
│   ├── TooManyJobFailuresError             parsl.jobs.errors
│   └── MonitoringHubStartError, RadioRequiredError
│                                           parsl.monitoring.errors
└── TypeError
    └── BadLauncher                         parsl.launchers.errors

Errors that belong to one feature stay beside it (``UnmemoizableArgumentError`` in the memo
keys, the Globus and zip staging errors in their schemes); all derive from ``ParslError``.
The errors of batch jobs, providers and launchers (``ExecutionProviderException`` and below,
``TooManyJobFailuresError``, ``BadLauncher``) are defined in ``parsl._base.job_errors``.
``RemoteExceptionWrapper`` (``parsl._base.remote``) carries any of them across processes.
"""
from __future__ import annotations

from concurrent.futures import CancelledError
from typing import Any, List, Optional, Sequence, Tuple


class ParslError(Exception):
    """Base class of every error Chervil raises itself."""


class ConfigurationError(ParslError):
    """A configuration value is wrong; the message names the field and the fix."""


class ConfigurationTypeError(ConfigurationError, TypeError):
    """A configuration value has the wrong type.

    Also a ``TypeError``: Parsl type-checks its configuration classes, so scripts written for
    it catch ``TypeError`` there; a ``ConfigurationError`` for everyone else.
    """


class OptionalModuleMissing(ParslError):
    """An optional dependency is needed for a feature that was asked for."""

    def __init__(self, module_names: Any, reason: Any) -> None:
        super().__init__(module_names, reason)
        self.module_names = module_names
        self.reason = reason

    def __str__(self) -> str:
        return (f"The functionality requested requires optional modules {self.module_names} "
                f"which could not be imported, because: {self.reason}")


class InternalConsistencyError(ParslError):
    """Chervil found its own state inconsistent: a bug, please report it."""


class NoDataFlowKernelError(ParslError):
    """No DataFlowKernel is loaded (or the one used has been cleaned up)."""


# ---- at Parsl's path parsl.app.errors
class ParslAppError(ParslError):
    """Base class of the errors of an app's own run (formatting, exit codes, outputs, timeouts)."""

    pass


class AppException(ParslAppError):
    """An app failed in a way that is not the user's own exception."""


class AppBadFormatting(ParslAppError):
    """A bash app's command string could not be formatted."""


class BashExitFailure(AppException):
    """A bash app's command exited with a non-zero code.

    The message says the exit code and where the command's stdout and stderr went,
    so the user can go straight to the evidence.
    """

    def __init__(self, app_name: str, exitcode: Optional[int], stdout: Optional[str] = None,
                 stderr: Optional[str] = None) -> None:
        super().__init__(app_name, exitcode, stdout, stderr)
        self.app_name = app_name
        self.exitcode = exitcode
        self.stdout = stdout
        self.stderr = stderr

    def __str__(self) -> str:
        msg = f"bash_app {self.app_name} failed with unix exit code {self.exitcode}"
        if self.exitcode is not None and self.exitcode < 0:
            msg += f" (killed by signal {-self.exitcode})"
        where = []
        if self.stdout:
            where.append(f"stdout: {self.stdout}")
        if self.stderr:
            where.append(f"stderr: {self.stderr}")
        if where:
            msg += "; " + ", ".join(where)
        else:
            msg += "; stdout/stderr were not redirected (pass stdout=/stderr= to keep them)"
        return msg


class AppTimeout(AppException):
    """An app ran longer than its ``walltime``."""


class BashAppNoReturn(AppException, ValueError):
    """A bash app's function did not return a command string.

    Also a ``ValueError``, which is what Parsl raises for a non-string command.
    """

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Bash app returned no command: {self.reason}"


class MissingOutputs(ParslAppError):
    """An app finished but some of its declared ``outputs`` do not exist."""

    def __init__(self, reason: Any, outputs: Any) -> None:
        super().__init__(reason, outputs)
        self.reason = reason
        self.outputs = outputs

    def __str__(self) -> str:
        return f"Missing Outputs: {self.outputs}, Reason: {self.reason}"


class BadStdStreamFile(ParslAppError):
    """A stdout/stderr target could not be opened."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Bad stdout/stderr file: {self.reason}"


# ---- at Parsl's path parsl.dataflow.errors
class DataFlowException(ParslError):
    """Base class of dataflow errors."""


class BadCheckpoint(DataFlowException):
    """A checkpoint could not be loaded; the message names the file and the cause."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class PropagatedException(DataFlowException):
    """A task failed because other futures it depends on failed.

    ``dependent_exceptions_tids`` is a list of (exception, description) pairs where
    the description is ``"task N"``, ``"DataFuture from task N"`` or a repr.
    """

    kind = "Propagated"

    def __init__(self, dependent_exceptions_tids: Sequence[Tuple[BaseException, str]], task_id: Any,
                 *, failure_description: Optional[str] = None) -> None:
        super().__init__(list(dependent_exceptions_tids), task_id)
        self.dependent_exceptions_tids = list(dependent_exceptions_tids)
        self.task_id = task_id
        self.failure_description = failure_description or self.kind
        root = self._find_any_root_cause()
        if root is not None:
            self.__cause__ = root

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild_propagated, (type(self), self.dependent_exceptions_tids, self.task_id,
                                      self.failure_description))

    def _find_any_root_cause(self) -> Optional[BaseException]:
        for e, _ in self.dependent_exceptions_tids:
            while isinstance(e, PropagatedException) and e.dependent_exceptions_tids:
                e = e.dependent_exceptions_tids[0][0]
            if not isinstance(e, PropagatedException):
                return e
        return None

    def _chain(self) -> List[str]:
        """The chain of ids from this task back to the first root cause."""
        chain = []
        e: BaseException = self
        while isinstance(e, PropagatedException) and e.dependent_exceptions_tids:
            exc, desc = e.dependent_exceptions_tids[0]
            chain.append(desc)
            e = exc
        return chain

    def __str__(self) -> str:
        chain = " <- ".join(self._chain())
        others = " (+ others)" if len(self.dependent_exceptions_tids) > 1 else ""
        root = self.__cause__
        why = ""
        if root is not None:
            if isinstance(root, CancelledError):
                why = ": the upstream task was cancelled"
            else:
                why = f": {type(root).__name__}: {root}"
        return (f"{self.failure_description} failure for task {self.task_id} with failed dependencies "
                f"from {chain}{others}{why}")


def _rebuild_propagated(cls: type[PropagatedException], deps: Sequence[Tuple[BaseException, str]], task_id: Any,
                        desc: str) -> PropagatedException:
    return cls(deps, task_id, failure_description=desc)


class DependencyError(PropagatedException):
    """A task could not run because a task it depends on failed (or was cancelled)."""

    kind = "Dependency"

    def __init__(self, dependent_exceptions_tids: Sequence[Tuple[BaseException, str]], task_id: Any) -> None:
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Dependency")

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.dependent_exceptions_tids, self.task_id))


class JoinError(PropagatedException):
    """A join app's inner futures failed."""

    kind = "Join"

    def __init__(self, dependent_exceptions_tids: Sequence[Tuple[BaseException, str]], task_id: Any) -> None:
        super().__init__(dependent_exceptions_tids, task_id, failure_description="Join")

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.dependent_exceptions_tids, self.task_id))


# ---- at Parsl's path parsl.executors.errors
class ExecutorError(ParslError):
    """An executor failed; ``reason`` says how."""

    def __init__(self, executor: Any, reason: Any) -> None:
        super().__init__(executor, reason)
        self.executor = executor
        self.reason = reason

    def __str__(self) -> str:
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} failed due to: {self.reason}"


class BadStateException(ExecutorError):
    """The executor is in a bad state and fails every task given to it."""

    def __init__(self, executor: Any, exception: BaseException) -> None:
        super().__init__(executor, str(exception))
        self.exception = exception

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (getattr(self.executor, "label", self.executor), self.exception))

    def __str__(self) -> str:
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} is in a bad state and has failed this task: {self.exception}"


class UnsupportedFeatureError(ExecutorError):
    """The executor cannot do what a task or the configuration asks (the message says what, and what to use instead)."""

    def __init__(self, feature: str, current_executor: Any, target_executor: Any) -> None:
        super().__init__(current_executor, f"{feature} is not supported")
        self.feature = feature
        self.target_executor = target_executor
        self.args = (feature, current_executor, target_executor)

    def __str__(self) -> str:
        msg = f"The {self.feature} feature is not supported in {self.executor}."
        if self.target_executor:
            msg += f" Please use the {self.target_executor} executor instead."
        return msg


class InvalidResourceSpecification(ExecutorError):
    """A ``parsl_resource_specification`` has keys this executor does not take."""

    def __init__(self, invalid_keys: Any, message: Optional[str] = None) -> None:
        super().__init__(None, message)
        self.invalid_keys = invalid_keys
        self.message = message
        self.args = (invalid_keys, message)

    def __str__(self) -> str:
        return self.message or f"Invalid resource specification keys: {sorted(self.invalid_keys)}"


class ScalingFailed(ExecutorError):
    """Scaling out failed: the provider returned no job id."""


class BadMessage(ParslError):
    """A message that could not be understood arrived over the wire."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Received a bad message: {self.reason}"


# ---- at Parsl's path parsl.executors.high_throughput.errors
class ManagerLost(ParslError):
    """A manager (one per node) stopped heartbeating; its tasks failed with this."""

    def __init__(self, manager_id: Any, hostname: Any) -> None:
        super().__init__(manager_id, hostname)
        self.manager_id = manager_id
        self.hostname = hostname

    def __str__(self) -> str:
        mid = self.manager_id.decode() if isinstance(self.manager_id, bytes) else self.manager_id
        return (f"Task failure due to loss of manager {mid} on host {self.hostname}: it stopped "
                "heartbeating (node lost, killed or cut off). Retries (Config(retries=N)) can rerun the task.")


class WorkerLost(ParslError):
    """The worker process running a task died; the task failed with this."""

    def __init__(self, worker_id: Any, hostname: Any) -> None:
        super().__init__(worker_id, hostname)
        self.worker_id = worker_id
        self.hostname = hostname

    def __str__(self) -> str:
        return (f"Task failure due to loss of worker {self.worker_id} on host {self.hostname}: the worker "
                "process died while running it (killed, out of memory, or crashed). The worker was replaced.")


class VersionMismatch(ParslError):
    """A manager's Python or Chervil version differs from the submitting side's."""

    def __init__(self, interchange_version: Any, manager_version: Any) -> None:
        super().__init__(interchange_version, manager_version)
        self.interchange_version = interchange_version
        self.manager_version = manager_version

    def __str__(self) -> str:
        return (f"Manager version info {self.manager_version} differs from the interchange's "
                f"{self.interchange_version}: install the same Python major.minor and Chervil version on the workers.")


class CommandClientTimeoutError(ParslError):
    """The interchange did not answer a command in time."""


class CommandClientBadError(ParslError):
    """The command channel to the interchange is broken."""


class WorkerPoolError(ExecutorError):
    pass


# ---- at Parsl's path parsl.serialize.errors
class SerializationError(ParslError):
    """An object could not be serialized to send it to a worker."""

    def __init__(self, fname: Any, reason: Any = None) -> None:
        super().__init__(fname, reason)
        self.fname = fname
        self.reason = reason

    def __str__(self) -> str:
        if self.fname in ("arguments", "result"):
            # raised where the function's name is not known: say which part failed
            msg = f"Failed to serialize the task's {self.fname}"
        else:
            msg = f"Failed to serialize objects for an invocation of function {self.fname}"
        if self.reason:
            msg += f": {self.reason}"
        return msg + ". Pass only picklable values, or run the app on a ThreadPoolExecutor."


class DeserializationError(ParslError):
    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"Failed to deserialize objects: {self.reason}"


class DeserializerPluginError(ParslError):
    def __init__(self, header: Any) -> None:
        super().__init__(header)
        self.header = header

    def __str__(self) -> str:
        return f"Failed to load deserializer plugin for header {self.header!r}"


# ---- at Parsl's path parsl.monitoring.errors
class MonitoringHubStartError(ParslError):
    """The monitoring hub (here: its database writer) could not start."""

    def __str__(self) -> str:
        return "Hub failed to start"


class RadioRequiredError(ParslError):
    """Resource monitoring needs the executor to have a ``remote_monitoring_radio``."""

    def __str__(self) -> str:
        return ("This executor requires a radio to be configured for resource monitoring: "
                "set its remote_monitoring_radio (for example parsl.monitoring.radios.udp.UDPRadio())")


class CapturedGlobalWarning(UserWarning):
    """A python_app assigns to a global: on a worker in another process, only its copy changes."""


# Where Parsl's users import each class: set as its __module__ (see the docstring).
_PUBLIC_HOMES = {
    "parsl.errors": (ParslError, ConfigurationError, ConfigurationTypeError, OptionalModuleMissing,
                     InternalConsistencyError, NoDataFlowKernelError, CapturedGlobalWarning),
    "parsl.app.errors": (ParslAppError, AppException, AppBadFormatting, BashExitFailure, AppTimeout,
                         BashAppNoReturn, MissingOutputs, BadStdStreamFile),
    "parsl.dataflow.errors": (DataFlowException, BadCheckpoint, PropagatedException, DependencyError, JoinError),
    "parsl.executors.errors": (ExecutorError, BadStateException, UnsupportedFeatureError,
                               InvalidResourceSpecification, ScalingFailed, BadMessage),
    "parsl.executors.high_throughput.errors": (ManagerLost, WorkerLost, VersionMismatch,
                                               CommandClientTimeoutError, CommandClientBadError,
                                               WorkerPoolError),
    "parsl.serialize.errors": (SerializationError, DeserializationError, DeserializerPluginError),
    "parsl.monitoring.errors": (MonitoringHubStartError, RadioRequiredError),
}
for _home, _classes in _PUBLIC_HOMES.items():
    for _cls in _classes:
        _cls.__module__ = _home
del _home, _classes, _cls
