"""Serialization facade at Parsl's import path (cloudpickle underneath)."""
from parsl._base.lazy import submodule_getattr
from parsl.serialize.facade import (
                                    deserialize,
                                    pack_apply_message,
                                    pack_res_spec_apply_message,
                                    serialize,
                                    unpack_apply_message,
                                    unpack_res_spec_apply_message,
)

__all__ = ["serialize", "deserialize", "pack_apply_message", "unpack_apply_message",
           "pack_res_spec_apply_message", "unpack_res_spec_apply_message"]

__getattr__ = submodule_getattr(__name__)
