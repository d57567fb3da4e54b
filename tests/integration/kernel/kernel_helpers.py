"""Helpers shared by the kernel integration tests (imported by name: keep this name unique)."""
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

DEADLINE = 20.0  # generous: other engineers' suites share the 2 cores


def threads_config(**kwargs):
    """A Config with one ThreadPoolExecutor 'threads' (2 threads) unless executors= is given."""
    executors = kwargs.pop("executors", None) or [ThreadPoolExecutor(label="threads", max_threads=2)]
    return Config(executors=executors, **kwargs)
