"""``MonitoringHub``: records every workflow, task, try, block, node and resource sample.

Accepts both generations of Parsl's parameters.  Differences from Parsl, on purpose:

* The default database is where today's Parsl puts it, ``<Config.run_dir>/monitoring.db``
  (``runinfo/monitoring.db``), and ``monitoring.db`` in the current working directory
  (where the tutorial reads it with ``sqlite3.connect('monitoring.db')``, as Parsl 1.x
  wrote it) is made a symbolic link to it, unless a real file is there: scripts and
  tools written for either generation find the run, and a fresh run_dir starts a fresh
  database, as in Parsl.
* One writer process, no router process: events go into an in-memory queue, a thread
  sends them in one chunk per flush period to the writer, which batches them into the
  database (SQLite in WAL mode, so readers never block it).  ``hub_address``/``hub_port``/
  ``hub_port_range`` are accepted for compatibility; no port is opened.  Events from other
  hosts arrive through the executor: an HTEX manager coalesces its workers' messages into
  one record per upstream send on its existing (CurveZMQ-encrypted, authenticated)
  connection, ahead of the results they describe, and this process hands that record to
  the writer process unopened (one append per batch, no unpickling here).  Measured
  against a direct manager -> writer socket this keeps the user process's cost per batch,
  not per message, needs no second open port, and loses nothing at the end of a run:
  every message is in before the last result is.
* Resource sampling runs in a thread inside each HTEX worker, never a process per task.
"""
from __future__ import annotations

import atexit
import datetime
import getpass
import logging
import os
import socket
import sys
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple

from parsl._base.errors import ConfigurationError, OptionalModuleMissing
from parsl._base.message_type import MessageType
from parsl._base.monitoring_sink import MonitoringHubBase, MonitoringSink, TaskEvent

if TYPE_CHECKING:
    from parsl._monitoring.progress import ProgressView
    from parsl._monitoring.router import MonitoringRouter

logger = logging.getLogger("parsl.monitoring")

_LEGACY_IGNORED = ("client_address", "client_port_range", "logdir", "logging_level", "udp_atexit_timeout")


#: put on the radio queue by close(): everything radios delivered is ahead of it
_RADIO_QUEUE_END = "chervil.radio-queue-end"


class _NotStarted(MonitoringSink):
    """``hub.send`` before ``start()``: every call says so."""

    __slots__ = ()

    def send(self, message_type, payload) -> None:
        raise RuntimeError("MonitoringHub.send() called before start()")

    def worker_batch(self, executor_label: str, data: bytes) -> None:
        self.send(None, {})

    def task_ends(self, executor_label: str, data: bytes) -> None:
        self.send(None, {})


_NOT_STARTED = _NotStarted()


class MonitoringHub(MonitoringHubBase):
    """Record the workflow in a database: every task and try, their state changes, blocks and
    nodes, and resource samples of the workers. Set it as ``Config(monitoring=...)``.

    The database is ``<run_dir>/monitoring.db`` (SQLite; ``runinfo/monitoring.db`` by default),
    with a ``monitoring.db`` link to it in the current directory; read it with ``sqlite3`` or
    pandas, or browse it with ``parsl-visualize``. Tables and columns: the monitoring guide.

    Args:
        hub_address: accepted for compatibility (no port is opened; events travel in-process and
            over the executors' own connections).
        hub_port_range: accepted for compatibility.
        hub_port: accepted for compatibility (the tutorial passes one).
        workflow_name: the run's name in the ``workflow`` table (default: the script's file name).
        workflow_version: the run's version (default: the start time).
        logging_endpoint: an SQLAlchemy URL for the database, e.g. ``"sqlite:///my.db"`` or
            ``"postgresql://user@host/db"``; default ``sqlite:///<run_dir>/monitoring.db``.
        monitoring_debug: DEBUG-level logs of the monitoring writer.
        resource_monitoring_enabled: sample each worker's CPU, memory and I/O (default ``True``).
        resource_monitoring_interval: seconds between two samples of a running task (each task
            also gets a final sample; ``0``: the final one only).
        progress: print a one-line live progress report to the terminal while the run goes.
        flush_period: seconds between two writes of events to the database (the lag of a live view).
        **legacy: tutorial-era parameters with no effect (``client_address``, ``logdir``, ...):
            accepted with a ``DeprecationWarning``.

    Example::

        Config(executors=[...], monitoring=MonitoringHub(resource_monitoring_interval=1))
    """

    def __init__(self,
                 hub_address: Optional[str] = None,
                 hub_port_range: Optional[Tuple[int, int]] = None,
                 hub_port: Optional[int] = None,
                 workflow_name: Optional[str] = None,
                 workflow_version: Optional[str] = None,
                 logging_endpoint: Optional[str] = None,
                 monitoring_debug: bool = False,
                 resource_monitoring_enabled: bool = True,
                 resource_monitoring_interval: float = 30,
                 *,
                 progress: bool = False,
                 flush_period: float = 0.5,
                 **legacy: Any):
        for name in legacy:
            if name not in _LEGACY_IGNORED:
                raise TypeError(f"MonitoringHub() got an unexpected keyword argument {name!r}")
            warnings.warn(f"MonitoringHub({name}=...) is a tutorial-era parameter with no effect "
                          f"in Chervil; remove it", DeprecationWarning, stacklevel=2)
        if hub_port is not None and not (isinstance(hub_port, int) and 0 <= hub_port < 65536):
            raise ConfigurationError(f"MonitoringHub(hub_port={hub_port!r}): must be a port number "
                                     f"0-65535 or None")
        if hub_port_range is not None and not (isinstance(hub_port_range, (tuple, list))
                                               and len(hub_port_range) == 2):
            raise ConfigurationError(f"MonitoringHub(hub_port_range={hub_port_range!r}): must be a "
                                     f"(low, high) pair or None")
        if not isinstance(resource_monitoring_interval, (int, float)) or resource_monitoring_interval < 0:
            raise ConfigurationError(
                f"MonitoringHub(resource_monitoring_interval={resource_monitoring_interval!r}): must be "
                f"a number of seconds >= 0 (0 takes only the final sample of each task)")
        if logging_endpoint is not None and (not isinstance(logging_endpoint, str) or "://" not in logging_endpoint):
            raise ConfigurationError(
                f"MonitoringHub(logging_endpoint={logging_endpoint!r}): must be an SQLAlchemy URL such "
                f"as 'sqlite:///monitoring.db' or 'postgresql://user@host/db'")
        if flush_period <= 0:
            raise ConfigurationError(f"MonitoringHub(flush_period={flush_period!r}): must be > 0 seconds")
        self.hub_address = hub_address
        self.hub_port_range = hub_port_range
        self.hub_port = hub_port
        self.workflow_name = workflow_name
        self.workflow_version = workflow_version
        self.logging_endpoint = logging_endpoint
        self.monitoring_debug = monitoring_debug
        self.resource_monitoring_enabled = resource_monitoring_enabled
        self.resource_monitoring_interval = resource_monitoring_interval
        self.progress = progress
        self.flush_period = flush_period

        self.run_id: Optional[str] = None
        self.url: Optional[str] = None
        self.router: Optional[MonitoringRouter] = None
        self._sink: MonitoringSink = _NOT_STARTED
        self._events: Optional[Callable[[TaskEvent], None]] = None
        self._radio_receivers: list = []
        self._run_dir: Optional[str] = None
        self._dfk = None
        self._progress_view: Optional[ProgressView] = None
        self._started = False
        self._closed = False
        self._close_lock = threading.Lock()
        self._radio_lock = threading.Lock()
        self._radio_queue: Any = None        # see resource_msgs: made on first use
        self._radio_thread: Optional[threading.Thread] = None

    def __repr__(self):
        return (f"MonitoringHub(logging_endpoint={self.logging_endpoint!r}, "
                f"resource_monitoring_enabled={self.resource_monitoring_enabled!r}, "
                f"resource_monitoring_interval={self.resource_monitoring_interval!r})")

    # ---- what executors ask -------------------------------------------------------------
    @property
    def worker_sampling_interval(self) -> Optional[float]:
        """Seconds between resource samples in workers, or None when sampling is off."""
        return self.resource_monitoring_interval if self.resource_monitoring_enabled else None

    # ---- lifecycle (called by the DFK) ----------------------------------------------------
    def start(self, dfk=None, run_id: Optional[str] = None, run_dir: Optional[str] = None) -> None:
        if self._started:
            raise RuntimeError("MonitoringHub.start() called twice; a hub serves one DataFlowKernel "
                               "— give each Config its own MonitoringHub()")
        import importlib.util
        # SQLAlchemy is for the writer process only: imported here it would add ~30,000
        # long-lived objects to every full garbage collection of the workflow's process.
        if importlib.util.find_spec("sqlalchemy") is None:
            raise OptionalModuleMissing(["sqlalchemy"], "monitoring needs SQLAlchemy; install it with: "
                                        "pip install 'chervil[monitoring]'")
        # Deferred (start-up cost, ~10 ms): every HTEX executor imports this module (its
        # default radio lives in parsl.monitoring), and without a hub none of this runs.
        from parsl._monitoring.router import MonitoringRouter
        from parsl._monitoring.writer_process import WriterProcessClient
        self._dfk = dfk
        self.run_id = run_id or getattr(dfk, "run_id", None) or datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir = self._run_dir = run_dir or getattr(dfk, "run_dir", None)
        config_run_dir = getattr(getattr(dfk, "config", None), "run_dir", None)
        url = self.logging_endpoint or "sqlite:///" + os.path.abspath(
            os.path.join(config_run_dir, "monitoring.db") if config_run_dir else "monitoring.db")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            # The writer process must find the same file whatever its working directory.
            url = "sqlite:///" + os.path.abspath(url[len("sqlite:///"):])
        self.url = url
        in_process = [label for label, ex in _executors_of(dfk) if ex.runs_in_process]
        log_path = os.path.join(run_dir, "database_manager.log") if run_dir else None
        client = WriterProcessClient(url, self.run_id, in_process_executors=in_process, log_path=log_path)
        # The writer opens the database and creates the schema before any task: a bad URL
        # fails load() with a clear error, and readers (pandas, parsl-visualize) find the
        # tables from the first moment.
        try:
            client.wait_ready()
        except RuntimeError as e:
            client.close()
            raise ConfigurationError(f"MonitoringHub(logging_endpoint={url!r}): the monitoring database "
                                     f"could not be opened: {e}") from None
        if self.logging_endpoint is None:
            _link_in_cwd(url[len("sqlite:///"):])
        self.router = MonitoringRouter(client, flush_period=self.flush_period,
                                       sampling_interval=self.worker_sampling_interval)
        # Each event is six entries added to the router's queue by ONE extend (atomic under
        # the GIL); the argument tuple dies at once, so events waiting for the next flush
        # add nothing for the cycle collector to walk (queued tuples made monitoring's GC
        # cost more than its own work).
        self._sink = self.router.sink
        self._events = self.router.queue.extend
        self.router.start()
        self._started = True
        atexit.register(self.close)

        config = getattr(dfk, "config", None)
        name = (self.workflow_name or getattr(dfk, "workflow_name", None)
                or getattr(config, "workflow_name", None) or _script_name())
        version = (self.workflow_version or getattr(dfk, "workflow_version", None)
                   or getattr(config, "workflow_version", None) or str(datetime.datetime.now()))
        self._time_began = datetime.datetime.now()
        self._sink.send(MessageType.WORKFLOW_INFO, {
            "run_id": self.run_id, "workflow_name": name, "workflow_version": version,
            "time_began": self._time_began, "host": socket.gethostname(), "user": _user(),
            "rundir": os.path.abspath(run_dir) if run_dir else None,
            "tasks_failed_count": 0, "tasks_completed_count": 0})
        if self.progress:
            from parsl._monitoring.progress import ProgressView  # deferred: optional view
            self._progress_view = ProgressView(self.task_counts, stream=sys.stderr)
            self._progress_view.start()
        logger.debug("Monitoring to %s (run %s)", url, self.run_id)

    # ---- the MonitoringHubBase interface (what the DFK calls) -----------------------------
    def task_event_writer(self) -> Callable[[TaskEvent], None]:
        """The router queue's ``extend``: the kernel passes it each ``TaskEvent`` inline, no
        Python-level call per change.  try_id, fail_count and exec_fu are taken at the
        change: by the time the router reads the record, a retry may have replaced them,
        and this try's worker messages are matched by its task id."""
        if self._events is None:
            raise RuntimeError("MonitoringHub.task_event_writer() called before start()")
        return self._events

    def attach_executor(self, executor) -> None:
        executor.monitoring_messages = self._sink
        self._start_radio(executor)

    def _start_radio(self, executor) -> None:
        """The receiver of the executor's ``remote_monitoring_radio``, listening until
        close() (Chervil's executors report without one; see ``parsl.monitoring.radios``)."""
        # getattr: executors and radios may be third-party objects with Parsl's interface
        # (a radio is any object with create_receiver; HTEXRadio's in_band says the
        # executor itself carries its messages).
        radio = getattr(executor, "remote_monitoring_radio", None)
        create = getattr(radio, "create_receiver", None)
        if create is None or getattr(radio, "in_band", False):
            return
        self._radio_receivers.append(create(run_dir=self._run_dir, resource_msgs=self.resource_msgs))

    @property
    def send(self) -> MonitoringSink:
        """``hub.send(message_type, payload)`` (thread-safe, cheap): the ``MonitoringSink``
        executors are given, which is callable."""
        return self._sink

    def task_state_changed(self, task_record, new_state) -> None:
        """Parsl's per-change call (the kernel uses ``task_event_writer()``); O(1), never
        touches the database.  Before start() it does nothing."""
        events = self._events
        if events is not None:
            events((task_record, new_state, time.time(), task_record.try_id, task_record.fail_count,
                    task_record.exec_fu))

    @property
    def resource_msgs(self):
        """Where monitoring radios' receivers put the ``(MessageType, dict)`` messages they
        get (Parsl's name): a multiprocessing queue, so a receiver may be its own process.
        Made on first use (Chervil's executors need no radio), with a thread that hands
        each message to ``send``."""
        with self._radio_lock:
            if self._radio_queue is None:
                if not self._started:
                    raise RuntimeError("MonitoringHub.resource_msgs is there only between start() and close()")
                # Deferred: multiprocessing's queues are for radios only (rarely used).
                from parsl.multiprocessing import SpawnQueue
                self._radio_queue = SpawnQueue()
                self._radio_thread = threading.Thread(target=self._forward_radio_messages, daemon=True,
                                                      name="parsl-monitoring-radio-queue")
                self._radio_thread.start()
            return self._radio_queue

    def _forward_radio_messages(self) -> None:
        q = self._radio_queue
        while True:
            try:
                message = q.get()
            except (EOFError, OSError):
                return
            if isinstance(message, str) and message == _RADIO_QUEUE_END:
                return
            try:
                message_type, payload = message
                message_type = MessageType(message_type)
            except (TypeError, ValueError):
                text = repr(message)
                logger.error("Monitoring: a radio delivered %s, not a (MessageType, dict) pair; dropped",
                             text if len(text) < 200 else type(message).__name__)
                continue
            self._sink.send(message_type, payload)

    def _close_radio_queue(self) -> None:
        with self._radio_lock:
            q, thread = self._radio_queue, self._radio_thread
        if q is None or thread is None:      # (made together in resource_msgs)
            return
        q.put(_RADIO_QUEUE_END)
        thread.join(60)
        q.close()
        q.join_thread()

    def close(self) -> None:
        """Write everything still queued and mark the workflow completed.  Idempotent."""
        with self._close_lock:
            if self._closed or not self._started:
                self._closed = True
                return
            self._closed = True
        atexit.unregister(self.close)
        # The executors are shut down by now (DFK cleanup): what their radios received is
        # on the queue once the receivers stop.
        for receiver in self._radio_receivers:
            try:
                receiver.shutdown()
            except Exception:
                logger.exception("shutting down a monitoring radio failed")
        self._radio_receivers = []
        self._close_radio_queue()
        now = datetime.datetime.now()
        self._sink.send(MessageType.WORKFLOW_INFO, {
            "run_id": self.run_id, "time_completed": now,
            "workflow_duration": (now - self._time_began).total_seconds()})
        if self.router is not None:      # (set whenever _started is)
            self.router.close()      # drains the queue; the writer process writes the rest and exits
        if self._progress_view is not None:
            self._progress_view.close()

    # Chervil extra: counts of tasks by state right now (what the progress view shows): the
    # kernel's own tally, so the task path pays nothing extra for it.
    def task_counts(self) -> dict:
        counts = getattr(self._dfk, "task_state_counts", None) or {}
        return {getattr(s, "name", s): n for s, n in list(counts.items()) if n}


def _executors_of(dfk):
    """(label, executor) of the workflow's executors: the kernel's, and the config's (the
    hub starts before the kernel registers its executors)."""
    out = {}
    for execs in (getattr(getattr(dfk, "config", None), "executors", None), getattr(dfk, "executors", None)):
        if not execs:
            continue
        items = execs.items() if isinstance(execs, dict) else [(getattr(e, "label", str(e)), e) for e in execs]
        for label, ex in items:
            out.setdefault(label, ex)
    return list(out.items())


def _link_in_cwd(db_path: str) -> None:
    """``./monitoring.db`` -> the default database (the tutorial's path), unless it is a
    real file (then it is left alone: never replace data)."""
    link = os.path.abspath("monitoring.db")
    if link == db_path:
        return
    try:
        if os.path.lexists(link) and not os.path.islink(link):
            logger.warning("%s is a file from an earlier run; this run's monitoring data is in %s", link, db_path)
            return
        tmp = f"{link}.{os.getpid()}.link"
        os.symlink(db_path, tmp)
        try:
            os.replace(tmp, link)      # atomic: a reader sees the old link or the new one
        except OSError:
            os.unlink(tmp)
            raise
    except OSError as e:
        logger.debug("could not link %s to %s: %s", link, db_path, e)


def _script_name() -> str:
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.basename(path) if path else "interactive"


def _user() -> Optional[str]:
    try:
        return getpass.getuser()
    except Exception:
        return None
