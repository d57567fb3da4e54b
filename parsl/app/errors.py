"""Errors raised by apps, at Parsl's import path ``parsl.app.errors``."""
from parsl._base.errors import (  # noqa: F401
    AppBadFormatting,
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
    ParslAppError,
)
from parsl._base.remote import RemoteExceptionWrapper, wrap_error  # noqa: F401

__all__ = [
    'ParslAppError', 'AppException', 'AppBadFormatting', 'BashExitFailure', 'AppTimeout', 'BashAppNoReturn',
    'MissingOutputs', 'BadStdStreamFile', 'RemoteExceptionWrapper', 'wrap_error',
]
