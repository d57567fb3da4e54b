"""Monitoring machinery in the user process and the writer process.

User process: the router (``router``: the queue executors and the kernel append to, its
``QueueSink`` and the flush thread), ``compact`` (queued events -> chunk items) and the
writer's client (``writer_process.WriterProcessClient``).  Writer process
(``writer_process.main``): ``events`` (chunk items -> rows) and ``db`` (the store).  Also
the terminal progress view (``progress``) and the web view (``web``).  The records that
cross process boundaries, and the worker-side sampler, are in ``parsl._sampling``; the
seams (``MonitoringSink``, ``MonitoringHubBase``) in ``parsl._base.monitoring_sink``.
Public names live in ``parsl.monitoring``."""
