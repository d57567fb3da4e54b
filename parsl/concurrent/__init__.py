"""``ParslPoolExecutor``: a ``concurrent.futures.Executor`` backed by Chervil (``parsl.concurrent``)."""
from parsl._core.pool import ParslPoolExecutor

__all__ = ["ParslPoolExecutor"]
