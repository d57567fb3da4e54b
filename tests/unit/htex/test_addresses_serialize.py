"""Address helpers and the serialization facade."""
import pytest

from parsl import addresses
from parsl.serialize import deserialize, pack_apply_message, serialize, unpack_apply_message
from parsl.serialize.facade import serialize_arguments, serialize_function


def test_tcp_url_brackets_ipv6():
    assert addresses.tcp_url("::1", 5) == "tcp://[::1]:5"
    assert addresses.tcp_url("127.0.0.1", 5) == "tcp://127.0.0.1:5"


def test_all_addresses_include_loopback_and_probing_order_puts_it_last():
    found = addresses.get_all_addresses()
    assert "127.0.0.1" in found
    order = addresses.sorted_for_probing(found)
    assert order[-1] in ("127.0.0.1", "::1") or all(a in ("127.0.0.1", "::1") for a in order)


def test_address_by_interface_error_names_interfaces():
    with pytest.raises(ValueError, match="no network interface"):
        addresses.address_by_interface("nosuchif0")


def test_closures_and_lambdas_round_trip():
    k = 5
    f = pack_apply_message(lambda x, y=1: x + y + k, (1,), {"y": 2})
    func, args, kwargs = unpack_apply_message(f)
    assert func(*args, **kwargs) == 8
    assert deserialize(serialize({"a": [1, 2]})) == {"a": [1, 2]}


def test_function_bytes_are_cached_per_function():
    def g():
        return 1
    assert serialize_function(g) is serialize_function(g)


def test_plain_and_rich_arguments_both_load():
    import pickle
    assert pickle.loads(serialize_arguments((1, "a", None), {"x": 2.5})) == ((1, "a", None), {"x": 2.5})
    args, _ = pickle.loads(serialize_arguments((lambda: 3,), {}))
    assert args[0]() == 3
