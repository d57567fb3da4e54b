"""Scaling strategies, at Parsl's import path ``parsl.jobs.strategy``."""
from parsl._scaling.strategy import Strategy  # noqa: F401

__all__ = ["Strategy"]
