"""Module loading for the public packages: submodules and chosen names as attributes,
imported on first use (PEP 562), and a hint for modules Chervil does not ship.

Parsl's ``import parsl`` imports most of its subpackages, so scripts reach
``parsl.app.app.python_app`` or ``parsl.data_provider.files.File`` after a bare
``import parsl``. Chervil keeps ``import parsl`` cheap instead: a public package sets
``__getattr__ = submodule_getattr(__name__, ...)`` and a missing attribute is imported when
first asked for. Only a missing attribute costs anything; the hot path never gets here.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import MappingProxyType
from typing import Any, Callable, Mapping

_NO_NAMES: Mapping[str, str] = MappingProxyType({})


def submodule_getattr(package: str, names: Mapping[str, str] = _NO_NAMES) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``names`` maps an attribute to the module
    defining it (cached in the package once loaded); any other public name that is a
    submodule of ``package`` is imported (the import sets the attribute)."""

    def __getattr__(name: str) -> Any:
        home = names.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home), name)
            setattr(sys.modules[package], name, value)
            return value
        if not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class MissingModuleHint(importlib.abc.MetaPathFinder):
    """Consulted last on ``sys.meta_path``: a module under ``prefix`` that no other finder
    found fails with ``hint`` in its message, instead of Python's bare "No module named".

    The error's ``name`` is left unset so that ``from package import missing`` shows the hint
    too (Python swallows a ModuleNotFoundError naming the submodule there, and says only
    "cannot import name").
    """

    def __init__(self, prefix: str, hint: str) -> None:
        self.prefix = prefix
        self.hint = hint

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.startswith(self.prefix):
            raise ModuleNotFoundError(f"No module named {fullname!r}: {self.hint}")
        return None

    @classmethod
    def install(cls, prefix: str, hint: str) -> None:
        """Add a hint for ``prefix`` once (a reloaded package does not add a second)."""
        for finder in sys.meta_path:
            if isinstance(finder, cls) and finder.prefix == prefix:
                return
        sys.meta_path.append(cls(prefix, hint))
