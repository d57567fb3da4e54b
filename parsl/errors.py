"""The root of Chervil's error hierarchy, at Parsl's import path.

Every error keeps its constructor arguments in ``self.args`` so that it pickles
and unpickles unchanged when it crosses a process boundary.
"""


class ParslError(Exception):
    """Base class of every error Chervil raises itself."""


class ConfigurationError(ParslError):
    """A configuration value is wrong; the message names the field and the fix."""


class OptionalModuleMissing(ParslError):
    """An optional dependency is needed for a feature that was asked for."""

    def __init__(self, module_names, reason):
        super().__init__(module_names, reason)
        self.module_names = module_names
        self.reason = reason

    def __str__(self):
        return (f"The functionality requested requires optional modules {self.module_names} "
                f"which could not be imported, because: {self.reason}")


class InternalConsistencyError(ParslError):
    """Chervil found its own state inconsistent: a bug, please report it."""


class NoDataFlowKernelError(ParslError):
    """No DataFlowKernel is loaded (or the one used has been cleaned up)."""
