"""How the interchange orders managers with free capacity (Parsl's ``manager_selector``).

Public at ``parsl.executors.high_throughput.manager_selector``; users may subclass
``ManagerSelector``.  ``manager_info`` maps uid -> the interchange's ``ManagerRecord``.
"""
from __future__ import annotations

import random
from abc import ABCMeta, abstractmethod
from typing import List, Mapping, Set


class ManagerSelector(metaclass=ABCMeta):
    @abstractmethod
    def sort_managers(self, ready_managers: Set[bytes], manager_info: Mapping[bytes, object]) -> List[bytes]:
        """Return the ready managers in the order they should receive tasks."""

    def __repr__(self):
        return f"{type(self).__name__}()"


class RandomManagerSelector(ManagerSelector):
    """Spread tasks over managers at random (Parsl's default)."""

    def sort_managers(self, ready_managers, manager_info):
        order = list(ready_managers)
        if len(order) > 1:
            random.shuffle(order)
        return order


class BlockIdManagerSelector(ManagerSelector):
    """Fill the lowest block first, so higher blocks go idle and can be scaled in."""

    def sort_managers(self, ready_managers, manager_info):
        def key(uid):
            # getattr: a user's own selector may hand us records of its own making
            block = getattr(manager_info[uid], "block_id", None)
            try:
                return (0, int(block), uid)
            except (TypeError, ValueError):
                return (1, 0, uid)
        return sorted(ready_managers, key=key)


for _cls in (ManagerSelector, RandomManagerSelector, BlockIdManagerSelector):
    _cls.__module__ = "parsl.executors.high_throughput.manager_selector"
