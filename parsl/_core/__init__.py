"""The kernel: tasks, their states and decisions, the DataFlowKernel and its services.

Imports only private packages (``parsl._base``, ``parsl._executors``, ``parsl._scaling``,
``parsl._staging``); the public modules at Parsl's paths re-export its names. See
``docs/kernel.md`` for the map of its modules.
"""
