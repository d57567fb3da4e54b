"""Launchers at Parsl's import path.  HPC launchers live in ``parsl.launchers.hpc``."""
from parsl.launchers.base import Launcher
from parsl.launchers.launchers import SimpleLauncher, SingleNodeLauncher, WrappedLauncher

__all__ = ["Launcher", "SimpleLauncher", "SingleNodeLauncher", "WrappedLauncher"]

_HPC = ("SrunLauncher", "SrunMPILauncher", "AprunLauncher", "JsrunLauncher", "MpiExecLauncher",
        "MpiRunLauncher", "GnuParallelLauncher")


def __getattr__(name):
    if name in _HPC:
        from parsl.launchers import hpc
        return getattr(hpc, name)
    raise AttributeError(f"module 'parsl.launchers' has no attribute {name!r}")
