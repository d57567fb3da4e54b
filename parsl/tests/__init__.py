"""Parsl's test package, as far as Parsl's docs use it: ``parsl.tests.configs`` holds the
example configurations the docs import (``local_threads``, ``htex_local``), made from
``parsl.configs``. Parsl's test suite itself is not shipped; importing any other module under
``parsl.tests`` fails with a message that points to ``parsl.configs``."""
from parsl._base.lazy import MissingModuleHint

MissingModuleHint.install(
    "parsl.tests.",
    "Chervil does not ship Parsl's test suite. parsl.tests.configs has only the example "
    "configurations Parsl's docs import (local_threads, htex_local); for ready-made "
    "configurations use parsl.configs (e.g. from parsl.configs.local_threads import config) "
    "or build a parsl.config.Config")
