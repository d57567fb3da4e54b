"""Serialization errors, at Parsl's import path ``parsl.serialize.errors``."""
from parsl._base.errors import (  # noqa: F401
    DeserializationError,
    DeserializerPluginError,
    SerializationError,
)

__all__ = ['SerializationError', 'DeserializationError', 'DeserializerPluginError']
