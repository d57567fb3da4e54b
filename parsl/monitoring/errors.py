"""Monitoring's exceptions (Parsl's names)."""
from parsl._base.errors import (  # noqa: F401
    MonitoringHubStartError,
    RadioRequiredError,
)

__all__ = ['MonitoringHubStartError', 'RadioRequiredError']
