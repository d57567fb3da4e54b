"""Ready-made configuration: one HighThroughputExecutor block of workers on this machine
(one worker per core), started at load.

    import parsl
    from parsl.configs.htex_local import config
    parsl.load(config)

``fresh_config()`` returns a new, equal Config (for a second load after the first cleanup).
"""
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider


def fresh_config() -> Config:
    return Config(
        executors=[
            HighThroughputExecutor(
                label="htex_local",
                cores_per_worker=1,
                provider=LocalProvider(init_blocks=1, max_blocks=1),
            )
        ],
    )


config = fresh_config()
