"""``Config``: what a workflow runs on and how (``parsl.config``).

Both generations of Parsl's API are accepted: today's (``memoizer=``, ``usage_tracking=0..3``)
and the tutorial era's (``app_cache``, ``checkpoint_mode``, ``checkpoint_files``,
``checkpoint_period``, ``lazy_errors``, ``data_management_max_threads``). The class lives in
``parsl._core.config`` (the kernel is built from it) and reads as ``parsl.config.Config``.
"""
from parsl._core.config import Config  # noqa: F401

__all__ = ["Config"]
