"""``process_worker_pool.py``: the per-node manager's command line (Parsl's flags).

The provider runs this once per node of a block.  It decides the worker count from the
node's cores/memory/accelerators, then hands over to :class:`parsl._htex.manager.Manager`.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import uuid


def _parser() -> argparse.ArgumentParser:
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
    p.add_argument("--max_workers_per_node", "--max_workers", default=float("inf"),
                   type=lambda s: float("inf") if s in ("inf", "None") else int(float(s)))
    p.add_argument("-p", "--prefetch_capacity", type=int, default=0)
    p.add_argument("--hb_period", type=float, default=30)
    p.add_argument("--hb_threshold", type=float, default=120)
    p.add_argument("--drain_period", type=lambda s: None if s in ("None", "") else float(s), default=None)
    p.add_argument("--address_probe_timeout", type=lambda s: None if s in ("None", "") else float(s),
                   default=None)
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


def _node_memory_gb() -> float:
    if os.environ.get("PARSL_MEMORY_GB"):
        return float(os.environ["PARSL_MEMORY_GB"])
    import psutil
    return psutil.virtual_memory().available / 2**30


def _node_cores() -> float:
    if os.environ.get("PARSL_CORES"):
        return float(os.environ["PARSL_CORES"])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from parsl._htex import placement
    from parsl._htex.manager import Manager

    port = args.port if args.port is not None else args.task_port
    if port is None:
        print("process_worker_pool.py: --port is required", file=sys.stderr)
        return 2
    # The executor always passes device names (it expands an int n to "0".."n-1").
    accelerators = placement.accelerator_names(list(args.available_accelerators))
    worker_count = placement.workers_per_node(
        max_workers_per_node=args.max_workers_per_node, cores=_node_cores(),
        cores_per_worker=args.cores_per_worker,
        mem_gb=_node_memory_gb() if args.mem_per_worker else None,
        mem_per_worker=args.mem_per_worker or None, accelerators=accelerators)
    if args.enable_mpi_mode:
        worker_count = 1 if args.max_workers_per_node == math.inf else int(args.max_workers_per_node)
    uid = args.uid or uuid.uuid4().hex[:12]
    block_id = args.block_id if args.block_id is not None else "0"
    logdir = os.path.join(args.logdir, f"block-{block_id}", uid)
    os.makedirs(logdir, exist_ok=True)
    logging.basicConfig(filename=os.path.join(logdir, "manager.log"),
                        level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(name)s:%(lineno)d %(levelname)s %(message)s")
    manager = Manager(
        addresses=[a for a in args.addresses.split(",") if a], port=port, uid=uid, block_id=block_id,
        worker_count=worker_count, prefetch_capacity=args.prefetch_capacity,
        heartbeat_period=args.hb_period, heartbeat_threshold=args.hb_threshold,
        drain_period=args.drain_period, poll_period_ms=args.poll,
        address_probe_timeout=args.address_probe_timeout or 30,
        cert_dir=None if args.cert_dir in (None, "None", "") else args.cert_dir,
        logdir=logdir, debug=args.debug, cpu_affinity=args.cpu_affinity,
        accelerators=accelerators, cores_per_worker=args.cores_per_worker,
        resource_monitoring_interval=args.resource_monitoring_interval)
    try:
        manager.run()
    except Exception:
        logging.getLogger("parsl.htex.manager").exception("manager failed")
        raise
    if manager.failed:
        print("process_worker_pool.py: workers could not start (see the errors above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
