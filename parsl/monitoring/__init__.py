"""Monitoring, at Parsl's import path: ``from parsl.monitoring import MonitoringHub``."""
from parsl._base.lazy import submodule_getattr
from parsl._base.message_type import MessageType
from parsl.monitoring.monitoring import MonitoringHub

__all__ = ["MonitoringHub", "MessageType"]

__getattr__ = submodule_getattr(__name__)
