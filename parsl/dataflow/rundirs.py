"""Numbered run directories: ``runinfo/000``, ``001``, ... (``parsl.dataflow.rundirs``).

The machinery lives in ``parsl._core.rundirs``.
"""
from parsl._core.rundirs import make_rundir  # noqa: F401

__all__ = ["make_rundir"]
