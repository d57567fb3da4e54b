"""Parsl's ``parsl.dataflow`` package; its modules load on first use (``parsl.dataflow.<module>``)."""
from parsl._base.lazy import submodule_getattr

__getattr__ = submodule_getattr(__name__)
