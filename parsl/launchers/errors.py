"""Launcher errors, at Parsl's import path ``parsl.launchers.errors``."""
from parsl._base.errors import (  # noqa: F401
    BadLauncher,
)

__all__ = ['BadLauncher']
