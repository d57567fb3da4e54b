"""``LocalChannel``: accepted for compatibility, does nothing, warns once per process."""
import threading
import warnings

from parsl.channels.base import Channel

_warned = False
_lock = threading.Lock()


def warn_once() -> None:
    global _warned
    with _lock:
        if _warned:
            return
        _warned = True
    warnings.warn("LocalChannel is obsolete (Parsl removed channels in 2024.12) and does nothing in "
                  "Chervil: drop the channel= argument from your provider.", DeprecationWarning, stacklevel=3)


class LocalChannel(Channel):
    def __init__(self, userhome=".", envs=None, script_dir=None):
        warn_once()
        self.userhome = userhome
        self.envs = dict(envs or {})
        self.script_dir = script_dir

    def __repr__(self):
        return "LocalChannel()"
