"""HTEX's settings: validated once, frozen, and the one source of both command lines.

The chain, each step a pure function of the one before:

``HTEXSettings`` (the executor's parameters, validated at construction)
  -> ``launch_values`` / ``launch_command``: the manager's command line (Parsl's
     ``process_worker_pool.py`` flags, through the user's ``launch_cmd`` template)
  -> ``manager_settings_from_argv``: what a manager runs with (``ManagerSettings``), once
     it has looked at its node (cores, memory)
  -> ``ManagerSettings.worker_config``: each worker's start-up configuration
     (``protocol.WorkerConfig``).

Objects the executor merely holds (provider, manager selector, staging providers, block
error handler, monitoring radio) are collaborators, not settings, and stay out of here.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import uuid
import warnings
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from parsl._htex import placement, validation
from parsl._htex.protocol import WorkerConfig

DEFAULT_LAUNCH_CMD = (
    "{python} -m parsl.executors.high_throughput.process_worker_pool {debug} {max_workers_per_node} "
    "-a {addresses} -p {prefetch_capacity} -c {cores_per_worker} -m {mem_per_worker} --poll {poll_period} "
    "--port={worker_port} --cert_dir {cert_dir} --logdir={logdir} --block_id={block_id} "
    "--hb_period={heartbeat_period} {address_probe_timeout_string} --hb_threshold={heartbeat_threshold} "
    "--drain_period={drain_period} --cpu-affinity {cpu_affinity} {enable_mpi_mode} "
    "--mpi-launcher={mpi_launcher} {resource_monitoring} --available-accelerators {accelerators}"
)

#: Parameters Parsl once had: refused with what to do instead.
REMOVED_PARAMETERS = {
    "managed": "was removed from Parsl in 2023; drop it",
    "start_method": "was removed; workers are always fresh processes",
    "enable_mpi_mode": "moved to MPIExecutor (parsl.executors.MPIExecutor)",
    "mpi_launcher": "moved to MPIExecutor (parsl.executors.MPIExecutor)",
}

#: The manager's default probe time when ``address_probe_timeout`` is None (seconds).
DEFAULT_PROBE_TIMEOUT_S = 30.0


def refuse_removed(removed: Dict[str, Any]) -> None:
    """TypeError for the first keyword HighThroughputExecutor does not take."""
    for name in removed:
        why = REMOVED_PARAMETERS.get(name)
        if why is None:
            raise TypeError(f"HighThroughputExecutor() got an unexpected keyword argument {name!r}")
        raise TypeError(f"HighThroughputExecutor({name}=...) {why}")


@dataclass(frozen=True)
class HTEXSettings:
    """The executor's parameters (Parsl's names), checked in ``__post_init__``."""

    label: str = "HighThroughputExecutor"
    launch_cmd: Optional[str] = None
    interchange_launch_cmd: Optional[Sequence[str]] = None
    address: Optional[str] = None
    loopback_address: str = "127.0.0.1"
    worker_ports: Optional[Tuple[int, int]] = None
    #: The port managers connect to, as asked for (None: a free one in worker_port_range).
    worker_port: Optional[int] = None
    worker_port_range: Tuple[int, int] = (54000, 55000)
    interchange_port_range: Tuple[int, int] = (55000, 56000)
    working_dir: Optional[str] = None
    worker_debug: bool = False
    cores_per_worker: float = 1.0
    mem_per_worker: Optional[float] = None
    max_workers_per_node: Union[int, float] = math.inf
    cpu_affinity: str = "none"
    available_accelerators: Tuple[str, ...] = ()
    prefetch_capacity: int = 0
    heartbeat_threshold: int = 120
    heartbeat_period: int = 30
    drain_period: Optional[int] = None
    poll_period: int = 10
    address_probe_timeout: Optional[int] = None
    worker_logdir_root: Optional[str] = None
    encrypted: bool = True
    enable_mpi_mode: bool = False
    mpi_launcher: str = "mpiexec"

    def __post_init__(self) -> None:
        validation.check_settings(
            max_workers_per_node=self.max_workers_per_node, worker_port=self.worker_port,
            worker_ports=self.worker_ports, worker_port_range=self.worker_port_range,
            interchange_port_range=self.interchange_port_range, heartbeat_threshold=self.heartbeat_threshold,
            heartbeat_period=self.heartbeat_period, prefetch_capacity=self.prefetch_capacity,
            poll_period=self.poll_period, drain_period=self.drain_period,
            address_probe_timeout=self.address_probe_timeout, cores_per_worker=self.cores_per_worker)
        if self.cores_per_worker <= 0:
            raise ValueError(f"cores_per_worker={self.cores_per_worker!r} must be > 0 (values < 1 oversubscribe)")
        placement.validate_cpu_affinity(self.cpu_affinity)

    @classmethod
    def from_parameters(cls, *, max_workers: Optional[Union[int, float]],
                        max_workers_per_node: Optional[Union[int, float]],
                        available_accelerators: Union[int, Sequence[str]],
                        worker_port_range: Sequence[int], interchange_port_range: Sequence[int],
                        stacklevel: int = 2, **parameters: Any) -> HTEXSettings:
        """Settings from HighThroughputExecutor's keyword arguments, old spellings included.

        ``stacklevel`` counts from the caller of this function (its warnings name the user's
        line).
        """
        if max_workers is not None:
            warnings.warn("HighThroughputExecutor(max_workers=...) is the old name of max_workers_per_node; "
                          "use max_workers_per_node", DeprecationWarning, stacklevel=stacklevel + 1)
            if max_workers_per_node is None:
                max_workers_per_node = max_workers
        worker_ports = parameters.get("worker_ports")
        if isinstance(worker_ports, (list, tuple)) and worker_ports and parameters.get("worker_port") is None:
            parameters["worker_port"] = worker_ports[0]   # one socket now serves both directions
        settings = cls(
            max_workers_per_node=math.inf if max_workers_per_node is None else max_workers_per_node,
            available_accelerators=tuple(placement.accelerator_names(available_accelerators)),
            worker_port_range=validation.as_pair(worker_port_range),
            interchange_port_range=validation.as_pair(interchange_port_range),
            **parameters)
        if settings.heartbeat_threshold < settings.heartbeat_period:
            warnings.warn(f"heartbeat_threshold={settings.heartbeat_threshold} is below heartbeat_period="
                          f"{settings.heartbeat_period}: healthy managers will be declared lost",
                          stacklevel=stacklevel + 1)
        return settings

    def replace(self, **changes: Any) -> HTEXSettings:
        return dataclasses.replace(self, **changes)

    def workers_per_node(self, cores: Optional[float], mem_gb: Optional[float]) -> int:
        """Workers on a node with ``cores`` and ``mem_gb`` (None: not known here)."""
        return placement.workers_per_node(
            max_workers_per_node=self.max_workers_per_node, cores=cores, cores_per_worker=self.cores_per_worker,
            mem_gb=mem_gb, mem_per_worker=self.mem_per_worker, accelerators=self.available_accelerators)

    def launch_values(self, block_id: str, run: LaunchContext) -> Dict[str, Any]:
        """The placeholders a ``launch_cmd`` template may use (Parsl's names, both eras)."""
        mw = self.max_workers_per_node
        worker_limit = "" if mw == math.inf else f"--max_workers_per_node={mw}"
        interval = run.resource_monitoring_interval
        return {
            "python": run.python,
            "debug": "--debug" if self.worker_debug else "",
            "max_workers_per_node": worker_limit,
            "max_workers": worker_limit,
            "addresses": run.addresses, "prefetch_capacity": self.prefetch_capacity,
            "cores_per_worker": self.cores_per_worker, "mem_per_worker": self.mem_per_worker or 0,
            "poll_period": self.poll_period, "worker_port": run.port,
            "task_port": run.port, "result_port": run.port,
            "cert_dir": run.cert_dir or "None", "logdir": run.logdir, "block_id": block_id,
            "heartbeat_period": self.heartbeat_period, "heartbeat_threshold": self.heartbeat_threshold,
            "address_probe_timeout_string": (f"--address_probe_timeout={self.address_probe_timeout}"
                                             if self.address_probe_timeout else ""),
            "drain_period": self.drain_period, "cpu_affinity": self.cpu_affinity,
            "enable_mpi_mode": "--enable_mpi_mode" if self.enable_mpi_mode else "",
            "mpi_launcher": self.mpi_launcher,
            "accelerators": " ".join(self.available_accelerators),
            "nodes_per_block": run.nodes_per_block,
            "resource_monitoring": "" if interval is None else f"--resource_monitoring_interval={interval}",
        }

    def launch_command(self, block_id: str, run: LaunchContext) -> str:
        """The manager's command line for one block.  KeyError names an unknown placeholder."""
        template = self.launch_cmd or DEFAULT_LAUNCH_CMD
        # Parsl's own templates write {{block_id}} (they format twice): accept both.
        return template.format(**self.launch_values(block_id, run)).replace("{block_id}", block_id)


@dataclass(frozen=True)
class LaunchContext:
    """What a launch command needs beyond the settings: facts of the running executor."""

    python: str
    addresses: str
    port: Optional[int]
    cert_dir: Optional[str]
    logdir: Optional[str]
    nodes_per_block: int = 1
    #: None: no monitoring; -1.0: task start/end reports only; else the sampling period (s).
    resource_monitoring_interval: Optional[float] = None


# --- the manager's side of the command line ------------------------------------------------
@dataclass(frozen=True)
class ManagerSettings:
    """What one manager runs with: its command line plus what it learnt about its node."""

    addresses: Tuple[str, ...]
    port: int
    uid: str = "manager"
    block_id: str = "0"
    worker_count: int = 1
    prefetch_capacity: int = 0
    heartbeat_period: float = 30
    heartbeat_threshold: float = 120
    drain_period: Optional[float] = None
    poll_period_ms: int = 10
    address_probe_timeout: float = DEFAULT_PROBE_TIMEOUT_S
    cert_dir: Optional[str] = None
    logdir: Optional[str] = None
    debug: bool = False
    cpu_affinity: str = "none"
    accelerators: Tuple[str, ...] = ()
    cores_per_worker: float = 1.0
    resource_monitoring_interval: Optional[float] = None

    def worker_config(self, rank: int, *, task_fd: int, result_fd: int, lifeline_fd: int, manager_pid: int,
                      cpu_affinity: Optional[List[int]]) -> WorkerConfig:
        logfile = os.path.join(self.logdir, f"worker_{rank}.log") if self.debug and self.logdir else None
        return WorkerConfig(task_fd=task_fd, result_fd=result_fd, lifeline_fd=lifeline_fd,
                            manager_pid=manager_pid, rank=rank, debug=self.debug, cpu_affinity=cpu_affinity,
                            resource_monitoring_interval=self.resource_monitoring_interval, logfile=logfile)


def _optional_float(s: str) -> Optional[float]:
    return None if s in ("None", "") else float(s)


def _worker_limit(s: str) -> float:
    return float("inf") if s in ("inf", "None") else int(float(s))


def manager_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="process_worker_pool.py",
                                description="Chervil HighThroughputExecutor manager (one per node)")
    p.add_argument("-d", "--debug", action="store_true", help="DEBUG logs for the manager and workers")
    p.add_argument("-a", "--addresses", required=True, help="comma-separated interchange addresses to probe")
    p.add_argument("--port", type=int, default=None, help="interchange worker port")
    p.add_argument("--task_port", type=int, default=None, help="legacy name of --port")
    p.add_argument("--result_port", type=int, default=None, help="legacy; ignored (one socket now)")
    p.add_argument("-l", "--logdir", default="process_worker_pool_logs")
    p.add_argument("-u", "--uid", default=None)
    p.add_argument("-b", "--block_id", default=None)
    p.add_argument("-c", "--cores_per_worker", type=float, default=1.0)
    p.add_argument("-m", "--mem_per_worker", type=float, default=0)
    p.add_argument("--max_workers_per_node", "--max_workers", default=float("inf"), type=_worker_limit)
    p.add_argument("-p", "--prefetch_capacity", type=int, default=0)
    p.add_argument("--hb_period", type=float, default=30)
    p.add_argument("--hb_threshold", type=float, default=120)
    p.add_argument("--drain_period", type=_optional_float, default=None)
    p.add_argument("--address_probe_timeout", type=_optional_float, default=None)
    p.add_argument("--poll", type=int, default=10)
    p.add_argument("--cert_dir", default="None")
    p.add_argument("--logconf", default=None)
    p.add_argument("--cpu-affinity", dest="cpu_affinity", default="none")
    p.add_argument("--available-accelerators", dest="available_accelerators", nargs="*", default=[])
    p.add_argument("--enable_mpi_mode", action="store_true")
    p.add_argument("--mpi-launcher", dest="mpi_launcher", default="mpiexec")
    p.add_argument("--resource_monitoring_interval", type=float, default=None,
                   help="sample each task's resources every N seconds (monitoring); off if absent")
    return p


class CommandLineError(ValueError):
    """The manager's command line cannot work (printed, exit code 2)."""


@dataclass(frozen=True)
class NodeFacts:
    """What a manager reads from its node to size itself (``$PARSL_CORES``/``$PARSL_MEMORY_GB`` win)."""

    cores: float
    memory_gb: Optional[float]


def manager_settings_from_argv(argv: Optional[Sequence[str]], node: NodeFacts) -> ManagerSettings:
    """A manager's settings from Parsl's ``process_worker_pool.py`` flags and its node."""
    args = manager_parser().parse_args(argv)
    port = args.port if args.port is not None else args.task_port
    if port is None:
        raise CommandLineError("--port is required")
    # The executor always passes device names (it expands an int n to "0".."n-1").
    accelerators = placement.accelerator_names(list(args.available_accelerators))
    worker_count = placement.workers_per_node(
        max_workers_per_node=args.max_workers_per_node, cores=node.cores,
        cores_per_worker=args.cores_per_worker,
        mem_gb=node.memory_gb if args.mem_per_worker else None,
        mem_per_worker=args.mem_per_worker or None, accelerators=accelerators)
    if args.enable_mpi_mode:
        worker_count = 1 if args.max_workers_per_node == math.inf else int(args.max_workers_per_node)
    uid = args.uid or uuid.uuid4().hex[:12]
    block_id = args.block_id if args.block_id is not None else "0"
    return ManagerSettings(
        addresses=tuple(a for a in args.addresses.split(",") if a), port=port, uid=uid, block_id=block_id,
        worker_count=worker_count, prefetch_capacity=args.prefetch_capacity,
        heartbeat_period=args.hb_period, heartbeat_threshold=args.hb_threshold,
        drain_period=args.drain_period, poll_period_ms=args.poll,
        address_probe_timeout=args.address_probe_timeout or DEFAULT_PROBE_TIMEOUT_S,
        cert_dir=None if args.cert_dir in (None, "None", "") else args.cert_dir,
        logdir=os.path.join(args.logdir, f"block-{block_id}", uid), debug=args.debug,
        cpu_affinity=args.cpu_affinity, accelerators=tuple(accelerators),
        cores_per_worker=args.cores_per_worker, resource_monitoring_interval=args.resource_monitoring_interval)
