"""How the kernel finds the futures an app call depends on.

The kernel applies a resolver to each positional argument, each keyword value and each
element of ``inputs``. ``traverse_to_gather`` lists the futures to wait for;
``traverse_to_unwrap`` rebuilds the value with each future replaced by its result.
Public at ``parsl.dataflow.dependency_resolvers``.
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from functools import singledispatch
from typing import Any, Callable, Dict, Iterable, List


@dataclass
class DependencyResolver:
    traverse_to_gather: Callable[[Any], List[Future[Any]]]
    traverse_to_unwrap: Callable[[Any], Any]


def _shallow_gather(obj: Any) -> List[Future[Any]]:
    return [obj] if isinstance(obj, Future) else []


def _shallow_unwrap(obj: Any) -> Any:
    return obj.result() if isinstance(obj, Future) else obj


SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(traverse_to_gather=_shallow_gather,
                                                 traverse_to_unwrap=_shallow_unwrap)


@singledispatch
def deep_traverse_to_gather(o: Any) -> List[Future[Any]]:
    return [o] if isinstance(o, Future) else []


@deep_traverse_to_gather.register(tuple)
@deep_traverse_to_gather.register(list)
@deep_traverse_to_gather.register(set)
def _gather_iterable(iterable: Iterable[Any]) -> List[Future[Any]]:
    out = []
    for v in iterable:
        out.extend(deep_traverse_to_gather(v))
    return out


@deep_traverse_to_gather.register(dict)
def _gather_dict(dictionary: Dict[Any, Any]) -> List[Future[Any]]:
    out = []
    for k, v in dictionary.items():
        out.extend(deep_traverse_to_gather(k))
        out.extend(deep_traverse_to_gather(v))
    return out


@singledispatch
def deep_traverse_to_unwrap(o: Any) -> Any:
    return o.result() if isinstance(o, Future) else o


@deep_traverse_to_unwrap.register(tuple)
@deep_traverse_to_unwrap.register(list)
@deep_traverse_to_unwrap.register(set)
def _unwrap_iterable(iterable: Any) -> Any:
    return type(iterable)(deep_traverse_to_unwrap(v) for v in iterable)


@deep_traverse_to_unwrap.register(dict)
def _unwrap_dict(dictionary: Dict[Any, Any]) -> Any:
    return type(dictionary)((deep_traverse_to_unwrap(k), deep_traverse_to_unwrap(v))
                            for k, v in dictionary.items())


DEEP_DEPENDENCY_RESOLVER = DependencyResolver(traverse_to_gather=deep_traverse_to_gather,
                                              traverse_to_unwrap=deep_traverse_to_unwrap)

DependencyResolver.__module__ = "parsl.dataflow.dependency_resolvers"
