"""Reference Parsl's checkpoint format: reading its ``tasks.pkl`` and computing its cache key.

Chervil's own key (``parsl._core.memo``) covers the app's body and input files' content;
Parsl's does not, so a ``tasks.pkl`` written by Parsl is keyed differently. When such a file
is loaded, the memoizer also computes this key for each ``cache=True`` call that misses its
own cache, and looks it up among the Parsl results. Nothing here runs otherwise.

Parsl's key (``make_hash``) is the MD5 hex digest of the concatenation of
  1. the encoding of ``outputs`` (as output references), if ``outputs`` is a keyword argument;
  2. the encoding of the other keyword arguments, minus ``ignore_for_cache``;
  3. the encoding of the app function: the pickle of ``["types.FunctionType", name, module]``,
     where a bash app's module is ``functools`` (Parsl wraps it in a ``functools.partial``);
  4. the encoding of the positional arguments (a tuple).
Values are encoded as Parsl's ``id_for_memo`` does: ``str``, ``int``, ``float``, ``None`` by
their pickle; ``list`` and ``tuple`` (exact types) by the pickle of the list of their
elements' encodings; ``dict`` (exact) by the pickle of ``[key, value, ...]`` encodings over the
sorted keys. ``File`` is encoded by its URL (the registration Parsl's test suite, and most users,
make); a type the user registered with ``@id_for_memo.register`` uses the user's encoding, as it
did under Parsl. Any other value had no Parsl key (Parsl failed the task), so it has none here.

Pickles use the protocol found in the Parsl checkpoint (the default protocol of the Python that
wrote it: 4 up to Python 3.13, 5 from 3.14), because Parsl hashed with that same default.
"""
from __future__ import annotations

import functools
import hashlib
import io
import logging
import pickle
import types
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from parsl._base.errors import BadCheckpoint
from parsl._base.files import File
from parsl._base.futures import DataFuture
from parsl._core import memo as _memo
from parsl._core.apps import DropKwargs
from parsl._core.bash import remote_side_bash_executor

logger = logging.getLogger(__name__)


class _NoParslKey(Exception):
    """The call had no key under Parsl (Parsl would have failed the task)."""


# Chervil's own encoders: a type dispatched to one of these gets Parsl's default encoding;
# any other registration is the user's, and is called as Parsl called it.
_CHERVIL_ENCODERS = _memo.BUILTIN_ENCODERS


def parsl_key(func: Callable[..., Any], args: Sequence[Any], kwargs: Dict[str, Any],
              ignore_for_cache: Optional[Sequence[str]], protocol: int = 4) -> Optional[str]:
    """Parsl's cache key (32 hex chars) for one call, or None if Parsl could not key it."""
    try:
        enc = _Encoder(protocol)
        parts: List[bytes] = []
        filtered = dict(kwargs)
        for name in ignore_for_cache or ():
            del filtered[name]      # a name that is not a keyword argument failed under Parsl
        if "outputs" in kwargs:
            del filtered["outputs"]
            parts.append(enc.top(kwargs["outputs"], True))
        parts.append(enc.top(filtered, False))
        parts.append(enc.function_bytes(*_parsl_function_identity(func)))
        parts.append(enc.top(tuple(args), False))
        return hashlib.md5(b"".join(parts)).hexdigest()
    except (_NoParslKey, KeyError, TypeError, ValueError, pickle.PicklingError):
        return None


def _parsl_function_identity(func: Callable[..., Any]) -> Tuple[str, str]:
    """(name, module) of the function object Parsl's kernel saw for this app."""
    if isinstance(func, functools.partial) and func.func is remote_side_bash_executor:
        # Parsl: wrap_error(partial(remote_side_bash_executor, f)) with the name set, so the
        # wrapper takes the name of f and the module of functools.partial.
        return getattr(func, "__name__", ""), "functools"
    while isinstance(func, DropKwargs):
        func = func.func
    # A python app (or its walltime wrapper, made with functools.wraps): Parsl's wrap_error
    # copied the user's function's name and module.
    name = getattr(func, "__name__", None)
    module = getattr(func, "__module__", None)
    if not isinstance(name, str):
        raise _NoParslKey()
    return name, module  # type: ignore[return-value]  # None pickles as Parsl pickled it


class _Encoder:
    """Parsl's ``id_for_memo`` for one key (the pickle protocol is the checkpoint's)."""

    __slots__ = ("protocol", "_functions")

    def __init__(self, protocol: int) -> None:
        self.protocol = protocol
        # Parsl caches each function's encoding, so a function twice in one list is the same
        # bytes object twice, which pickle writes as a back-reference: do the same.
        self._functions: Dict[Tuple[str, str, bool], bytes] = {}

    def top(self, obj: Any, output_ref: bool) -> bytes:
        out = self.encode(obj, output_ref)
        if not isinstance(out, bytes):
            raise _NoParslKey()     # Parsl's b"".join failed on it
        return out

    def function_bytes(self, name: str, module: str) -> bytes:
        return pickle.dumps(["types.FunctionType", name, module], protocol=self.protocol)

    def encode(self, obj: Any, output_ref: bool) -> Any:
        impl = _memo.id_for_memo.dispatch(type(obj))
        if impl not in _CHERVIL_ENCODERS:
            return impl(obj, output_ref=output_ref)    # the user's registration, as under Parsl
        t = type(obj)
        if obj is None or isinstance(obj, (str, int, float)):
            return pickle.dumps(obj, protocol=self.protocol)
        if t is list or t is tuple:
            return pickle.dumps([self.encode(e, output_ref) for e in obj], protocol=self.protocol)
        if t is dict:
            items: List[Any] = []
            for k in sorted(obj):
                items.append(self.encode(k, False))
                items.append(self.encode(obj[k], output_ref))
            return pickle.dumps(items, protocol=self.protocol)
        if t is types.FunctionType:
            ident = (obj.__name__, obj.__module__, output_ref)
            cached = self._functions.get(ident)
            if cached is None:
                cached = self._functions[ident] = self.function_bytes(obj.__name__, obj.__module__)
            return cached
        if isinstance(obj, DataFuture):
            f = getattr(obj, "file_obj", None)
            if f is None:
                raise _NoParslKey()
            obj = f
        if isinstance(obj, File):
            return obj.url
        raise _NoParslKey()


# ---------------------------------------------------------------------------------------
# Reading Parsl's checkpoint file
# ---------------------------------------------------------------------------------------

def read_parsl_checkpoint_file(path: str) -> Tuple[Dict[str, Any], int]:
    """Read a checkpoint written by reference Parsl: consecutive pickles of
    ``{'hash': <hex key>, 'exception': None, 'result': value}``.

    Returns (results by Parsl key, pickle protocol of the records). An empty file (a Parsl run
    whose tasks all failed) holds no results. A record torn by a kill mid-write at the end of
    the file is ignored (as Parsl ignores it); damage before the end raises BadCheckpoint.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BadCheckpoint(f"Cannot read checkpoint file {path}: {e.strerror or e}") from e
    results: Dict[str, Any] = {}
    protocol = data[1] if len(data) >= 2 and data[0] == 0x80 else 4
    stream = io.BytesIO(data)
    end = len(data)
    while stream.tell() < end:
        pos = stream.tell()
        try:
            record = pickle.load(stream)
        except Exception as e:
            if _is_torn_tail(e, data, pos):
                logger.info("Checkpoint file %s ends with %d bytes of an incomplete record; "
                            "ignored", path, end - pos)
                break
            raise BadCheckpoint(
                f"Checkpoint file {path} (reference Parsl's format) cannot be read at offset "
                f"{pos}: {type(e).__name__}: {e}. If the code that defined a result's type is "
                f"not importable here, make it importable; otherwise leave this checkpoint "
                f"out of checkpoint_files.") from e
        if not (isinstance(record, dict) and isinstance(record.get("hash"), str)
                and "result" in record):
            raise BadCheckpoint(
                f"Checkpoint file {path} holds a record at offset {pos} that is not a Parsl "
                f"checkpoint record ({{'hash', 'exception', 'result'}}); leave this file out of "
                f"checkpoint_files.")
        if record.get("exception") is None:
            results[record["hash"]] = record["result"]
    return results, protocol


def _is_torn_tail(e: Exception, data: bytes, pos: int) -> bool:
    """A record cut short by a kill mid-write: the unpickler ran out of bytes, and no complete
    record starts anywhere after ``pos`` (else the damage is in the middle of the file)."""
    if not (isinstance(e, EOFError) or (isinstance(e, pickle.UnpicklingError) and "truncated" in str(e))):
        return False
    marker = data[pos:pos + 2] if data[pos:pos + 1] == b"\x80" else b"\x80\x04"
    at = data.find(marker, pos + 1)
    while at >= 0:
        try:
            record = pickle.load(io.BytesIO(data[at:]))
        except Exception:
            record = None
        if isinstance(record, dict) and "hash" in record:
            return False
        at = data.find(marker, at + 1)
    return True


__all__ = ["parsl_key", "read_parsl_checkpoint_file"]
