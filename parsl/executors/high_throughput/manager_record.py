"""What the interchange knows about a manager, as a ``ManagerSelector`` receives it.

``ready_managers[uid]`` answers Parsl's keys (``block_id``, ``worker_count``, ``tasks``,
``active``, ``draining``, ``hostname``, ...); the class lives in ``parsl._htex.matching``."""
from parsl._htex.matching import ManagerRecord

__all__ = ["ManagerRecord"]
