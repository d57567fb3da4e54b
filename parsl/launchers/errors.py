"""Launcher errors, at Parsl's import path ``parsl.launchers.errors``."""
from parsl.launchers.base import BadLauncher

__all__ = ["BadLauncher"]
