"""Why a ``cache=True`` call missed: manifests of cached calls, and the index that compares them.

On a miss, ``describe_call`` builds a ``Manifest`` (per-component digests, input-file
digests, a "shape" key that names files by path) so that ``MemoIndex.explain`` can say why a
call was not a hit: the app's body changed, an input file changed, or which arguments are new.
Keys themselves are computed in ``parsl._core.memo``.
"""
from __future__ import annotations

import marshal
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

from parsl._core.memo import (
    all_fast,
    drop_ignored,
    function_identity,
    hash8,
    hash16,
    parameter_names,
    recorded_components,
)


class Manifest(NamedTuple):
    """What a cached result was computed from, in digests (stored with checkpoints)."""
    func_name: str
    func_digest: bytes
    components: Tuple[Tuple[str, bytes], ...]   # (label, 8-byte digest of its encoding)
    files: Tuple[Tuple[str, bytes], ...]        # (absolute path, content digest) of inputs
    shape_key: bytes                            # the call with files named by path, no body

    def encode(self) -> bytes:
        return marshal.dumps(tuple(self), 2)

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        return cls(*marshal.loads(data))


def _component_digest(enc: bytes) -> bytes:
    # Small encodings (most scalars) are their own digest: no hashing on the miss path.
    return enc if len(enc) <= 24 else hash8(enc)


def describe_call(func: Callable[..., Any], func_name: str, args: Sequence[Any], kwargs: Dict[str, Any],
                  ignore_for_cache: Optional[Sequence[str]] = None) -> Manifest:
    """The Manifest of one call (computed on misses only)."""
    if ignore_for_cache:
        args, kwargs = drop_ignored(func, func_name, args, kwargs, ignore_for_cache)
    _, fdigest = function_identity(func)
    files: List[Tuple[str, bytes]] = []
    if all_fast(args, kwargs):
        # Same encodings as id_for_memo gives scalars, without dispatch.
        names = parameter_names(func)[0] if args else ()
        comps = [(names[i] if i < len(names) else f"args[{i}]", _component_digest(marshal.dumps(a, 2)))
                 for i, a in enumerate(args)]
        for k in sorted(kwargs):
            comps.append((k, _component_digest(marshal.dumps(kwargs[k], 2))))
        components = shape_components = tuple(comps)
    else:
        components = tuple((label, _component_digest(enc))
                           for label, enc in recorded_components(func, args, kwargs, files=files))
        shape_components = components
        if files:
            shape_components = tuple((label, _component_digest(enc))
                                     for label, enc in recorded_components(func, args, kwargs, shape_only=True))
    shape = hash16(marshal.dumps((func_name, shape_components), 2))
    return Manifest(func_name, fdigest, components, tuple(files), shape)


class MissReason:
    """Why a ``cache=True`` call was not served from the cache. ``str()`` gives a sentence."""

    __slots__ = ("kind", "func_name", "changed", "origin", "detail")

    NEW_APP = "new_app"                  # no earlier result of this app at all
    FUNCTION_CHANGED = "function_changed"
    INPUT_FILES_CHANGED = "input_files_changed"
    ARGUMENTS_CHANGED = "arguments_changed"
    NEW_COMBINATION = "new_combination"  # every value seen before, never together
    NOT_CACHED = "not_cached"            # same call seen, but its result was not kept (failed)

    def __init__(self, kind: str, func_name: str, changed: Sequence[str] = (), origin: Any = None,
                 detail: str = "") -> None:
        self.kind = kind
        self.func_name = func_name
        self.changed = tuple(changed)
        self.origin = origin
        self.detail = detail

    def __str__(self) -> str:
        f = self.func_name
        origin = self.origin
        if isinstance(origin, int):
            origin = f"task {origin}"
        since = f" since {origin}" if origin else ""
        if self.kind == self.NEW_APP:
            return f"no earlier result of app {f!r} in this run or in the loaded checkpoints"
        if self.kind == self.FUNCTION_CHANGED:
            extra = f"; also changed: input file(s) {_names(self.changed)}" if self.changed else ""
            return f"the body of app {f!r} changed{since}{extra}"
        if self.kind == self.INPUT_FILES_CHANGED:
            return f"input file(s) {_names(self.changed)} of app {f!r} changed{since}"
        if self.kind == self.ARGUMENTS_CHANGED:
            return (f"argument(s) {_names(self.changed)} of app {f!r} have values not used in "
                    f"any earlier call{self.detail}")
        if self.kind == self.NEW_COMBINATION:
            return (f"app {f!r} was called before with each of these argument values, but never "
                    f"with this combination{self.detail}")
        if self.kind == self.NOT_CACHED:
            return f"the same call of app {f!r} ran before{since} but its result was not cached (it failed)"
        return f"{self.kind}: {self.detail}"

    def __repr__(self) -> str:
        return f"<MissReason {self.kind} {self.func_name!r} {list(self.changed)}>"


def _names(items: Sequence[str]) -> str:
    return ", ".join(repr(x) for x in items)


class MemoIndex:
    """Remembers the manifests of cached results, to explain misses in O(#arguments).

    Not thread-safe by itself: the memoizer calls it under its lock.
    """

    def __init__(self) -> None:
        # shape -> (func_digest, files, origin)
        self._by_shape: Dict[bytes, Tuple[bytes, Tuple[Tuple[str, bytes], ...], str]] = {}
        self._bodies: Dict[str, Set[bytes]] = {}         # app name -> body digests seen
        self._values: Set[Tuple[str, str, bytes]] = set()  # (app name, label, digest)
        self._pending: List[Tuple[bytes, str]] = []      # (encoded manifest, origin), not indexed yet

    def add(self, manifest: Manifest, origin: str) -> None:
        self._by_shape[manifest.shape_key] = (manifest.func_digest, manifest.files, origin)
        self._bodies.setdefault(manifest.func_name, set()).add(manifest.func_digest)
        name = manifest.func_name
        values = self._values
        for label, d in manifest.components:
            values.add((name, label, d))

    def add_encoded(self, data: bytes, origin: str) -> None:
        """Defer decoding (checkpoint loading must stay fast; explanations are rarer)."""
        self._pending.append((data, origin))

    def _catch_up(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            for data, origin in pending:
                try:
                    self.add(Manifest.decode(data), origin)
                except (ValueError, TypeError, EOFError):
                    pass  # an explanation aid only: never fail a task over it

    def explain(self, m: Manifest) -> MissReason:
        self._catch_up()
        name = m.func_name
        bodies = self._bodies.get(name)
        if not bodies:
            return MissReason(MissReason.NEW_APP, name)
        same_shape = self._by_shape.get(m.shape_key)
        if same_shape is not None:
            body, files, origin = same_shape
            changed_files = tuple(p for p, d in m.files if (p, d) not in set(files))
            if body != m.func_digest:
                return MissReason(MissReason.FUNCTION_CHANGED, name, changed_files, origin)
            if changed_files:
                return MissReason(MissReason.INPUT_FILES_CHANGED, name, changed_files, origin)
            return MissReason(MissReason.NOT_CACHED, name, (), origin)
        body_note = "" if m.func_digest in bodies else f"; the body of {name!r} also differs from every cached result"
        values = self._values
        new = tuple(label for label, d in m.components if (name, label, d) not in values)
        if new:
            return MissReason(MissReason.ARGUMENTS_CHANGED, name, new, detail=body_note)
        return MissReason(MissReason.NEW_COMBINATION, name, detail=body_note)


MissReason.__module__ = "parsl.dataflow.memoization"
