"""App decorators: ``python_app``, ``bash_app``, ``join_app`` (``parsl.app.app``).

The machinery lives in ``parsl._core.apps``.
"""
from parsl._core.apps import SPECIAL_KWARGS, AppBase, bash_app, join_app, python_app  # noqa: F401

__all__ = ["AppBase", "python_app", "bash_app", "join_app"]
