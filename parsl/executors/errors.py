"""Executor errors, at Parsl's import path ``parsl.executors.errors``."""
from parsl.errors import ParslError


class ExecutorError(ParslError):
    """An executor failed; ``reason`` says how."""

    def __init__(self, executor, reason):
        super().__init__(executor, reason)
        self.executor = executor
        self.reason = reason

    def __str__(self):
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} failed due to: {self.reason}"


class BadStateException(ExecutorError):
    """The executor is in a bad state and fails every task given to it."""

    def __init__(self, executor, exception):
        super().__init__(executor, str(exception))
        self.exception = exception

    def __reduce__(self):
        return (type(self), (getattr(self.executor, "label", self.executor), self.exception))

    def __str__(self):
        label = getattr(self.executor, "label", self.executor)
        return f"Executor {label} is in a bad state and has failed this task: {self.exception}"


class UnsupportedFeatureError(ExecutorError):
    def __init__(self, feature, current_executor, target_executor):
        super().__init__(current_executor, f"{feature} is not supported")
        self.feature = feature
        self.target_executor = target_executor
        self.args = (feature, current_executor, target_executor)

    def __str__(self):
        msg = f"The {self.feature} feature is not supported in {self.executor}."
        if self.target_executor:
            msg += f" Please use the {self.target_executor} executor instead."
        return msg


class InvalidResourceSpecification(ExecutorError):
    """A ``parsl_resource_specification`` has keys this executor does not take."""

    def __init__(self, invalid_keys, message=None):
        super().__init__(None, message)
        self.invalid_keys = invalid_keys
        self.message = message
        self.args = (invalid_keys, message)

    def __str__(self):
        return self.message or f"Invalid resource specification keys: {sorted(self.invalid_keys)}"


class ScalingFailed(ExecutorError):
    """Scaling out failed: the provider returned no job id."""


class BadMessage(ParslError):
    """A message that could not be understood arrived over the wire."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self):
        return f"Received a bad message: {self.reason}"
