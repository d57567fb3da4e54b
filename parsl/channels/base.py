"""The channel interface, kept only so old imports and isinstance checks work."""
from abc import ABCMeta


class Channel(metaclass=ABCMeta):
    """Tutorial-era interface; providers now run commands locally themselves."""

    script_dir = None
