"""Block error handlers, at Parsl's import path ``parsl.jobs.error_handlers``."""
from parsl._executors.block_errors import (  # noqa: F401
    all_failed,
    noop_error_handler,
    simple_error_handler,
    windowed_error_handler,
)

__all__ = ["all_failed", "noop_error_handler", "simple_error_handler", "windowed_error_handler"]
