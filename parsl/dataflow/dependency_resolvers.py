"""How the kernel finds the futures an app call depends on (``parsl.dataflow.dependency_resolvers``).

The machinery lives in ``parsl._core.dependency_resolvers``.
"""
from parsl._core.dependency_resolvers import (  # noqa: F401
    DEEP_DEPENDENCY_RESOLVER,
    SHALLOW_DEPENDENCY_RESOLVER,
    DependencyResolver,
    deep_traverse_to_gather,
    deep_traverse_to_unwrap,
)

__all__ = ["DependencyResolver", "SHALLOW_DEPENDENCY_RESOLVER", "DEEP_DEPENDENCY_RESOLVER",
           "deep_traverse_to_gather", "deep_traverse_to_unwrap"]
