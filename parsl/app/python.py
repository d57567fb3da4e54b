"""``PythonApp``: runs a Python function as a task (``parsl.app.python``).

The machinery lives in ``parsl._core.apps``.
"""
from parsl._core.apps import DropKwargs as _DropKwargs  # noqa: F401
from parsl._core.apps import PythonApp  # noqa: F401

__all__ = ["PythonApp"]
