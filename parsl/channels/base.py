"""The channel interface, kept only so old imports and isinstance checks work."""
from abc import ABCMeta


# Parsl's Channel is an ABC that old code subclasses and isinstance-checks; it keeps no abstract
# methods here so such subclasses still instantiate.
class Channel(metaclass=ABCMeta):  # noqa: B024 - Parsl-compatible ABC with nothing abstract left
    """Tutorial-era interface; providers now run commands locally themselves."""

    script_dir = None
