"""Serialization of functions, arguments and results that cross a process boundary.

Everything goes through cloudpickle (protocol 5), so functions defined in ``__main__``,
notebooks and closures travel by value; what cloudpickle refuses is tried with dill, as
Parsl pickles (``parsl._base.dill_fallback``).  Two cheap shortcuts keep the per-task cost low:

* a function is pickled once per function object (``_FUNC_CACHE``), because workflows
  call the same few apps thousands of times;
* arguments that are only plain scalars go through the C ``pickle`` module, which is
  ~10x faster than cloudpickle and produces bytes cloudpickle can read.

The wire format of one task body is private to Chervil (``pack_apply_message``); Parsl's
``<header>\\n<payload>`` records are not reproduced because nothing outside Chervil reads them.
"""
from __future__ import annotations

import pickle
import threading
from typing import Any, Callable, Tuple

import cloudpickle

from parsl._base.dill_fallback import try_dill
from parsl._base.errors import DeserializationError, SerializationError

PROTOCOL = 5
# Types whose pickle by the C module is always loadable elsewhere (no reference to __main__).
_PLAIN = frozenset({int, float, str, bytes, bool, type(None), complex})

_FUNC_CACHE: dict[Any, bytes] = {}
_FUNC_CACHE_MAX = 1024
_FUNC_LOCK = threading.Lock()


def serialize(obj: Any, buffer_threshold: int = 0) -> bytes:
    """Serialize any object (function, value, exception) to bytes."""
    try:
        return cloudpickle.dumps(obj, protocol=PROTOCOL)
    except Exception as e:
        return _with_dill(e, obj, getattr(obj, "__name__", type(obj).__name__))


def _with_dill(first: Exception, obj: Any, what: str) -> bytes:
    """cloudpickle refused ``obj``: dill's pickle of it (what Parsl would have sent), or
    SerializationError naming both failures (or how to install dill)."""
    data, reason = try_dill(first, obj, PROTOCOL)
    if data is None:
        raise SerializationError(what, reason) from first
    return data


def deserialize(data: bytes) -> Any:
    try:
        return pickle.loads(data)
    except Exception as e:
        raise DeserializationError(repr(e)) from e


def serialize_function(func: Callable) -> bytes:
    """Pickle ``func`` once per function object; later calls are a dict lookup."""
    try:
        return _FUNC_CACHE[func]
    except KeyError:
        pass
    except TypeError:  # unhashable callable: no caching
        return serialize(func)
    data = serialize(func)
    with _FUNC_LOCK:
        if len(_FUNC_CACHE) >= _FUNC_CACHE_MAX:
            _FUNC_CACHE.clear()
        _FUNC_CACHE[func] = data
    return data


def _all_plain(args: tuple, kwargs: dict) -> bool:
    plain = _PLAIN
    for a in args:
        if type(a) not in plain:
            return False
    for v in kwargs.values():
        if type(v) not in plain:
            return False
    return True


def _argument_pickler(args: tuple, kwargs: dict) -> Any:
    """The module that pickles these arguments: the C ``pickle`` when they are all plain
    scalars (~10x faster), cloudpickle otherwise."""
    return pickle if _all_plain(args, kwargs) else cloudpickle


def serialize_arguments(args: tuple, kwargs: dict) -> bytes:
    try:
        return _argument_pickler(args, kwargs).dumps((args, kwargs), protocol=PROTOCOL)
    except Exception as e:
        return _with_dill(e, (args, kwargs), "arguments")


def serialize_arguments_into(file: Any, args: tuple, kwargs: dict) -> None:
    """``serialize_arguments``, written to ``file`` (a seekable binary file): protocol 5 writes a
    large bytes-like argument to it directly, so a task record built in one buffer
    (``io.BytesIO``) costs one copy of it instead of two (pickling, then joining)."""
    start = file.tell()
    try:
        _argument_pickler(args, kwargs).Pickler(file, protocol=PROTOCOL).dump((args, kwargs))
    except Exception as e:
        data = _with_dill(e, (args, kwargs), "arguments")
        file.seek(start)            # drop what the failed pickler had written
        file.truncate()
        file.write(data)


def pack_apply_message(func: Callable, args: tuple, kwargs: dict, buffer_threshold: int = 0) -> bytes:
    """One buffer holding the function and its arguments (Parsl's name for it)."""
    return pickle.dumps((serialize_function(func), serialize_arguments(args, kwargs)), protocol=PROTOCOL)


def unpack_apply_message(packed: bytes, user_ns=None, copy=None) -> Tuple[Callable, tuple, dict]:
    fbytes, abytes = pickle.loads(packed)
    args, kwargs = pickle.loads(abytes)
    return pickle.loads(fbytes), args, kwargs


def pack_res_spec_apply_message(func, args, kwargs, resource_specification, buffer_threshold=0):
    return pickle.dumps((serialize_function(func), serialize_arguments(args, kwargs),
                         resource_specification), protocol=PROTOCOL)


def unpack_res_spec_apply_message(packed, user_ns=None, copy=None):
    fbytes, abytes, spec = pickle.loads(packed)
    args, kwargs = pickle.loads(abytes)
    return pickle.loads(fbytes), args, kwargs, spec
