"""Example config: apps run on a pool of threads in this process.

    from parsl.configs.local_threads import config

``fresh_config()`` returns a new, equal Config (for a second load after the first cleanup).
"""
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor


def fresh_config() -> Config:
    return Config(executors=[ThreadPoolExecutor(max_threads=4)])


config = fresh_config()
