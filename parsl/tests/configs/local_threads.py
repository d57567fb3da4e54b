"""``from parsl.tests.configs.local_threads import config``: apps run on threads in this
process. The same configuration as ``parsl.configs.local_threads``; ``fresh_config()`` makes
a new one (a Config's executors are started by one load at a time)."""
from parsl.configs.local_threads import fresh_config

config = fresh_config()

__all__ = ["config", "fresh_config"]
