"""Logging helpers: ``set_stream_logger``, ``set_file_logger`` (``parsl.log_utils``).

The machinery (and the background writer of the per-run ``parsl.log``) lives in
``parsl._core.logs``.
"""
from parsl._core.logs import (  # noqa: F401
    DEFAULT_FORMAT,
    STREAM_FORMAT,
    TRACE,
    set_file_logger,
    set_stream_logger,
)

__all__ = ["set_stream_logger", "set_file_logger", "TRACE", "DEFAULT_FORMAT", "STREAM_FORMAT"]
