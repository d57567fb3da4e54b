"""Parsl's ``parsl.data_provider`` package; its modules load on first use (``parsl.data_provider.<module>``)."""
from parsl._base.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
