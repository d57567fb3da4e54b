"""Serialization errors, at Parsl's import path ``parsl.serialize.errors``."""
from parsl._base.errors import (  # noqa: F401
    SerializationError,
    DeserializationError,
    DeserializerPluginError,
)

__all__ = ['SerializationError', 'DeserializationError', 'DeserializerPluginError']
