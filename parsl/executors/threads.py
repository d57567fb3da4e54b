"""``ThreadPoolExecutor``, at Parsl's import path ``parsl.executors.threads``."""
from parsl._executors.threads import ThreadPoolExecutor  # noqa: F401

__all__ = ["ThreadPoolExecutor"]
