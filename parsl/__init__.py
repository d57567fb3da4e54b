"""Chervil: a fast implementation of the Parsl parallel scripting model.

``import parsl`` is kept cheap: the public names below are imported on first use.
"""
import logging
from logging import NullHandler  # the tutorial imports it from here

from parsl._base.version import VERSION

__version__ = VERSION
AUTO_LOGNAME = -1

logging.getLogger("parsl").addHandler(NullHandler())

_LAZY = {
    "python_app": ("parsl.app.app", "python_app"),
    "bash_app": ("parsl.app.app", "bash_app"),
    "join_app": ("parsl.app.app", "join_app"),
    "Config": ("parsl.config", "Config"),
    "File": ("parsl.data_provider.files", "File"),
    "DataFlowKernel": ("parsl.dataflow.dflow", "DataFlowKernel"),
    "DataFlowKernelLoader": ("parsl.dataflow.dflow", "DataFlowKernelLoader"),
    "ThreadPoolExecutor": ("parsl.executors.threads", "ThreadPoolExecutor"),
    "HighThroughputExecutor": ("parsl.executors.high_throughput.executor", "HighThroughputExecutor"),
    "WorkQueueExecutor": ("parsl.executors.workqueue", "WorkQueueExecutor"),
    "MonitoringHub": ("parsl.monitoring.monitoring", "MonitoringHub"),
    "set_stream_logger": ("parsl.log_utils", "set_stream_logger"),
    "set_file_logger": ("parsl.log_utils", "set_file_logger"),
}

# Parsl's `import parsl` imports these subpackages, so scripts use `parsl.executors.X` after a
# bare `import parsl`; here each is imported on first attribute access instead (PEP 562).
_SUBMODULES = frozenset({
    "addresses", "app", "channels", "concurrent", "config", "configs", "data_provider", "dataflow",
    "errors", "executors", "jobs", "launchers", "log_utils", "monitoring", "multiprocessing",
    "providers", "serialize", "usage_tracking", "utils", "version",
})

__all__ = [
    "python_app", "bash_app", "join_app", "Config", "File", "DataFlowKernel", "DataFlowKernelLoader",
    "ThreadPoolExecutor", "HighThroughputExecutor", "MonitoringHub", "set_stream_logger",
    "set_file_logger", "NullHandler", "load", "clear", "dfk", "wait_for_current_tasks",
    "AUTO_LOGNAME", "VERSION", "__version__",
]


def load(config=None):
    """Load a Config: start its executors and make it the workflow that apps submit to.

    Args:
        config: the ``Config`` to run; ``None`` uses ``Config()`` (a thread pool).

    Returns:
        The ``DataFlowKernel``. Use it as a context manager (``with parsl.load(config):``) to clean
        up at the end of the block, or call ``parsl.dfk().cleanup()``.

    Raises:
        ConfigurationError: a workflow is already loaded (``parsl.clear()`` or clean it up first),
            or the config is not valid.
    """
    from parsl._core.dfk import DataFlowKernelLoader
    return DataFlowKernelLoader.load(config)


# The functions below import the kernel when first called (deferred: `import parsl` stays
# cheap, even the error classes the registry raises are not loaded until needed).

def clear():
    """Forget the loaded workflow so that another can be loaded.

    The forgotten ``DataFlowKernel`` is cleaned up (its executors and workers stopped) once its
    tasks are done, as the tutorial expects; call ``parsl.dfk().cleanup()`` first to stop it at once.
    """
    from parsl._core import registry
    return registry.clear()


def dfk():
    """The loaded ``DataFlowKernel`` (``cleanup()``, ``wait_for_current_tasks()``, ``checkpoint()``,
    ``executors``, ``run_dir``).

    Raises:
        NoDataFlowKernelError: no workflow is loaded (call ``parsl.load(config)`` first).
    """
    from parsl._core import registry
    return registry.dfk()


def wait_for_current_tasks():
    """Wait for every task of the loaded DataFlowKernel."""
    from parsl._core import registry
    return registry.wait_for_current_tasks()


def __getattr__(name):
    import importlib
    if name in _SUBMODULES:
        return importlib.import_module(f"parsl.{name}")  # the import sets the attribute
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'parsl' has no attribute {name!r}")
    value = getattr(importlib.import_module(spec[0]), spec[1])
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
