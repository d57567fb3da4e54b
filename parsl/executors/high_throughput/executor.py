"""HighThroughputExecutor: pilot-job workers over ZeroMQ, Parsl's parameters of both eras.

Process layout (the decision, measured on 2 cores; see docs/htex.md):

* the **interchange** is a thread in the user process (``parsl._htex.interchange``): no
  extra process hop, no interchange start-up, and results complete futures directly;
* a **manager** per node of each block, started by the provider through ``launch_cmd``
  (``parsl._htex.manager``), talks to the interchange over one TCP connection;
* **workers** are pre-started by the manager and fed through OS pipes.

Tasks are encoded once here (``protocol.encode_task``) and not re-encoded on the way to the
worker; results come back the same way and are decoded once here.
"""
from __future__ import annotations

import itertools
import logging
import math
import os
import pickle
import sys
import threading
import time
import warnings
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from parsl._htex import placement, protocol
from parsl._htex.protocol import TASK_END_SIZE
from parsl._sampling.adapter import as_sink
from parsl._sampling.records import join_frames
from parsl._base.errors import BadMessage, ExecutorError, InvalidResourceSpecification
from parsl._base.errors import ManagerLost
from parsl.executors.high_throughput.manager_selector import ManagerSelector, RandomManagerSelector
from parsl._executors.blocks import BlockProviderExecutor
from parsl._base.job_states import JobState, JobStatus
from parsl._base.message_type import MessageType
from parsl.serialize.facade import serialize_arguments, serialize_function

logger = logging.getLogger(__name__)

try:  # the kernel's allocation-light Future, when present
    from parsl._base.futures import LightFuture as _Future
except Exception:  # pragma: no cover
    _Future = Future

DEFAULT_LAUNCH_CMD = (
    "{python} -m parsl.executors.high_throughput.process_worker_pool {debug} {max_workers_per_node} "
    "-a {addresses} -p {prefetch_capacity} -c {cores_per_worker} -m {mem_per_worker} --poll {poll_period} "
    "--port={worker_port} --cert_dir {cert_dir} --logdir={logdir} --block_id={block_id} "
    "--hb_period={heartbeat_period} {address_probe_timeout_string} --hb_threshold={heartbeat_threshold} "
    "--drain_period={drain_period} --cpu-affinity {cpu_affinity} {enable_mpi_mode} "
    "--mpi-launcher={mpi_launcher} {resource_monitoring} --available-accelerators {accelerators}"
)

_ACCEPTED_RESOURCE_KEYS = frozenset({"priority"})
#: A block its provider reports RUNNING for this long with no manager connected gets one
#: warning (it is not failed: a slow node may still start; but a silent hang is the
#: worst case for a user: wrong address, a worker_init that blocks, a firewall).
UNCONNECTED_WARN_S = 120.0
_REMOVED_PARAMETERS = {
    "managed": "was removed from Parsl in 2023; drop it",
    "start_method": "was removed; workers are always fresh processes",
    "enable_mpi_mode": "moved to MPIExecutor (parsl.executors.MPIExecutor)",
    "mpi_launcher": "moved to MPIExecutor (parsl.executors.MPIExecutor)",
}


class HighThroughputExecutor(BlockProviderExecutor):
    """Runs apps on pilot workers started in blocks by ``provider`` (default LocalProvider)."""

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
        for name in removed:
            why = _REMOVED_PARAMETERS.get(name)
            if why is None:
                raise TypeError(f"HighThroughputExecutor() got an unexpected keyword argument {name!r}")
            raise TypeError(f"HighThroughputExecutor({name}=...) {why}")
        if provider is None:
            from parsl.providers.local.local import LocalProvider
            provider = LocalProvider()
        super().__init__(provider=provider, block_error_handler=block_error_handler)
        self.label = label
        self.launch_cmd = launch_cmd
        self.interchange_launch_cmd = interchange_launch_cmd
        self.address = address
        self.loopback_address = loopback_address
        if worker_ports is not None:
            if worker_port is None:
                worker_port = worker_ports[0]   # one socket now serves both directions
        self.worker_ports = worker_ports
        self.worker_port = worker_port
        self.worker_port_range = tuple(worker_port_range)
        self.interchange_port_range = tuple(interchange_port_range)
        self.storage_access = storage_access
        self.working_dir = working_dir
        self.worker_debug = worker_debug
        if cores_per_worker <= 0:
            raise ValueError(f"cores_per_worker={cores_per_worker!r} must be > 0 (values < 1 oversubscribe)")
        self.cores_per_worker = cores_per_worker
        self.mem_per_worker = mem_per_worker
        if max_workers is not None:
            warnings.warn("HighThroughputExecutor(max_workers=...) is the old name of max_workers_per_node; "
                          "use max_workers_per_node", DeprecationWarning, stacklevel=2)
            if max_workers_per_node is None:
                max_workers_per_node = max_workers
        self.max_workers_per_node = math.inf if max_workers_per_node is None else max_workers_per_node
        placement.validate_cpu_affinity(cpu_affinity)
        self.cpu_affinity = cpu_affinity
        self.available_accelerators = placement.accelerator_names(available_accelerators)
        self.prefetch_capacity = prefetch_capacity
        if heartbeat_period <= 0 or heartbeat_threshold <= 0:
            raise ValueError("heartbeat_period and heartbeat_threshold must be > 0 seconds")
        if heartbeat_threshold < heartbeat_period:
            warnings.warn(f"heartbeat_threshold={heartbeat_threshold} is below heartbeat_period="
                          f"{heartbeat_period}: healthy managers will be declared lost", stacklevel=2)
        self.heartbeat_threshold = heartbeat_threshold
        self.heartbeat_period = heartbeat_period
        self.drain_period = drain_period
        self.poll_period = poll_period
        self.address_probe_timeout = address_probe_timeout
        self.worker_logdir_root = worker_logdir_root
        self.manager_selector = manager_selector if manager_selector is not None else RandomManagerSelector()
        self.encrypted = encrypted
        if remote_monitoring_radio is None:
            from parsl.monitoring.radios.htex import HTEXRadio
            remote_monitoring_radio = HTEXRadio()
        self.remote_monitoring_radio = remote_monitoring_radio
        self.enable_mpi_mode = False
        self.mpi_launcher = "mpiexec"

        self.interchange = None
        self.worker_task_port: Optional[int] = None
        self.worker_result_port: Optional[int] = None
        self.all_addresses: Optional[str] = None
        self.logdir: Optional[str] = None
        self.cert_dir: Optional[str] = None
        self._task_counter = itertools.count(1)
        self._connected_blocks: set = set()
        #: block id -> when it was first seen RUNNING without a manager (None: warned)
        self._running_unconnected_since: Dict[str, Optional[float]] = {}
        self._started = False
        self._shut_down = False
        self._shutdown_lock = threading.Lock()

    # -- sizing ------------------------------------------------------------------------
    @property
    def workers_per_node(self) -> Union[int, float]:
        return placement.workers_per_node(
            max_workers_per_node=self.max_workers_per_node,
            cores=getattr(self.provider, "cores_per_node", None), cores_per_worker=self.cores_per_worker,
            mem_gb=getattr(self.provider, "mem_per_node", None), mem_per_worker=self.mem_per_worker,
            accelerators=self.available_accelerators)

    @property
    def max_workers(self):
        return self.max_workers_per_node

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        from parsl._htex.interchange import Interchange
        run_dir = os.path.abspath(self.run_dir or ".")
        self.logdir = os.path.join(run_dir, self.label)
        os.makedirs(self.logdir, exist_ok=True)
        if self.encrypted:
            from parsl._htex import curve
            self.cert_dir = curve.create_certificates(os.path.join(self.logdir, "certificates"))
        if self.address is None:
            from parsl.addresses import get_all_addresses, sorted_for_probing
            self.all_addresses = ",".join(sorted_for_probing(get_all_addresses()))
        else:
            self.all_addresses = self.address
        self.interchange = Interchange(
            address=self.address, port=self.worker_port, port_range=self.worker_port_range,
            cert_dir=self.cert_dir, heartbeat_period=self.heartbeat_period,
            heartbeat_threshold=self.heartbeat_threshold, manager_selector=self.manager_selector,
            on_results=self._on_results, on_manager_lost=self._on_manager_lost,
            on_bad_manager=self.set_bad_state_and_fail_all, on_registered=self._connected_blocks.add,
            on_node=self._report_node, label=self.label)
        port = self.interchange.start()
        self.worker_task_port = self.worker_result_port = port
        self.worker_port = port
        if self.provider is not None:
            if getattr(self.provider, "script_dir", None) is None:
                self.provider.script_dir = os.path.join(run_dir, "submit_scripts")
            os.makedirs(self.provider.script_dir, exist_ok=True)
            init = getattr(self.provider, "init_blocks", 0)
            if init:
                self.scale_out_facade(init)

    def _launch_values(self, block_id: str) -> Dict[str, Any]:
        worker_logdir = os.path.join(self.worker_logdir_root, self.label) if self.worker_logdir_root else self.logdir
        mw = self.max_workers_per_node
        return {
            "python": sys.executable,
            "debug": "--debug" if self.worker_debug else "",
            "max_workers_per_node": "" if mw == math.inf else f"--max_workers_per_node={mw}",
            "max_workers": "" if mw == math.inf else f"--max_workers_per_node={mw}",
            "addresses": self.all_addresses, "prefetch_capacity": self.prefetch_capacity,
            "cores_per_worker": self.cores_per_worker, "mem_per_worker": self.mem_per_worker or 0,
            "poll_period": self.poll_period, "worker_port": self.worker_port,
            "task_port": self.worker_port, "result_port": self.worker_port,
            "cert_dir": self.cert_dir or "None", "logdir": worker_logdir, "block_id": block_id,
            "heartbeat_period": self.heartbeat_period, "heartbeat_threshold": self.heartbeat_threshold,
            "address_probe_timeout_string": (f"--address_probe_timeout={self.address_probe_timeout}"
                                             if self.address_probe_timeout else ""),
            "drain_period": self.drain_period, "cpu_affinity": self.cpu_affinity,
            "enable_mpi_mode": "--enable_mpi_mode" if self.enable_mpi_mode else "",
            "mpi_launcher": self.mpi_launcher,
            "accelerators": " ".join(self.available_accelerators),
            "nodes_per_block": getattr(self.provider, "nodes_per_block", 1),
            "resource_monitoring": self._resource_monitoring_arg(),
        }

    def _resource_monitoring_arg(self) -> str:
        # With a MonitoringHub, workers report each task's start and end, and sample its
        # resources unless resource monitoring is off (-1: reports only; see
        # parsl._sampling.sampler).  No hub: "" (workers report nothing).
        if self.monitoring_messages is None:
            return ""
        hub = getattr(self.dfk, "monitoring", None)
        interval = getattr(hub, "worker_sampling_interval", None)
        if interval is None or not self.monitor_resources():
            return "--resource_monitoring_interval=-1"
        return f"--resource_monitoring_interval={float(interval)}"

    def _get_launch_command(self, block_id: str) -> str:
        template = self.launch_cmd or DEFAULT_LAUNCH_CMD
        try:
            # Parsl's own templates write {{block_id}} (they format twice): accept both.
            return template.format(**self._launch_values(block_id)).replace("{block_id}", block_id)
        except KeyError as e:
            raise ExecutorError(self, f"launch_cmd has an unknown placeholder {e}; known ones are "
                                f"{sorted(self._launch_values(block_id))}") from None

    # -- submit ------------------------------------------------------------------------
    def submit(self, func: Callable, resource_specification: Optional[Dict[str, Any]], *args, **kwargs) -> Future:
        if self._executor_bad_state.is_set():
            raise self._executor_exception
        if self.interchange is None or self._shut_down:
            raise ExecutorError(self, "submit() called before start() or after shutdown()")
        priority = None
        if resource_specification:
            unknown = set(resource_specification) - _ACCEPTED_RESOURCE_KEYS
            if unknown:
                raise InvalidResourceSpecification(
                    unknown, f"HighThroughputExecutor accepts only {sorted(_ACCEPTED_RESOURCE_KEYS)} in "
                             f"parsl_resource_specification; got unknown keys {sorted(unknown)}")
            priority = resource_specification.get("priority")
        task_id = next(self._task_counter)
        fut = _Future()
        try:
            fut.parsl_executor_task_id = task_id
        except AttributeError:  # slotted future
            pass
        record = protocol.encode_task(task_id, serialize_function(func), serialize_arguments(args, kwargs))
        self._tasks[task_id] = fut
        self.interchange.submit(task_id, record, priority)
        return fut

    # -- callbacks from the interchange thread ------------------------------------------
    def _on_results(self, records) -> None:
        tasks = self._tasks
        loads = pickle.loads
        ends = None
        for r in records:
            task_id, outcome, payload = protocol.decode_result(r)
            if outcome > protocol.OUTCOME_EXCEPTION:
                if not outcome & protocol.OUTCOME_TASK_END_FLAG:
                    self._forward_monitoring(outcome, payload)
                    continue
                # The worker's end-of-task monitoring struct rides ahead of the value.
                if ends is None:
                    ends = []
                ends.append(payload[:TASK_END_SIZE])
                payload = payload[TASK_END_SIZE:]
                outcome &= ~protocol.OUTCOME_TASK_END_FLAG
            fut = tasks.pop(task_id, None)
            if fut is None:
                continue   # already failed (manager declared lost, bad state)
            try:
                value = loads(payload)
            except Exception as e:
                fut.set_exception(BadMessage(f"could not unpickle the result of task {task_id}: {e!r}"))
                continue
            if outcome == protocol.OUTCOME_RESULT:
                fut.set_result(value)
            else:
                fut.set_exception(value.get_exception())
        if ends is not None:
            self._forward_task_ends(b"".join(ends))

    def _report_node(self, info: dict) -> None:
        """A manager came or went: Parsl's NODE_INFO message (monitoring's ``node`` table)."""
        sink = self.monitoring_messages
        if sink is not None:
            sink(MessageType.NODE_INFO, info)

    #: the MonitoringSink made for a plain-callable ``monitoring_messages`` (see _sink)
    _adapted_sink = None

    def _sink(self):
        """``monitoring_messages`` as a ``MonitoringSink`` (None when monitoring is off).
        The hub's is one already; a plain callable (Parsl's form) is wrapped, once."""
        sink = as_sink(self.monitoring_messages, self._adapted_sink)
        if sink is not self.monitoring_messages:
            self._adapted_sink = sink
        return sink

    def _forward_task_ends(self, blob: bytes) -> None:
        sink = self._sink()
        if sink is None:
            return
        try:
            sink.task_ends(self.label, blob)
        except Exception:
            logger.exception("forwarding end-of-task monitoring records failed")

    def _forward_monitoring(self, outcome, payload) -> None:
        sink = self._sink()
        if sink is None:
            return
        try:
            # The hub takes the batch unopened (its writer process opens it): no
            # per-message work on this process's GIL.
            if outcome != protocol.OUTCOME_MONITORING_BATCH:
                payload = join_frames((payload,))     # a lone message: a batch of one
            sink.worker_batch(self.label, bytes(payload))
        except Exception:
            logger.exception("forwarding a monitoring message failed")

    def _on_manager_lost(self, uid: bytes, hostname: Optional[str], task_ids: List[int]) -> None:
        for task_id in task_ids:
            fut = self._tasks.pop(task_id, None)
            if fut is not None and not fut.done():
                fut.set_exception(ManagerLost(uid, hostname))

    # -- queries -----------------------------------------------------------------------
    def connected_managers(self) -> List[Dict[str, Any]]:
        if self.interchange is None:
            return []
        return self.interchange.call(lambda ix: ix.snapshot())

    def connected_managers_packages(self) -> Dict[str, Dict[str, str]]:
        return {m["manager"]: {} for m in self.connected_managers()}

    def connected_blocks(self) -> List[str]:
        return sorted(self._connected_blocks, key=lambda b: (len(b), b))

    def outstanding(self) -> int:
        return len(self._tasks)

    def status(self) -> Dict[str, JobStatus]:
        """Block statuses; a block that ended without ever connecting is MISSING (it never worked)."""
        statuses = super().status()
        self._warn_unconnected(statuses)
        for bid, st in statuses.items():
            if st.terminal and st.state not in (JobState.SCALED_IN, JobState.MISSING, JobState.FAILED) \
                    and bid not in self._connected_blocks:
                statuses[bid] = JobStatus(JobState.MISSING,
                                          f"block {bid} ended ({st.state.name}) without any manager connecting",
                                          exit_code=st.exit_code, stdout_path=st.stdout_path,
                                          stderr_path=st.stderr_path)
        return statuses

    _clock = staticmethod(time.monotonic)

    def _warn_unconnected(self, statuses: Dict[str, JobStatus]) -> None:
        """Warn once about each block that has run for UNCONNECTED_WARN_S without a manager."""
        since = self._running_unconnected_since
        now = self._clock()
        for bid, st in statuses.items():
            if st.state != JobState.RUNNING or bid in self._connected_blocks:
                since.pop(bid, None)
                continue
            first = since.setdefault(bid, now)
            if first is not None and now - first >= UNCONNECTED_WARN_S:
                since[bid] = None          # warned
                logger.warning(
                    "%s block %s (job %s) has been RUNNING for %.0f s but no manager has connected from it: "
                    "check that its nodes can reach this machine at %s (HighThroughputExecutor(address=...)), "
                    "that worker_init does not block or fail, and the block's output: %s %s",
                    self.label, bid, self.blocks_to_job_id.get(bid, "?"), now - first,
                    self.address or "the advertised addresses",
                    st.stdout_path or "", st.stderr_path or "")

    # -- scaling in ----------------------------------------------------------------------
    def _blocks_to_scale_in(self, n: int, max_idletime: Optional[float]) -> List[str]:
        managers = self.connected_managers()
        with self._lock:
            live = [b for b, s in self._status.items() if not s.terminal and b in self.blocks_to_job_id]
        return choose_blocks_to_scale_in(live, managers, n, max_idletime)

    def _before_cancel(self, block_ids: List[str]) -> None:
        if self.interchange is not None:
            for b in block_ids:
                self.interchange.call(lambda ix, b=b: ix.hold_block(b))

    # -- shutdown ------------------------------------------------------------------------
    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop managers, cancel blocks, end the interchange thread.  Idempotent and quick."""
        with self._shutdown_lock:
            if self._shut_down:
                return
            self._shut_down = True
        if self.interchange is not None:
            self.interchange.close()   # sends STOP to every manager first
        if self.provider is not None:
            with self._lock:
                live = [b for b, s in self._status.items() if not s.terminal and b in self.blocks_to_job_id]
            if live:
                try:
                    self.provider.cancel([self.blocks_to_job_id[b] for b in live])
                except Exception as e:
                    logger.error("cancelling blocks at shutdown failed: %s", e)
                with self._lock:
                    for b in live:
                        self._status[b] = JobStatus(JobState.SCALED_IN)
        err = ExecutorError(self, "the executor was shut down before this task finished")
        for task_id in list(self._tasks):
            fut = self._tasks.pop(task_id, None)
            if fut is not None and not fut.done():
                fut.set_exception(err)

    def get_usage_information(self) -> dict:
        return {"mpi": self.enable_mpi_mode}

    def __repr__(self):
        return (f"HighThroughputExecutor(label={self.label!r}, max_workers_per_node={self.max_workers_per_node!r}, "
                f"address={self.address!r}, encrypted={self.encrypted!r}, provider={self.provider!r})")


def choose_blocks_to_scale_in(live_blocks: Sequence[str], managers: Sequence[Dict[str, Any]], n: int,
                              max_idletime: Optional[float]) -> List[str]:
    """Pure: which blocks to scale in, most idle first, then fewest tasks.

    With ``max_idletime`` only blocks whose managers are all idle longer than that (and
    hold no tasks) qualify.  Blocks with no connected manager yet (still starting) are taken
    last and never under ``max_idletime``: they have not had a chance to be useful.
    """
    per_block: Dict[str, Tuple[float, int]] = {}
    for m in managers:
        b = str(m["block_id"])
        idle, tasks = per_block.get(b, (math.inf, 0))
        per_block[b] = (min(idle, m["idle_duration"] if not m["tasks"] else 0.0), tasks + m["tasks"])
    connected = [b for b in live_blocks if b in per_block]
    connected.sort(key=lambda b: (-per_block[b][0], per_block[b][1]))
    if max_idletime is not None:
        connected = [b for b in connected if per_block[b][1] == 0 and per_block[b][0] >= max_idletime]
        return connected[:n]
    unconnected = [b for b in reversed(list(live_blocks)) if b not in per_block]
    return (connected + unconnected)[:n]
