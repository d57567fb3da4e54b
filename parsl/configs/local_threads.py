"""Example config: apps run on a pool of threads in this process."""
from parsl.config import Config
from parsl.executors.threads import ThreadPoolExecutor

config = Config(executors=[ThreadPoolExecutor(max_threads=4)])
