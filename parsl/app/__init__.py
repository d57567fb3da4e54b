"""Parsl's ``parsl.app`` package; its modules load on first use (``parsl.app.<module>``)."""
from parsl._base.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
