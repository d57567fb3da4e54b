"""What HTEX workers and monitoring share, below both (imports only ``parsl._base``).

* ``records``  every monitoring record that crosses a process boundary and its encoding;
* ``sampler``  the per-worker resource sampler (``TaskResourceMonitor``);
* ``proc``     reading a process tree's counters (the /proc fast paths, psutil elsewhere);
* ``adapter``  a plain callable as a ``MonitoringSink`` (Parsl's messages, opened here).

Nothing is imported here: a worker without monitoring loads none of it, and the writer
process loads ``records`` without psutil.
"""
