"""The ``Staging`` interface a staging provider implements (``parsl.data_provider.staging``).

The class lives in ``parsl._staging.base``, with the context a provider is handed as ``dm``.
"""
from parsl._staging.base import Staging

__all__ = ["Staging"]
