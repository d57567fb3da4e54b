"""Cache keys for app memoization: what makes two app calls "the same".

Pure code: no threads, no global state besides per-object caches, no I/O except reading
(and stat-ing) input files whose content is part of a key.

A key covers
  * the app's name and its *body*, normalised through the AST so that comments, blank
    lines, formatting, the docstring and the decorator line do not count;
  * the positional and keyword arguments, minus ``ignore_for_cache``;
  * ``outputs`` / ``stdout`` / ``stderr`` by *name* (they do not exist yet);
  * ``File`` inputs by *content* (a size+mtime fast path avoids re-reading unchanged files).

Two encodings produce keys:
  * the fast path, for calls whose arguments are all plain scalars (int, float, str, bytes,
    bool, None): one ``marshal`` (format 2: no back-references, so equal values always give
    equal bytes) and one BLAKE2b — about a microsecond;
  * the general path, through ``id_for_memo`` (a ``functools.singledispatch`` function users
    extend with ``@id_for_memo.register(T)``, as in Parsl), which encodes each component.
Which path a call takes depends only on the argument *types*, so a key is a function of the
call's values. Registering a handler for a fast-path type moves that type to the general path.

On a miss, ``parsl._core.memo_explain`` describes the call, to say why it was not a hit.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import marshal
import os
import struct
import textwrap
import threading
import time
from functools import singledispatch
from types import CodeType
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from parsl._base.errors import ParslError
from parsl._base.files import File
from parsl._base.futures import DataFuture

Encoder = Callable[..., bytes]

# Keyword arguments that name things an app *writes*: keyed by name, never by content.
OUTPUT_KWARGS = ("outputs", "stdout", "stderr")


class UnmemoizableArgumentError(ParslError, ValueError):
    """An argument of a ``cache=True`` app has a type with no memo encoding.

    A ``ValueError`` (as in Parsl) and a ``ParslError``.
    """

    def __init__(self, obj_type: type, where: str = "") -> None:
        self.obj_type = obj_type
        self.where = where
        qual = f"{obj_type.__module__}.{obj_type.__qualname__}"
        super().__init__(
            f"cannot compute a cache key for {where or 'an argument'} of type {qual}: "
            f"caching does not know how to identify {obj_type.__qualname__} values. "
            f"Either register an encoding that returns bytes identifying the value, e.g.\n"
            f"    from parsl.dataflow.memoization import id_for_memo\n"
            f"    @id_for_memo.register({obj_type.__qualname__})\n"
            f"    def _(obj, output_ref=False):\n"
            f"        return repr(obj).encode()\n"
            f"or exclude the argument with ignore_for_cache=[...], or set cache=False on the app.")

    def __reduce__(self) -> Tuple[Any, Tuple[type, str]]:
        return (type(self), (self.obj_type, self.where))


def hash16(data: bytes) -> bytes:
    """16-byte BLAKE2b of ``data``."""
    return hashlib.blake2b(data, digest_size=16).digest()


def hash8(data: bytes) -> bytes:
    """8-byte BLAKE2b of ``data``."""
    return hashlib.blake2b(data, digest_size=8).digest()


_PACK_LEN = struct.Struct("<I").pack


def _framed(parts: Iterable[bytes]) -> bytes:
    """Length-prefix each part so that concatenations cannot collide ("ab"+"c" vs "a"+"bc")."""
    out = []
    for p in parts:
        out.append(_PACK_LEN(len(p)))
        out.append(p)
    return b"".join(out)


# ---------------------------------------------------------------------------------------
# id_for_memo: the extensible per-type encoding (Parsl's public extension point)
# ---------------------------------------------------------------------------------------

@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Bytes that identify ``obj`` for a cache key. Extend with ``@id_for_memo.register(T)``."""
    encoded = _encode_optional_types(obj, output_ref)
    if encoded is not None:
        return encoded
    raise UnmemoizableArgumentError(type(obj))


def memo_bytes(obj: Any, output_ref: bool = False) -> bytes:
    """``id_for_memo(obj)`` as bytes, whatever a user's registration returned.

    Parsl's own tests and users' code register encodings that return a ``str`` (``file.url``)
    or another value; those are encoded deterministically here: ``str`` as UTF-8, other
    bytes-like values as their bytes, anything else through ``id_for_memo`` like an argument.
    """
    encoded = id_for_memo(obj, output_ref)
    if type(encoded) is bytes:
        return encoded
    return _coerce(encoded, obj)


def _coerce(encoded: Any, obj: Any) -> bytes:
    if isinstance(encoded, bytes):
        return bytes(encoded)
    if isinstance(encoded, str):
        return b"s:" + encoded.encode("utf-8", "surrogatepass")
    if isinstance(encoded, (bytearray, memoryview)):
        return b"b:" + bytes(encoded)
    kind = type(obj).__qualname__
    if encoded is None:
        # Encoding None would make every value of the type equal: wrong cache hits.
        raise TypeError(f"the id_for_memo registration for {kind} returned None; it must return bytes "
                        f"(or a str) identifying the value (a missing return statement?)")
    if type(encoded) is type(obj):
        raise TypeError(f"the id_for_memo registration for {kind} returned a {kind}; it must return "
                        f"bytes (or a str, or plain values) identifying the value")
    return b"v:" + memo_bytes(encoded)


def _scalar(obj: Any, output_ref: bool = False) -> bytes:
    return marshal.dumps(obj, 2)


for _t in (str, int, float, bool, bytes, complex, type(None)):
    id_for_memo.register(_t)(_scalar)


@id_for_memo.register(list)
@id_for_memo.register(tuple)
def _sequence(obj: Any, output_ref: bool = False) -> bytes:
    tag = b"[" if type(obj) is list else b"("
    return tag + _framed([memo_bytes(x, output_ref) for x in obj])


@id_for_memo.register(dict)
def _mapping(obj: Any, output_ref: bool = False) -> bytes:
    # Sorted by encoded key, not by key: mixed key types cannot be compared, and insertion
    # order must not matter (Parsl #235: dicts in a different order gave misses).
    items = sorted((memo_bytes(k), memo_bytes(v, output_ref)) for k, v in obj.items())
    return b"{" + _framed([p for kv in items for p in kv])


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _set(obj: Any, output_ref: bool = False) -> bytes:
    # Set iteration order depends on the per-process string hash seed: sort the encodings.
    return b"<" + _framed(sorted(memo_bytes(x, output_ref) for x in obj))


def _function(obj: Any, output_ref: bool = False) -> bytes:
    name, digest = function_identity(obj)
    return b"fn:" + name.encode() + b"\0" + digest


id_for_memo.register(type(_framed))(_function)         # plain Python functions
id_for_memo.register(type(len))(_function)             # builtins (identity = qualified name)


def _encode_optional_types(obj: Any, output_ref: bool) -> Optional[bytes]:
    """Types we know without importing their packages: numpy arrays and scalars."""
    t = type(obj)
    mod = t.__module__ or ""
    if mod == "numpy" and t.__name__ == "ndarray":
        return b"nd:" + str(obj.dtype).encode() + b":" + repr(obj.shape).encode() + b":" + \
            hash16(obj.tobytes())
    if mod == "numpy" and hasattr(obj, "dtype") and hasattr(obj, "item"):  # numpy scalars
        return b"np:" + str(obj.dtype).encode() + b":" + marshal.dumps(obj.item(), 2)
    return None


def _data_future(obj: Any, output_ref: bool = False) -> bytes:
    # A DataFuture still unresolved at launch stands for the File it will produce.
    f = getattr(obj, "file_obj", None) or getattr(obj, "_file_obj", None)
    if f is None:
        raise UnmemoizableArgumentError(type(obj))
    return memo_bytes(f, output_ref)


# ---------------------------------------------------------------------------------------
# Files: keyed by content, with a size+mtime fast path
# ---------------------------------------------------------------------------------------

# What a File encoding records while a Manifest is being built (thread-local: keys are
# computed on whichever thread launches the task).
_tls = threading.local()


def _file(obj: File, output_ref: bool = False) -> bytes:
    url = os.fspath(obj.url)
    if output_ref or obj.scheme != "file":
        # Outputs do not exist yet, and remote inputs are only readable after staging:
        # both are identified by name.
        return b"url:" + url.encode()
    path = os.path.abspath(os.fspath(obj.local_path or obj.path))
    if getattr(_tls, "shape_only", False):
        return b"path:" + path.encode()
    digest = FILE_DIGESTS.digest(path)
    log = getattr(_tls, "files", None)
    if log is not None:
        log.append((path, digest))
    return b"file:" + path.encode() + b"\0" + digest


id_for_memo.register(File)(_file)
id_for_memo.register(DataFuture)(_data_future)

#: Chervil's own encoders (any other registration is a user's)
BUILTIN_ENCODERS = frozenset((id_for_memo.dispatch(object), _scalar, _sequence, _mapping, _set,
                              _function, _file, _data_future))


class FileDigestCache:
    """Content digests of local files, re-read only when (size, mtime, inode) change.

    A file modified twice within one mtime tick would keep its (stale) stat signature; so a
    digest is trusted from the cache only if the file's mtime is at least ``racy_window``
    seconds older than the moment the digest was taken (git's "racily clean" rule).
    """

    def __init__(self, racy_window: float = 2.0, clock: Callable[[], float] = time.time) -> None:
        self._cache: Dict[str, Tuple[Tuple[int, int, int, int], bytes, float]] = {}
        self._lock = threading.Lock()
        self.racy_window = racy_window
        self.clock = clock
        self.reads = 0  # how many times content was actually read (for tests/benchmarks)

    def digest(self, path: str) -> bytes:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return b"missing"
        sig = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        entry = self._cache.get(path)
        if entry is not None and entry[0] == sig and entry[2] - st.st_mtime_ns / 1e9 >= self.racy_window:
            return entry[1]
        taken_at = self.clock()
        digest = _content_digest(path)
        self.reads += 1
        with self._lock:
            self._cache[path] = (sig, digest, taken_at)
        return digest

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


def _content_digest(path: str) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    if os.path.isdir(path):
        # A directory is identified by the relative names and contents of everything in it.
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                h.update(_framed([os.path.relpath(full, path).encode(), _content_digest(full)]))
        return b"d" + h.digest()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                break
            h.update(block)
    return h.digest()


FILE_DIGESTS = FileDigestCache()


# ---------------------------------------------------------------------------------------
# Function identity: name + normalised body
# ---------------------------------------------------------------------------------------

# id(func) -> (func, (name, digest)). Holding the function keeps its id from being reused.
_FUNC_IDS: Dict[int, Tuple[Callable[..., Any], Tuple[str, bytes]]] = {}


def function_identity(func: Callable[..., Any]) -> Tuple[str, bytes]:
    """(name, 16-byte digest of the normalised body), cached per function object."""
    entry = _FUNC_IDS.get(id(func))
    if entry is not None and entry[0] is func:
        return entry[1]
    inner = inspect.unwrap(func) if hasattr(func, "__wrapped__") else func
    name = getattr(inner, "__name__", None) or type(inner).__name__
    ident = (name, hash16(normalised_body(inner)))
    if len(_FUNC_IDS) > 100_000:  # notebooks redefining functions in a loop: stay bounded
        _FUNC_IDS.clear()
    _FUNC_IDS[id(func)] = (func, ident)
    return ident


def normalised_body(func: Callable[..., Any]) -> bytes:
    """Bytes that change when the function's code changes, and not when only its comments,
    formatting, docstring or decorators do.

    Uses the AST of the source when the source is available; otherwise (lambdas, functions
    built by exec, some notebook cells) the code object's bytecode, constants and names,
    which also ignore comments and line numbers.
    """
    if isinstance(func, functools.partial):
        return b"partial:" + _framed([normalised_body(func.func), memo_bytes(func.args),
                                      memo_bytes(func.keywords or {})])
    code = getattr(func, "__code__", None)
    if code is None:
        # builtins, C functions, callable objects: their qualified name is all we can know
        mod = getattr(func, "__module__", None) or type(func).__module__
        qual = getattr(func, "__qualname__", None) or type(func).__qualname__
        return b"named:" + f"{mod}.{qual}".encode()
    if code.co_name != "<lambda>":
        node = _function_ast(func)
        if node is not None:
            return b"ast:" + ast.dump(node, annotate_fields=False).encode()
    return b"code:" + _code_fingerprint(code)


def _function_ast(func: Callable[..., Any]) -> Optional[ast.AST]:
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func.__name__:
            node.decorator_list = []
            body = node.body
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str) and len(body) > 1:
                node.body = body[1:]  # the docstring is documentation, not behaviour
            return node
    return None


def _code_fingerprint(code: CodeType) -> bytes:
    consts = []
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            consts.append(b"c" + _code_fingerprint(c))
        else:
            try:
                consts.append(b"v" + marshal.dumps(c, 2))
            except ValueError:
                consts.append(b"r" + repr(c).encode())
    return _framed([
        code.co_code, _framed(consts), "\0".join(code.co_names).encode(),
        "\0".join(code.co_varnames).encode(), "\0".join(code.co_freevars).encode(),
        struct.pack("<III", code.co_argcount, code.co_kwonlyargcount, code.co_flags),
    ])


# (positional parameter names, every parameter name, whether it takes **kwargs)
Parameters = Tuple[Tuple[str, ...], Tuple[str, ...], bool]
_PARAMS: Dict[int, Tuple[Callable[..., Any], Parameters]] = {}


def parameter_names(func: Callable[..., Any]) -> Parameters:
    """(positional parameter names, every parameter name, takes ``**kwargs``) of ``func``,
    for argument labels and ``ignore_for_cache``."""
    entry = _PARAMS.get(id(func))
    if entry is not None and entry[0] is func:
        return entry[1]
    try:
        sig = inspect.signature(func)
        names = tuple(p.name for p in sig.parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        every = tuple(sig.parameters)
        var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    except (TypeError, ValueError):
        names, every, var_kw = (), (), True
    result: Parameters = (names, every, var_kw)
    _PARAMS[id(func)] = (func, result)
    return result


# ---------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------

_DEFAULT_SCALAR = _scalar
_FAST_CANDIDATES = (str, int, float, bool, bytes, type(None))
_FAST_TYPES: FrozenSet[type] = frozenset(_FAST_CANDIDATES)


def _refresh_fast_types() -> None:
    """A type stays on the fast path only while ``id_for_memo`` still uses our encoding."""
    global _FAST_TYPES
    _FAST_TYPES = frozenset(t for t in _FAST_CANDIDATES if id_for_memo.dispatch(t) is _DEFAULT_SCALAR)


_original_register = id_for_memo.register


def _register(cls: Any, func: Optional[Encoder] = None) -> Any:
    if func is None and isinstance(cls, type):
        return lambda f: _register(cls, f)  # decorator form: refresh after registering
    result = _original_register(cls, func)
    _refresh_fast_types()
    return result


# Users extend id_for_memo with @id_for_memo.register(T); a registration for a fast-path
# type must take that type off the fast path, so registering goes through _register.
id_for_memo.register = _register  # type: ignore[method-assign]  # wrapping singledispatch on purpose (see above)


def drop_ignored(func: Callable[..., Any], func_name: str, args: Sequence[Any], kwargs: Dict[str, Any],
                 ignore_for_cache: Optional[Sequence[str]]) -> Tuple[Sequence[Any], Dict[str, Any]]:
    """Arguments with the ``ignore_for_cache`` names removed (by keyword or by position)."""
    if not ignore_for_cache:
        return args, kwargs
    names, every, var_kw = parameter_names(func)
    kwargs = dict(kwargs)
    drop_positions: Set[int] = set()
    for name in ignore_for_cache:
        if name in kwargs:
            del kwargs[name]
        elif name in names and names.index(name) < len(args):
            drop_positions.add(names.index(name))
        elif every and name not in every and not var_kw:
            raise ValueError(
                f"ignore_for_cache names {name!r}, which is not a parameter of app "
                f"{func_name!r} (parameters: {', '.join(every)}); fix the name in the decorator")
    if drop_positions:
        args = tuple(a for i, a in enumerate(args) if i not in drop_positions)
    return args, kwargs


def compute_key(func: Callable[..., Any], func_name: str, args: Sequence[Any], kwargs: Dict[str, Any],
                ignore_for_cache: Optional[Sequence[str]] = None) -> str:
    """The cache key of one call, as a 32-character hex string."""
    if ignore_for_cache:
        args, kwargs = drop_ignored(func, func_name, args, kwargs, ignore_for_cache)
    fname, fdigest = function_identity(func)
    fast = _FAST_TYPES
    for a in args:
        if type(a) not in fast:
            break
    else:
        if not kwargs:
            return hashlib.blake2b(b"F" + func_name.encode() + fdigest + marshal.dumps(args, 2),  # type: ignore[arg-type]  # all scalars
                                   digest_size=16).hexdigest()
        for v in kwargs.values():
            if type(v) not in fast:
                break
        else:
            items = tuple(sorted(kwargs.items())) if len(kwargs) > 1 else tuple(kwargs.items())
            return hashlib.blake2b(b"F" + func_name.encode() + fdigest + marshal.dumps((args, items), 2),  # type: ignore[arg-type]
                                   digest_size=16).hexdigest()
    components = _components(func, args, kwargs)
    return _general_key(func_name, fdigest, components)


def _components(func: Callable[..., Any], args: Sequence[Any], kwargs: Dict[str, Any]) -> List[Tuple[str, bytes]]:
    """(label, encoding) for each argument, in a canonical order."""
    names = parameter_names(func)[0] if args else ()
    out = []
    for i, a in enumerate(args):
        label = names[i] if i < len(names) else f"args[{i}]"
        out.append((label, _encode(a, False, label)))
    for k in sorted(kwargs):
        out.append((k, _encode(kwargs[k], k in OUTPUT_KWARGS, k)))
    return out


def _encode(value: Any, output_ref: bool, label: str) -> bytes:
    try:
        return memo_bytes(value, output_ref)
    except UnmemoizableArgumentError as e:
        if e.where:
            raise
        raise UnmemoizableArgumentError(e.obj_type, f"argument {label!r}") from None


def _general_key(func_name: str, fdigest: bytes, components: List[Tuple[str, bytes]]) -> str:
    body = _framed([p for label, enc in components for p in (label.encode(), enc)])
    return hashlib.blake2b(b"G" + _framed([func_name.encode(), fdigest]) + body,
                           digest_size=16).hexdigest()


def all_fast(args: Sequence[Any], kwargs: Dict[str, Any]) -> bool:
    """Whether every argument is a plain scalar that takes the fast path."""
    fast = _FAST_TYPES
    for a in args:
        if type(a) not in fast:
            return False
    for v in kwargs.values():
        if type(v) not in fast:
            return False
    return True


def recorded_components(func: Callable[..., Any], args: Sequence[Any], kwargs: Dict[str, Any], *,
                        files: Optional[List[Tuple[str, bytes]]] = None,
                        shape_only: bool = False) -> List[Tuple[str, bytes]]:
    """The (label, encoding) of each argument, appending (path, digest) of each input file
    read to ``files``; with ``shape_only``, files are named by path and not read."""
    _tls.files = files
    _tls.shape_only = shape_only
    try:
        return _components(func, args, kwargs)
    finally:
        _tls.files = None
        _tls.shape_only = False
