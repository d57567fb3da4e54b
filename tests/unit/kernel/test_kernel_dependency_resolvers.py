"""The shallow and deep dependency resolvers, as pure functions on values."""
import concurrent.futures as cf
from dataclasses import is_dataclass

from parsl.dataflow.dependency_resolvers import (
    DEEP_DEPENDENCY_RESOLVER,
    SHALLOW_DEPENDENCY_RESOLVER,
    DependencyResolver,
    deep_traverse_to_gather,
    deep_traverse_to_unwrap,
)


def done(value):
    f = cf.Future()
    f.set_result(value)
    return f


def test_resolver_is_a_dataclass_of_two_functions():
    assert is_dataclass(DependencyResolver)
    r = DependencyResolver(traverse_to_gather=lambda o: [], traverse_to_unwrap=lambda o: o)
    assert r.traverse_to_gather(1) == [] and r.traverse_to_unwrap(1) == 1


def test_shallow_sees_only_top_level_futures():
    f = done(3)
    g = SHALLOW_DEPENDENCY_RESOLVER.traverse_to_gather
    u = SHALLOW_DEPENDENCY_RESOLVER.traverse_to_unwrap
    assert g(f) == [f]
    assert g([f]) == [] and g({"k": f}) == [] and g(5) == []
    assert u(f) == 3
    nested = [f]
    assert u(nested) is nested  # left alone


def test_deep_gathers_from_nested_containers_including_dict_keys():
    fs = [done(i) for i in range(6)]
    value = [fs[0], (fs[1], {fs[2]: [fs[3]]}), {fs[4]}, {"x": {"y": fs[5]}}, "plain", 7]
    got = DEEP_DEPENDENCY_RESOLVER.traverse_to_gather(value)
    assert sorted(map(id, got)) == sorted(map(id, fs))


def test_deep_unwraps_and_keeps_container_types():
    a, b, c = done(1), done(2), done("k")
    value = {"list": [a, 5], "tuple": (b,), "set": {a}, "nested": {c: [(a, b)]}}
    out = DEEP_DEPENDENCY_RESOLVER.traverse_to_unwrap(value)
    assert out == {"list": [1, 5], "tuple": (2,), "set": {1}, "nested": {"k": [(1, 2)]}}
    assert type(out["tuple"]) is tuple and type(out["set"]) is set


def test_deep_unwrap_does_not_mutate_the_input():
    a = done(1)
    value = [a]
    DEEP_DEPENDENCY_RESOLVER.traverse_to_unwrap(value)
    assert value == [a]


def test_deep_leaves_plain_values_untouched():
    assert DEEP_DEPENDENCY_RESOLVER.traverse_to_gather("abc") == []
    assert DEEP_DEPENDENCY_RESOLVER.traverse_to_unwrap("abc") == "abc"


def test_deep_resolver_is_extensible_for_user_types():
    class Box:
        def __init__(self, inner):
            self.inner = inner

    @deep_traverse_to_gather.register(Box)
    def _(box):
        return deep_traverse_to_gather(box.inner)

    @deep_traverse_to_unwrap.register(Box)
    def _(box):
        return Box(deep_traverse_to_unwrap(box.inner))

    f = done(9)
    assert DEEP_DEPENDENCY_RESOLVER.traverse_to_gather(Box([f])) == [f]
    assert DEEP_DEPENDENCY_RESOLVER.traverse_to_unwrap(Box([f])).inner == [9]
