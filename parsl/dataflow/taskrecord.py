"""The task record: everything the kernel knows about one task.

A slotted object (cheap: the kernel may hold 100,000s of pending tasks) that also answers
``rec['key']`` and ``rec['key'] = v`` because Parsl's TaskRecord is a dict and users'
retry handlers index it that way.
"""
from __future__ import annotations


class TaskRecord:
    __slots__ = (
        "id", "func", "func_name", "args", "kwargs", "executor", "status", "depends",
        "app_fu", "exec_fu", "fail_count", "fail_cost", "fail_history", "from_memo",
        "memoize", "ignore_for_cache", "hashsum", "join", "joins", "try_id",
        "time_invoked", "time_returned", "try_time_launched", "try_time_returned",
        "resource_specification", "pending_deps", "dfk", "memo_miss_reason",
        "fn_hash", "checkpoint", "_extra",
    )

    def __init__(self, tid, func, func_name, args, kwargs, executor, dfk):
        self.id = tid
        self.func = func
        self.func_name = func_name
        self.args = args
        self.kwargs = kwargs
        self.executor = executor
        self.dfk = dfk
        self.status = None
        self.depends = ()
        self.app_fu = None
        self.exec_fu = None
        self.fail_count = 0
        self.fail_cost = 0.0
        self.fail_history = None
        self.from_memo = None
        self.memoize = False
        self.ignore_for_cache = ()
        self.hashsum = None
        self.join = False
        self.joins = None
        self.try_id = 0
        self.time_invoked = None
        self.time_returned = None
        self.try_time_launched = None
        self.try_time_returned = None
        self.resource_specification = None
        self.pending_deps = 0
        self.memo_miss_reason = None
        self.fn_hash = None
        self.checkpoint = False
        self._extra = None

    # dict-style access, for code written against Parsl's TypedDict record
    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            if self._extra is not None and key in self._extra:
                return self._extra[key]
            raise KeyError(key) from None

    def __setitem__(self, key, value):
        try:
            setattr(self, key, value)
        except AttributeError:
            if self._extra is None:
                self._extra = {}
            self._extra[key] = value

    def __contains__(self, key):
        return key in self.__slots__ or (self._extra is not None and key in self._extra)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        ks = [k for k in self.__slots__ if not k.startswith("_") and k not in ("dfk", "pending_deps")]
        if self._extra:
            ks.extend(self._extra)
        return ks

    @property
    def retries_left(self):
        dfk = self.dfk
        return (dfk.config.retries - self.fail_count) if dfk is not None else 0

    def __repr__(self):
        return f"<TaskRecord {self.id} {self.func_name} {self.status!s}>"
