"""``BashApp``: the function returns a command line, which runs under /bin/bash on a worker
(``parsl.app.bash``).

The app lives in ``parsl._core.apps``; what runs on the worker in ``parsl._core.bash``.
"""
from parsl._core.apps import BashApp  # noqa: F401
from parsl._core.bash import _std_target, command_is_missing, remote_side_bash_executor  # noqa: F401

__all__ = ["BashApp", "remote_side_bash_executor"]
