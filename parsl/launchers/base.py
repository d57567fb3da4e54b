"""The launcher interface: wrap a command so it runs once per worker slot of a block."""
from __future__ import annotations

from abc import ABCMeta, abstractmethod

from parsl._base.job_errors import BadLauncher


class Launcher(metaclass=ABCMeta):
    def __init__(self, debug: bool = True):
        self.debug = debug

    @abstractmethod
    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        """The shell text that launches ``command`` tasks_per_node x nodes_per_block times."""

    def __repr__(self):
        return f"{type(self).__name__}(debug={self.debug!r})"


def check_launcher(launcher) -> Launcher:
    if not isinstance(launcher, Launcher):
        raise BadLauncher(launcher)
    return launcher
