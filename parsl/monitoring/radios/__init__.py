"""Monitoring radios: how a message reaches the monitoring hub from where it was made.

A ``RadioConfig`` (picklable, set as an executor's ``remote_monitoring_radio``) makes a
receiver on the submit side (``create_receiver(run_dir=..., resource_msgs=...)``, which
puts each ``(MessageType, dict)`` message it gets on ``resource_msgs``) and then senders
(``create_sender()``, also in other processes or on other hosts, from a pickled copy of
the config).  Chervil's own executors do not need one: HTEX workers report over the
result channel they already have (what ``HTEXRadio`` names) and the thread pool records
its tasks in-process.  Any other radio set on an executor is still created when
monitoring is on, and its receiver listens for the whole run, so messages sent through it
(from task code, or a third-party executor) reach the database.
"""
