"""How the interchange orders managers with free capacity (Parsl's ``manager_selector``).

Public at ``parsl.executors.high_throughput.manager_selector``; users may subclass
``ManagerSelector``.  The call is Parsl's: ``sort_managers(ready_managers, manager_list)``
with ``ready_managers`` every connected manager's record by uid (records answer Parsl's
keys: ``ready_managers[uid]['block_id']``) and ``manager_list`` the set of uids with room
for tasks; it returns those uids in the order they should receive tasks.
"""
from __future__ import annotations

import random
from abc import ABCMeta, abstractmethod
from typing import Any, List, Mapping, Set


class ManagerSelector(metaclass=ABCMeta):
    @abstractmethod
    def sort_managers(self, ready_managers: Mapping[bytes, Any], manager_list: Set[bytes]) -> List[bytes]:
        """Return the uids of ``manager_list`` in the order they should receive tasks."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomManagerSelector(ManagerSelector):
    """Spread tasks over managers at random (Parsl's default)."""

    def sort_managers(self, ready_managers, manager_list):
        order = list(manager_list)
        if len(order) > 1:
            random.shuffle(order)
        return order


class BlockIdManagerSelector(ManagerSelector):
    """Fill the lowest block first, so higher blocks go idle and can be scaled in.

    Block ids compare as numbers (block 10 after block 2); ids that are not numbers last.
    """

    def sort_managers(self, ready_managers, manager_list):
        def key(uid):
            try:
                return (0, int(ready_managers[uid]["block_id"]), uid)
            except (TypeError, ValueError, KeyError):
                return (1, 0, uid)
        return sorted(manager_list, key=key)


for _cls in (ManagerSelector, RandomManagerSelector, BlockIdManagerSelector):
    _cls.__module__ = "parsl.executors.high_throughput.manager_selector"
