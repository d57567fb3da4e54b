"""Serialization errors, at Parsl's import path ``parsl.serialize.errors``."""
from parsl.errors import ParslError


class SerializationError(ParslError):
    """An object could not be serialized to send it to a worker."""

    def __init__(self, fname, reason=None):
        super().__init__(fname, reason)
        self.fname = fname
        self.reason = reason

    def __str__(self):
        if self.fname in ("arguments", "result"):
            # raised where the function's name is not known: say which part failed
            msg = f"Failed to serialize the task's {self.fname}"
        else:
            msg = f"Failed to serialize objects for an invocation of function {self.fname}"
        if self.reason:
            msg += f": {self.reason}"
        return msg + ". Pass only picklable values, or run the app on a ThreadPoolExecutor."


class DeserializationError(ParslError):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __str__(self):
        return f"Failed to deserialize objects: {self.reason}"


class DeserializerPluginError(ParslError):
    def __init__(self, header):
        super().__init__(header)
        self.header = header

    def __str__(self):
        return f"Failed to load deserializer plugin for header {self.header!r}"
