"""A task with a large argument is built in one buffer: the same record, one copy fewer."""
import pickle

from parsl._htex import protocol
from parsl.serialize.facade import serialize_arguments, serialize_arguments_into

BIG = protocol.LARGE_ARGUMENT_BYTES


class Array:
    """Stands in for an array type: large by its ``nbytes``."""
    nbytes = BIG


def test_which_arguments_count_as_large():
    assert not protocol.has_large_argument((), {})
    assert not protocol.has_large_argument((1, 2.5, None, True, "s", b"x" * (BIG - 1)), {"k": 3})
    assert protocol.has_large_argument((1, b"x" * BIG), {})
    assert protocol.has_large_argument((), {"k": bytearray(BIG)})
    assert protocol.has_large_argument(("x" * BIG,), {})
    assert protocol.has_large_argument((memoryview(bytes(BIG)),), {})
    assert protocol.has_large_argument((Array(),), {})


def test_a_built_record_is_the_encoded_record():
    args, kwargs = (b"a" * BIG, 7), {"k": b"b" * 10}
    built = protocol.build_task(42, b"func", lambda f: serialize_arguments_into(f, args, kwargs))
    assert built == protocol.encode_task(42, b"func", serialize_arguments(args, kwargs))
    task_id, fbytes, abytes = protocol.decode_task(built)
    assert (task_id, bytes(fbytes)) == (42, b"func")
    assert pickle.loads(abytes) == (args, kwargs)


def test_arguments_that_need_cloudpickle_are_built_too():
    scale = 3
    built = protocol.build_task(1, b"f", lambda f: serialize_arguments_into(f, (lambda x: x * scale, b"z" * BIG), {}))
    (fn, blob), kwargs = pickle.loads(protocol.decode_task(built)[2])
    assert fn(2) == 6 and len(blob) == BIG and kwargs == {}
