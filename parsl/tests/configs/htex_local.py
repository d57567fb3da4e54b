"""``from parsl.tests.configs.htex_local import config``: one HighThroughputExecutor block of
workers on this machine. The same configuration as ``parsl.configs.htex_local``;
``fresh_config()`` makes a new one (a Config's executors are started by one load at a time)."""
from parsl.configs.htex_local import fresh_config

config = fresh_config()

__all__ = ["config", "fresh_config"]
