"""Launcher errors, at Parsl's import path ``parsl.launchers.errors``."""
from parsl._base.job_errors import (  # noqa: F401
    BadLauncher,
)

__all__ = ['BadLauncher']
