"""Kinds of monitoring message, at Parsl's import path (defined in ``parsl._base.message_type``)."""
from parsl._base.message_type import MessageType  # noqa: F401

__all__ = ["MessageType"]
