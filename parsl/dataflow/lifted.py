"""Lifted operators: ``fut[key]`` and ``fut.attr`` on an AppFuture give new AppFutures."""
from __future__ import annotations


def _getitem(obj, key):
    return obj[key]


def _getattr(obj, name):
    return getattr(obj, name)


def _submit_internal(func, args):
    from parsl.dataflow.dflow import DataFlowKernelLoader
    fut = args[0]
    dfk = fut.task_record.dfk or DataFlowKernelLoader.dfk()
    return dfk.submit(func, app_args=args, executors=["_parsl_internal"], cache=False,
                      ignore_for_cache=[], app_kwargs={})


def lifted_getitem(fut, key):
    return _submit_internal(_getitem, (fut, key))


def lifted_getattr(fut, name):
    return _submit_internal(_getattr, (fut, name))
