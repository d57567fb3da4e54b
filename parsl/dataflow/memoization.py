"""App caching (memoization) and checkpointing, at Parsl's path ``parsl.dataflow.memoization``.

Public names: ``id_for_memo`` (extend with ``@id_for_memo.register(T)``), ``make_hash``,
``Memoizer`` (the plugin interface the DataFlowKernel drives), ``BasicMemoizer`` and
``explain`` (why a call was not a cache hit). The machinery lives in ``parsl._core.memoizer``
(the memoizer), ``parsl._core.memo`` (keys) and ``parsl._core.memo_explain`` (miss reasons).
"""
from parsl._core.memo import UnmemoizableArgumentError, id_for_memo  # noqa: F401
from parsl._core.memo_explain import MissReason  # noqa: F401
from parsl._core.memoizer import BasicMemoizer, Memoizer, explain, make_hash  # noqa: F401

__all__ = ["id_for_memo", "make_hash", "Memoizer", "BasicMemoizer", "MissReason",
           "UnmemoizableArgumentError", "explain"]
