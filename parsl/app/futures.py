"""``DataFuture``: the future of a file an app reads or writes, at Parsl's import path."""
from parsl._base.futures import DataFuture  # noqa: F401

__all__ = ["DataFuture"]
