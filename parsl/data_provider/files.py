"""``File``: a location-independent reference to a file, at Parsl's import path."""
from parsl._base.files import File  # noqa: F401

__all__ = ["File"]
