"""Chervil's version, at Parsl's import path ``parsl.version``."""
from parsl._base.version import VERSION  # noqa: F401

__all__ = ["VERSION"]
