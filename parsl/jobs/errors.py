"""Job errors, at Parsl's import path ``parsl.jobs.errors``."""
from parsl.errors import ParslError


class TooManyJobFailuresError(ParslError):
    """Too many blocks of an executor failed; the executor gave up."""
