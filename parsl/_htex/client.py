"""The HTEX client: the user-process side of the HighThroughputExecutor.

``HTEXClient`` is everything ``HighThroughputExecutor`` does once it has its settings:
start the interchange thread (and the first blocks), encode and submit tasks, complete
their futures from result records, fail them when a manager is lost or the executor goes
to bad state, answer queries about managers and blocks, choose blocks to scale in, and
shut everything down.  The public class (``parsl.executors.high_throughput.executor``)
adds only Parsl's constructor.

Threads: ``submit`` runs on the caller's thread; the ``InterchangeEvents`` methods
(``on_results`` ...) run on the interchange thread; scaling and status on the job status
poller's thread.  ``_tasks`` (task id -> Future) is shared: a dict's single-key
operations are atomic, and each future is completed by whoever pops it.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from parsl._base.errors import BadMessage, ExecutorError, ManagerLost
from parsl._base.futures import LightFuture
from parsl._base.job_states import JobState, JobStatus
from parsl._base.message_type import MessageType
from parsl._executors.blocks import BlockProviderExecutor
from parsl._htex import placement, protocol, resources
from parsl._htex.addresses import get_all_addresses, listen_addresses, sorted_for_probing
from parsl._htex.matching import choose_blocks_to_scale_in
from parsl._htex.protocol import TASK_END_SIZE
from parsl._htex.selectors import ManagerSelector
from parsl._htex.settings import HTEXSettings, LaunchContext
from parsl._sampling.adapter import as_sink
from parsl._sampling.records import join_frames

logger = logging.getLogger(__name__)

#: A block its provider reports RUNNING for this long with no manager connected gets one
#: warning (it is not failed: a slow node may still start; but a silent hang is the
#: worst case for a user: wrong address, a worker_init that blocks, a firewall).
UNCONNECTED_WARN_S = 120.0
#: How long connected_managers_packages() waits for managers to report their packages.
PACKAGES_TIMEOUT_S = 10.0


class Setting:
    """A public attribute (Parsl's name) backed by a field of the frozen settings.

    Reading it reads the field; assigning it replaces the settings with a copy that has
    the new value (validated again).  Hot paths read ``self._settings`` directly.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Optional[HTEXClient], objtype: Optional[type] = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._settings, self.name)

    def __set__(self, obj: HTEXClient, value: Any) -> None:
        obj._settings = obj._settings.replace(**{self.name: value})


class HTEXClient(BlockProviderExecutor):
    """The HighThroughputExecutor's machinery; implements ``interchange.InterchangeEvents``.

    ``serialize_function(func) -> bytes`` and ``serialize_arguments(args, kwargs) -> bytes``
    encode a task (the public executor passes Parsl's serializer facade).
    """

    label = Setting()
    launch_cmd = Setting()
    interchange_launch_cmd = Setting()
    address = Setting()
    loopback_address = Setting()
    worker_ports = Setting()
    worker_port_range = Setting()
    interchange_port_range = Setting()
    working_dir = Setting()
    worker_debug = Setting()
    cores_per_worker = Setting()
    mem_per_worker = Setting()
    max_workers_per_node = Setting()
    cpu_affinity = Setting()
    prefetch_capacity = Setting()
    heartbeat_threshold = Setting()
    heartbeat_period = Setting()
    drain_period = Setting()
    poll_period = Setting()
    address_probe_timeout = Setting()
    worker_logdir_root = Setting()
    encrypted = Setting()
    enable_mpi_mode = Setting()
    mpi_launcher = Setting()

    def __init__(self, settings: HTEXSettings, *, provider: Any, block_error_handler: Union[bool, Callable],
                 manager_selector: ManagerSelector, storage_access: Optional[List[Any]],
                 remote_monitoring_radio: Any, serialize_function: Callable[[Callable], bytes],
                 serialize_arguments: Callable[[tuple, dict], bytes], blocks_are_local: bool = False,
                 serialize_arguments_into: Optional[Callable[[Any, tuple, dict], None]] = None):
        super().__init__(provider=provider, block_error_handler=block_error_handler)
        self._settings = settings
        self.manager_selector = manager_selector
        self.storage_access = storage_access
        self.remote_monitoring_radio = remote_monitoring_radio
        self._serialize_function = serialize_function
        self._serialize_arguments = serialize_arguments
        self._serialize_arguments_into = serialize_arguments_into
        #: Every block runs on this host (the public executor decides from the provider and
        #: launcher): the interchange then listens on loopback only (addresses.listen_addresses).
        self.blocks_are_local = blocks_are_local
        #: The port managers connect to: as asked for until start() binds, then the bound one.
        self.worker_port: Optional[int] = settings.worker_port
        self.interchange: Any = None     # an Interchange once started
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

    @property
    def settings(self) -> HTEXSettings:
        return self._settings

    @property
    def available_accelerators(self) -> List[str]:
        return list(self._settings.available_accelerators)

    @available_accelerators.setter
    def available_accelerators(self, value: Union[int, Sequence[str]]) -> None:
        self._settings = self._settings.replace(available_accelerators=tuple(placement.accelerator_names(value)))

    # -- sizing ------------------------------------------------------------------------
    @property
    def workers_per_node(self) -> Union[int, float]:
        # getattr: the provider is the user's; Parsl's provider interface does not require these.
        return self._settings.workers_per_node(getattr(self.provider, "cores_per_node", None),
                                               getattr(self.provider, "mem_per_node", None))

    @property
    def max_workers(self) -> Union[int, float]:
        return self._settings.max_workers_per_node

    # -- start -------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self._started = True
        # Deferred: the interchange brings in zmq (~30 ms); constructing an executor (a
        # Config) stays cheap, and only a started executor pays for it.
        from parsl._htex.interchange import Interchange
        s = self._settings
        run_dir = os.path.abspath(self.run_dir or ".")
        self.logdir = os.path.join(run_dir, s.label)
        os.makedirs(self.logdir, exist_ok=True)
        if s.encrypted:
            from parsl._htex import curve  # deferred with the interchange (zmq.auth)
            self.cert_dir = curve.create_certificates(os.path.join(self.logdir, "certificates"))
        advertised = [] if s.address or self.blocks_are_local else sorted_for_probing(get_all_addresses())
        listen = listen_addresses(s.address, s.loopback_address, self.blocks_are_local, advertised)
        self.interchange = Interchange(
            addresses=listen, port=self.worker_port, port_range=s.worker_port_range,
            cert_dir=self.cert_dir, heartbeat_period=s.heartbeat_period,
            heartbeat_threshold=s.heartbeat_threshold, manager_selector=self.manager_selector,
            events=self, label=s.label)
        port = self.interchange.start()
        # Managers probe what the interchange could listen on (an address this host lacks is skipped).
        self.all_addresses = s.address or ",".join(a for a in self.interchange.addresses if a != "*") \
            or ",".join(sorted_for_probing(get_all_addresses()))
        self.worker_task_port = self.worker_result_port = port
        self.worker_port = port
        if self.provider is not None:
            if getattr(self.provider, "script_dir", None) is None:   # the user's provider: see above
                self.provider.script_dir = os.path.join(run_dir, "submit_scripts")
            os.makedirs(self.provider.script_dir, exist_ok=True)
            init = getattr(self.provider, "init_blocks", 0)
            if init:
                self.scale_out_facade(init)

    def _launch_context(self) -> LaunchContext:
        s = self._settings
        worker_logdir = os.path.join(s.worker_logdir_root, s.label) if s.worker_logdir_root else self.logdir
        return LaunchContext(python=sys.executable, addresses=self.all_addresses or "", port=self.worker_port,
                             cert_dir=self.cert_dir, logdir=worker_logdir,
                             nodes_per_block=getattr(self.provider, "nodes_per_block", 1),
                             resource_monitoring_interval=self._resource_monitoring_interval())

    def _resource_monitoring_interval(self) -> Optional[float]:
        # With a MonitoringHub, workers report each task's start and end, and sample its
        # resources unless resource monitoring is off (-1: reports only; see
        # parsl._sampling.sampler).  No hub: None (workers report nothing).
        sink = self._sink()
        if sink is None:
            return None
        interval = sink.sampling_interval()
        if interval is None or not self.monitor_resources():
            return -1
        return float(interval)

    def _get_launch_command(self, block_id: str) -> str:
        run = self._launch_context()
        try:
            return self._settings.launch_command(block_id, run)
        except KeyError as e:
            raise ExecutorError(self, f"launch_cmd has an unknown placeholder {e}; known ones are "
                                f"{sorted(self._settings.launch_values(block_id, run))}") from None

    # -- submit ------------------------------------------------------------------------
    def validate_resource_spec(self, resource_specification: Optional[Dict[str, Any]]) -> None:
        """Raise ``InvalidResourceSpecification`` if a task may not ask for this.

        Only ``priority`` (a number; smaller runs first), or, in MPI mode, the MPI keys
        (``num_nodes``, ``num_ranks``, ``ranks_per_node``, ``launcher_options``) and
        ``priority``.  ``submit`` checks every task's specification the same way.
        """
        resources.validate(resource_specification, self._settings.enable_mpi_mode)

    def submit(self, func: Callable, resource_specification: Optional[Dict[str, Any]], *args, **kwargs) -> Future:
        if self._executor_bad_state.is_set():
            exc = self._executor_exception
            assert exc is not None      # set_bad_state_and_fail_all sets it before the event
            raise exc
        if self.interchange is None or self._shut_down:
            raise ExecutorError(self, "submit() called before start() or after shutdown()")
        priority = resources.validate(resource_specification, self._settings.enable_mpi_mode)
        task_id = next(self._task_counter)
        fut = LightFuture()
        # Parsl's convention: an executor tags its futures with its own task id (monitoring reads it)
        fut.parsl_executor_task_id = task_id  # type: ignore[attr-defined]
        into = self._serialize_arguments_into
        if into is not None and protocol.has_large_argument(args, kwargs):
            record = protocol.build_task(task_id, self._serialize_function(func), lambda f: into(f, args, kwargs))
        else:
            record = protocol.encode_task(task_id, self._serialize_function(func),
                                          self._serialize_arguments(args, kwargs))
        self._tasks[task_id] = fut
        self.interchange.submit(task_id, record, priority)
        return fut

    # -- InterchangeEvents: called on the interchange thread -------------------------------
    def on_results(self, records) -> None:
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
                try:
                    fut.set_exception(value.get_exception())
                except AttributeError:   # not a RemoteExceptionWrapper: the future must still resolve
                    fut.set_exception(BadMessage(f"task {task_id} failed with an unreadable exception: {value!r:.200}"))
        if ends is not None:
            self._forward_task_ends(b"".join(ends))

    #: The name the monitoring tests feed result records through.
    _on_results = on_results

    def on_manager_lost(self, uid: bytes, hostname: Optional[str], task_ids: List[int]) -> None:
        for task_id in task_ids:
            fut = self._tasks.pop(task_id, None)
            if fut is not None and not fut.done():
                fut.set_exception(ManagerLost(uid, hostname))

    def on_bad_manager(self, exception: BaseException) -> None:
        self.set_bad_state_and_fail_all(exception)

    def on_fatal(self, exception: BaseException) -> None:
        self.set_bad_state_and_fail_all(ExecutorError(
            self, f"the interchange thread stopped on an unexpected error ({exception!r}; the log has the "
                  "traceback): tasks still outstanding cannot finish; shut this executor down and start a new one"))

    def on_registered(self, block_id: str) -> None:
        self._connected_blocks.add(block_id)

    def on_node(self, info: dict) -> None:
        self._report_node(info)

    # -- monitoring hand-off (records pass through unopened where the hub allows) ----------
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

    # -- queries -----------------------------------------------------------------------
    def connected_managers(self) -> List[Dict[str, Any]]:
        if self.interchange is None:
            return []
        return self.interchange.call(lambda ix: ix.snapshot())

    def connected_managers_packages(self, timeout: float = PACKAGES_TIMEOUT_S) -> Dict[str, Dict[str, str]]:
        """{manager id: {package name: version}} of the packages installed where each runs.

        Each manager gathers them (``importlib.metadata``) the first time it is asked, not at
        registration, which stays cheap; later calls answer from the interchange.  A manager
        that does not answer within ``timeout`` seconds is reported with ``{}``.
        """
        if self.interchange is None or self._shut_down:
            return {}
        ix = self.interchange
        asked = ix.call(_ask_packages)
        # On the interchange thread (a result callback) waiting would deadlock: what is known.
        deadline = time.monotonic() + (0.0 if ix.on_own_thread() else timeout)
        out: Dict[str, Dict[str, str]] = {}
        for uid, fut in asked.items():
            try:
                out[uid] = fut.result(max(0.0, deadline - time.monotonic()))
            except FuturesTimeout:
                logger.warning("manager %s did not report its packages within %.1fs", uid, timeout)
                out[uid] = {}
        return out

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
        return {"mpi": self._settings.enable_mpi_mode}


def _ask_packages(ix: Any) -> Dict[str, Future]:
    """On the interchange thread: ask each manager not yet asked for its packages."""
    asked = {}
    for m in list(ix.managers.values()):
        fut, send = m.ask_packages()
        if send:
            ix.send_control(m.uid, [protocol.PACKAGES])
        asked[m.uid.decode()] = fut
    return asked
