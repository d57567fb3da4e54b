"""Tutorial-era import path; the strategy lives in ``parsl.jobs.strategy`` (as in Parsl since 2023)."""
from parsl.jobs.strategy import Strategy  # noqa: F401
