"""Monitoring's exceptions (Parsl's names)."""
from parsl.errors import ParslError


class MonitoringHubStartError(ParslError):
    """The monitoring hub (here: its database writer) could not start."""

    def __str__(self) -> str:
        return "Hub failed to start"


class RadioRequiredError(ParslError):
    """Resource monitoring needs the executor to have a ``remote_monitoring_radio``."""

    def __str__(self) -> str:
        return ("This executor requires a radio to be configured for resource monitoring: "
                "set its remote_monitoring_radio (for example parsl.monitoring.radios.udp.UDPRadio())")
