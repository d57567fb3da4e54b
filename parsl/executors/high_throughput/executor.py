"""HighThroughputExecutor: pilot-job workers over ZeroMQ, Parsl's parameters of both eras.

Process layout (the decision, measured on 2 cores; see docs/htex.md):

* the **interchange** is a thread in the user process (``parsl._htex.interchange``): no
  extra process hop, no interchange start-up, and results complete futures directly;
* a **manager** per node of each block, started by the provider through ``launch_cmd``
  (``parsl._htex.manager``), talks to the interchange over one TCP connection;
* **workers** are pre-started by the manager and fed through OS pipes.

This class is Parsl's constructor only: it validates the parameters into one frozen
``parsl._htex.settings.HTEXSettings`` and hands it, with the collaborators (provider,
manager selector, monitoring radio), to ``parsl._htex.client.HTEXClient``, which does
the work.
"""
from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

from parsl._htex.client import UNCONNECTED_WARN_S, HTEXClient, logger  # noqa: F401
from parsl._htex.matching import choose_blocks_to_scale_in  # noqa: F401
from parsl._htex.settings import DEFAULT_LAUNCH_CMD, HTEXSettings, refuse_removed  # noqa: F401
from parsl.executors.high_throughput.manager_selector import ManagerSelector, RandomManagerSelector
from parsl.launchers.launchers import SimpleLauncher, SingleNodeLauncher
from parsl.monitoring.radios.htex import HTEXRadio
from parsl.providers.local.local import LocalProvider
from parsl.serialize.facade import serialize_arguments, serialize_arguments_into, serialize_function


class HighThroughputExecutor(HTEXClient):
    """Run apps on pilot workers: blocks started by ``provider``, one manager per node, pre-started
    worker processes fed over ZeroMQ.

    The executor for anything beyond one process: your laptop's cores, a workstation, or the nodes
    of batch jobs. It asks ``provider`` for blocks (``LocalProvider`` by default); each block runs
    ``launch_cmd`` (through the provider's launcher) once per node, which starts a manager that
    connects back to this process and runs ``max_workers_per_node`` workers. Functions and
    arguments travel with cloudpickle; results and exceptions (with their remote tracebacks) come
    back the same way.

    Args:
        label: the executor's name, used by ``@python_app(executors=[label])`` and in logs and
            monitoring.
        provider: where blocks come from: ``LocalProvider()`` (default), ``SlurmProvider(...)``, ...
        launch_cmd: the command a block runs per node; the default starts
            ``process_worker_pool.py`` from this Python. Parsl's placeholders work
            (``{block_id}``, ``{max_workers_per_node}``, ...).
        interchange_launch_cmd: accepted and ignored: the interchange is a thread of this process.
        address: the address workers connect to. Default: this host's addresses, probed by each
            manager until one answers; give one (``address_by_interface("ib0")``,
            ``address_by_hostname()``) when workers run on other hosts.
        loopback_address: the address used when everything is on this machine.
        worker_ports: a fixed ``(port, port)`` to listen on (the first is used); overrides the range.
        worker_port: a fixed port to listen on.
        worker_port_range: the range the listening port is chosen from.
        interchange_port_range: accepted for compatibility (no separate interchange ports).
        storage_access: staging providers for ``File`` arguments (default: local, HTTP(S), FTP).
        working_dir: where workers stage files and run; default: their current directory.
        worker_debug: DEBUG-level manager and worker logs in the run directory.
        cores_per_worker: cores per worker; with ``max_workers_per_node`` unset, a node runs
            ``cores // cores_per_worker`` workers (fractions over-subscribe).
        mem_per_worker: GB per worker; also caps workers per node by the node's memory.
        max_workers: the tutorial era's name of ``max_workers_per_node`` (warns once).
        max_workers_per_node: workers per node; default: as many as cores and memory allow.
        cpu_affinity: pin workers to cores: ``"none"``, ``"block"``, ``"alternating"``,
            ``"block-reverse"`` or ``"list:0,1:2,3"``.
        available_accelerators: accelerators to share among a node's workers, one per worker:
            a count (``4`` means ids ``"0"``..``"3"``) or a list of ids; each worker sees its own in
            ``CUDA_VISIBLE_DEVICES`` (and the ROCm/oneAPI equivalents). Caps workers per node.
        prefetch_capacity: tasks a manager may hold beyond its idle workers (hides latency for
            short tasks; 0 keeps the load even).
        heartbeat_threshold: seconds without a heartbeat after which a manager (and its tasks) is
            declared lost.
        heartbeat_period: seconds between heartbeats in each direction.
        drain_period: seconds after which a manager stops taking tasks and exits when idle, so a
            block ends before its walltime; ``None``: never.
        poll_period: milliseconds a manager waits for work per poll (tuning only).
        address_probe_timeout: seconds a manager spends trying the candidate ``address`` es.
        worker_logdir_root: where managers write their logs; default: the run directory.
        manager_selector: which manager gets the next task (default: random).
        block_error_handler: what to do with failing blocks: ``True`` (give up after repeated
            failures, with the jobs' exit codes and output in the error), ``False`` (never give
            up), or a function ``(executor, status) -> None``.
        encrypted: CurveZMQ encryption and client authentication between this process and the
            managers (default ``True``; certificates in ``<run_dir>/<label>/certificates``).
        remote_monitoring_radio: how workers send monitoring records (default: over the
            executor's own connection).

    Example::

        HighThroughputExecutor(label="htex", max_workers_per_node=4,
                               provider=LocalProvider(init_blocks=1, max_blocks=1))
    """

    def __init__(self,
                 label: str = "HighThroughputExecutor",
                 provider=None,
                 launch_cmd: Optional[str] = None,
                 interchange_launch_cmd: Optional[Sequence[str]] = None,
                 address: Optional[str] = None,
                 loopback_address: str = "127.0.0.1",
                 worker_ports: Optional[Tuple[int, int]] = None,
                 worker_port: Optional[int] = None,
                 worker_port_range: Tuple[int, int] = (54000, 55000),
                 interchange_port_range: Tuple[int, int] = (55000, 56000),
                 storage_access: Optional[List[Any]] = None,
                 working_dir: Optional[str] = None,
                 worker_debug: bool = False,
                 cores_per_worker: float = 1.0,
                 mem_per_worker: Optional[float] = None,
                 max_workers: Optional[Union[int, float]] = None,
                 max_workers_per_node: Optional[Union[int, float]] = None,
                 cpu_affinity: str = "none",
                 available_accelerators: Union[int, Sequence[str]] = (),
                 prefetch_capacity: int = 0,
                 heartbeat_threshold: int = 120,
                 heartbeat_period: int = 30,
                 drain_period: Optional[int] = None,
                 poll_period: int = 10,
                 address_probe_timeout: Optional[int] = None,
                 worker_logdir_root: Optional[str] = None,
                 manager_selector: Optional[ManagerSelector] = None,
                 block_error_handler: Union[bool, Callable] = True,
                 encrypted: bool = True,
                 remote_monitoring_radio=None,
                 **removed):
        refuse_removed(removed)
        settings = HTEXSettings.from_parameters(
            label=label, launch_cmd=launch_cmd, interchange_launch_cmd=interchange_launch_cmd, address=address,
            loopback_address=loopback_address, worker_ports=worker_ports, worker_port=worker_port,
            worker_port_range=worker_port_range, interchange_port_range=interchange_port_range,
            working_dir=working_dir, worker_debug=worker_debug, cores_per_worker=cores_per_worker,
            mem_per_worker=mem_per_worker, max_workers=max_workers, max_workers_per_node=max_workers_per_node,
            cpu_affinity=cpu_affinity, available_accelerators=available_accelerators,
            prefetch_capacity=prefetch_capacity, heartbeat_threshold=heartbeat_threshold,
            heartbeat_period=heartbeat_period, drain_period=drain_period, poll_period=poll_period,
            address_probe_timeout=address_probe_timeout, worker_logdir_root=worker_logdir_root,
            encrypted=encrypted, stacklevel=2)
        super().__init__(
            settings, provider=LocalProvider() if provider is None else provider,
            block_error_handler=block_error_handler, storage_access=storage_access,
            manager_selector=RandomManagerSelector() if manager_selector is None else manager_selector,
            remote_monitoring_radio=HTEXRadio() if remote_monitoring_radio is None else remote_monitoring_radio,
            serialize_function=serialize_function, serialize_arguments=serialize_arguments,
            serialize_arguments_into=serialize_arguments_into,
            blocks_are_local=_blocks_are_local(provider, launch_cmd))

    def __repr__(self):
        return (f"HighThroughputExecutor(label={self.label!r}, max_workers_per_node={self.max_workers_per_node!r}, "
                f"address={self.address!r}, encrypted={self.encrypted!r}, provider={self.provider!r})")


def _blocks_are_local(provider: Any, launch_cmd: Optional[str]) -> bool:
    """True when every block surely runs on this host: a LocalProvider (the default) whose
    launcher starts the command here, and Parsl's launch command.  Then the interchange
    listens on loopback only; anything else (a wrapping launcher, an MPI launcher, a custom
    launch_cmd) may put managers elsewhere."""
    if launch_cmd is not None:
        return False
    if provider is None:
        return True
    return type(provider) is LocalProvider and type(provider.launcher) in (SingleNodeLauncher, SimpleLauncher)
