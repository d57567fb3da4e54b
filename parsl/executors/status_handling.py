"""``BlockProviderExecutor``, at Parsl's import path ``parsl.executors.status_handling``."""
from parsl._executors.blocks import BlockProviderExecutor  # noqa: F401

__all__ = ["BlockProviderExecutor"]
