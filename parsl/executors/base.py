"""The executor interface, at Parsl's import path ``parsl.executors.base``."""
from parsl._executors.base import ParslExecutor  # noqa: F401

__all__ = ["ParslExecutor"]
