"""What an HTEX task may ask for in ``parsl_resource_specification``, checked in pure code.

Without MPI mode a task may give only ``priority``: the interchange sends pending tasks
in ascending priority (a task without one goes last), then in submission order.  In MPI
mode (``MPIExecutor``) a task must say how it is spread (``num_nodes``, ``num_ranks``,
``ranks_per_node``, ``launcher_options``) and may also give a ``priority``.

``validate`` raises ``InvalidResourceSpecification`` naming the offending keys and the
fix; it returns the priority (or None) so ``submit`` reads the spec once.
"""
from __future__ import annotations

import math
from numbers import Real
from typing import AbstractSet, Any, Mapping, Optional

from parsl._base.errors import InvalidResourceSpecification

PRIORITY = "priority"
#: The keys an MPI task uses to say how its ranks are spread over the block's nodes.
MPI_KEYS = frozenset({"num_nodes", "num_ranks", "ranks_per_node", "launcher_options"})
_COUNT_KEYS = ("num_nodes", "num_ranks", "ranks_per_node")


def validate(spec: Optional[Mapping[str, Any]], mpi_mode: bool) -> Optional[float]:
    """Check ``spec`` for an executor in or out of MPI mode; return its priority, if any."""
    if not mpi_mode and (spec is None or (spec.__class__ is dict and not spec)):
        return None     # every task's usual case: no per-submit isinstance against typing.Mapping
    if spec is None:
        spec = {}
    elif not isinstance(spec, Mapping):
        raise InvalidResourceSpecification(
            set(), f"parsl_resource_specification must be a dict, got {type(spec).__name__} {spec!r}")
    keys = set(spec)
    if mpi_mode:
        _validate_mpi(spec, keys)
    else:
        unknown = keys - {PRIORITY}
        if unknown:
            hint = (" (the MPI keys need an MPIExecutor)" if unknown & MPI_KEYS else "")
            raise InvalidResourceSpecification(
                unknown, f"HighThroughputExecutor accepts only {PRIORITY!r} in parsl_resource_specification; "
                         f"got unknown keys {sorted(unknown)}{hint}")
    if PRIORITY not in spec:
        return None
    return _priority(spec[PRIORITY])


def _priority(value: Any) -> float:
    # The interchange orders tasks by it: it must compare with every other priority.
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise InvalidResourceSpecification(
            {PRIORITY}, f"parsl_resource_specification['priority'] must be a number (smaller runs "
                        f"first), got {value!r}")
    return float(value)


def _validate_mpi(spec: Mapping[str, Any], keys: AbstractSet[Any]) -> None:
    if not keys - {PRIORITY}:
        raise InvalidResourceSpecification(
            set(), "MPIExecutor needs a parsl_resource_specification saying how to spread each task, "
                   f"with keys from {sorted(MPI_KEYS)}, e.g. {{'num_nodes': 2, 'ranks_per_node': 4}}")
    unknown = keys - MPI_KEYS - {PRIORITY}
    if unknown:
        raise InvalidResourceSpecification(
            unknown, f"MPIExecutor accepts only {sorted(MPI_KEYS | {PRIORITY})} in "
                     f"parsl_resource_specification; got unknown keys {sorted(unknown)}")
    for key in _COUNT_KEYS:
        if key in spec:
            value = spec[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidResourceSpecification(
                    {key}, f"parsl_resource_specification[{key!r}] must be a positive int, got {value!r}")
    options = spec.get("launcher_options", "")
    if not isinstance(options, str):
        raise InvalidResourceSpecification(
            {"launcher_options"}, "parsl_resource_specification['launcher_options'] must be a str of "
                                  f"extra launcher arguments, got {options!r}")
