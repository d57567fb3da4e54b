"""Kinds of monitoring message, with Parsl's names and values.

Every message is a tuple ``(MessageType, dict)``.  Keys of the dict are the column
names of the table the message lands in (see ``parsl._monitoring.db``); unknown keys
are ignored, missing ones stay NULL.  Timestamps may be ``datetime`` or epoch floats.

What senders put in each kind (``run_id`` is filled in by the hub if absent):

* ``TASK_INFO`` - sent by the hub itself from ``task_state_changed``; other code need not.
* ``RESOURCE_INFO`` - one resource sample of a try: ``task_id, try_id, timestamp,
  resource_monitoring_interval, psutil_process_*`` (see ``parsl._sampling.sampler``).
* ``WORKFLOW_INFO`` - sent by the hub itself.
* ``NODE_INFO`` - a manager's registration/heartbeat/loss: ``hostname, uid, block_id,
  cpu_count, total_memory, active, worker_count, python_v, timestamp, last_heartbeat``.
* ``BLOCK_INFO`` - a block's status change: ``executor_label, block_id, job_id, timestamp,
  status`` (a ``JobState`` or its name).
* ``WORKER_TASK_INFO`` - a worker started (``first_msg=True``) or finished
  (``last_msg=True``) a try: ``task_id, try_id, hostname, block_id, timestamp``.
"""
from enum import Enum


class MessageType(Enum):
    TASK_INFO = 0
    RESOURCE_INFO = 1
    WORKFLOW_INFO = 2
    NODE_INFO = 3
    BLOCK_INFO = 4
    WORKER_TASK_INFO = 5


MessageType.__module__ = "parsl.monitoring.message_type"
