"""How the interchange orders managers with free capacity (Parsl's ``manager_selector``).

The classes live in ``parsl._htex.selectors``."""
from parsl._htex.selectors import BlockIdManagerSelector, ManagerSelector, RandomManagerSelector

__all__ = ["ManagerSelector", "RandomManagerSelector", "BlockIdManagerSelector"]
