"""The data manager (``parsl.data_provider.data_manager``): puts staging into the task graph.

``DataManager(dfk)`` and Parsl's ``default_staging`` list live in ``parsl._staging.manager``.
"""
from parsl._staging.manager import DataManager, default_staging

__all__ = ["DataManager", "default_staging"]
