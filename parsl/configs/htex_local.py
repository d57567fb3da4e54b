"""Ready-made configuration: one HighThroughputExecutor block of workers on this machine
(one worker per core), started at load.

    import parsl
    from parsl.configs.htex_local import config
    parsl.load(config)
"""
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider

config = Config(
    executors=[
        HighThroughputExecutor(
            label="htex_local",
            cores_per_worker=1,
            provider=LocalProvider(init_blocks=1, max_blocks=1),
        )
    ],
)
