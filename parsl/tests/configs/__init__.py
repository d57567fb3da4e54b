"""The example configurations Parsl's docs import from ``parsl.tests.configs``:
``local_threads`` and ``htex_local``, each with ``config`` and ``fresh_config()``."""
