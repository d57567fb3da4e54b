"""Checks of HighThroughputExecutor's numeric parameters, run once when settings are made.

A value of the wrong type raises ``ConfigurationTypeError`` (also a ``TypeError``, as
Parsl's type checking raises one); a value of the right type that cannot work raises
``ConfigurationError``.  Each message names the parameter, the value and the fix.  Parsl
accepts some of these values and fails later, or never (docs/differences.md).
"""
from __future__ import annotations

import math
from typing import Any, Optional

from parsl._base.errors import ConfigurationError, ConfigurationTypeError

#: The highest TCP port.
MAX_PORT = 65535


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bad(field: str, value: Any, fix: str) -> ConfigurationError:
    return ConfigurationError(f"HighThroughputExecutor({field}={value!r}) is invalid: {fix}")


def _bad_type(field: str, value: Any, fix: str) -> ConfigurationTypeError:
    return ConfigurationTypeError(f"HighThroughputExecutor({field}={value!r}) is invalid: {fix}")


def as_pair(value: Any) -> Any:
    """A list or tuple as a tuple (checked later by ``check_port_range``); anything else unchanged."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def check_worker_limit(value: Any) -> None:
    """``max_workers_per_node``: a whole number >= 1, or ``math.inf`` (as many as fit)."""
    fix = "give a whole number of workers >= 1, or leave it unset (None) for as many as the node fits"
    if not _is_number(value):
        raise _bad_type("max_workers_per_node", value, fix)
    if value != math.inf and (value < 1 or value != int(value)):
        raise _bad("max_workers_per_node", value, fix)


def check_port(field: str, value: Any, allow_none: bool = True) -> None:
    """A TCP port 1..65535 (None: choose a free one, when ``allow_none``)."""
    if value is None and allow_none:
        return
    fix = f"give a TCP port between 1 and {MAX_PORT}" + (", or None for a free one" if allow_none else "")
    if not _is_int(value):
        raise _bad_type(field, value, fix)
    if not 1 <= value <= MAX_PORT:
        raise _bad(field, value, fix)


def check_port_range(field: str, value: Any) -> None:
    """``(low, high)``: ports ``low`` up to, not including, ``high``; at least one port."""
    fix = f"give (low, high) with 1 <= low < high <= {MAX_PORT + 1}, e.g. (54000, 55000)"
    try:
        low, high = value
    except (TypeError, ValueError):
        raise _bad_type(field, value, fix) from None
    if not (_is_int(low) and _is_int(high)):
        raise _bad_type(field, value, fix)
    if not (1 <= low < high <= MAX_PORT + 1):
        if low > high:
            fix = f"the range is reversed: give ({high}, {low})"
        raise _bad(field, value, fix)


def check_seconds(field: str, value: Any, optional: bool = False) -> None:
    """A duration in seconds > 0 (None allowed when ``optional``)."""
    if value is None and optional:
        return
    fix = "give a number of seconds > 0" + (", or None" if optional else "")
    if not _is_number(value):
        raise _bad_type(field, value, fix)
    if not value > 0 or value != value:   # NaN too
        raise _bad(field, value, fix)


def check_count(field: str, value: Any, minimum: int = 0) -> None:
    """A whole number >= ``minimum``."""
    fix = f"give a whole number >= {minimum}"
    if not _is_int(value):
        raise _bad_type(field, value, fix)
    if value < minimum:
        raise _bad(field, value, fix)


def check_settings(*, max_workers_per_node: Any, worker_port: Optional[Any], worker_ports: Any,
                   worker_port_range: Any, interchange_port_range: Any, heartbeat_threshold: Any,
                   heartbeat_period: Any, prefetch_capacity: Any, poll_period: Any, drain_period: Any,
                   address_probe_timeout: Any, cores_per_worker: Any) -> None:
    """Every check above, in the order of the executor's parameters."""
    if worker_ports is not None:
        try:
            a, b = worker_ports
        except (TypeError, ValueError):
            raise _bad_type("worker_ports", worker_ports, "give (task_port, result_port), or use worker_port") \
                from None
        check_port("worker_ports", a, allow_none=False)
        check_port("worker_ports", b, allow_none=False)
    check_port("worker_port", worker_port)
    check_port_range("worker_port_range", worker_port_range)
    check_port_range("interchange_port_range", interchange_port_range)
    if not _is_number(cores_per_worker):
        raise _bad_type("cores_per_worker", cores_per_worker, "give a number of cores > 0 (< 1 oversubscribes)")
    check_worker_limit(max_workers_per_node)
    check_count("prefetch_capacity", prefetch_capacity)
    check_seconds("heartbeat_threshold", heartbeat_threshold)
    check_seconds("heartbeat_period", heartbeat_period)
    check_seconds("drain_period", drain_period, optional=True)
    check_seconds("address_probe_timeout", address_probe_timeout, optional=True)
    if not _is_number(poll_period) or poll_period <= 0:
        raise (_bad_type if not _is_number(poll_period) else _bad)(
            "poll_period", poll_period, "give a number of milliseconds > 0")
