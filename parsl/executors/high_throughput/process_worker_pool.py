"""``process_worker_pool.py``: the per-node manager's command line (Parsl's flags).

The provider runs this once per node of a block.  The flags are parsed into
``parsl._htex.settings.ManagerSettings`` (the worker count decided from the node's
cores/memory/accelerators), then :class:`parsl._htex.manager.Manager` takes over.
"""
from __future__ import annotations

import logging
import os
import sys

import psutil

import parsl.version
from parsl._base.logfiles import SafeFileHandler
from parsl._htex.manager import Manager
from parsl._htex.settings import CommandLineError, NodeFacts, manager_settings_from_argv


def _node_memory_gb() -> float:
    if os.environ.get("PARSL_MEMORY_GB"):
        return float(os.environ["PARSL_MEMORY_GB"])
    return psutil.virtual_memory().available / 2**30


def _node_cores() -> float:
    if os.environ.get("PARSL_CORES"):
        return float(os.environ["PARSL_CORES"])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def main(argv=None) -> int:
    try:
        settings = manager_settings_from_argv(argv, NodeFacts(cores=_node_cores(), memory_gb=_node_memory_gb()))
    except CommandLineError as e:
        print(f"process_worker_pool.py: {e}", file=sys.stderr)
        return 2
    logdir = settings.logdir
    assert logdir is not None       # the command line always gives one (--logdir has a default)
    os.makedirs(logdir, exist_ok=True)
    # SafeFileHandler: owner-only (0600), and a full disk costs one line on stderr, not one per record
    logging.basicConfig(handlers=[SafeFileHandler(os.path.join(logdir, "manager.log"))],
                        level=logging.DEBUG if settings.debug else logging.INFO,
                        format="%(asctime)s %(name)s:%(lineno)d %(levelname)s %(message)s")
    # The version read here, at Parsl's public path, is the one this manager registers with.
    manager = Manager(settings, parsl_version=parsl.version.VERSION)
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
