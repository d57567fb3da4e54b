"""A radio over a shared filesystem (maildir style): the sender writes each message into
``<run_dir>/monitor-fs-radio/tmp/`` and renames it into ``new/`` (atomic: a reader never
sees half a file); the receiver reads and deletes what is in ``new/``.  Slower than the
others but it needs no open port, only a directory both sides can reach."""
from __future__ import annotations

import logging
import os
import pickle
import threading
import uuid
from typing import Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig, need_queue

logger = logging.getLogger(__name__)

#: how often the receiver looks into new/
POLL_S = 0.1


def _dirs(run_dir: str):
    base = os.path.join(run_dir, "monitor-fs-radio")
    return os.path.join(base, "tmp"), os.path.join(base, "new")


class FilesystemRadio(RadioConfig):
    def __init__(self) -> None:
        self.run_dir: Optional[str] = None

    def create_sender(self) -> MonitoringRadioSender:
        if self.run_dir is None:
            raise RuntimeError("FilesystemRadio.create_sender() needs create_receiver() first (it sets the run_dir)")
        return FilesystemRadioSender(run_dir=self.run_dir)

    def create_receiver(self, run_dir: Optional[str] = None, resource_msgs=None, *,
                        ip: Optional[str] = None) -> MonitoringRadioReceiver:
        need_queue(self, resource_msgs)
        if not run_dir:
            raise TypeError("FilesystemRadio.create_receiver() needs run_dir: messages are files under "
                            "<run_dir>/monitor-fs-radio/")
        self.run_dir = os.path.abspath(run_dir)
        return FilesystemRadioReceiver(resource_msgs, run_dir=self.run_dir)

    def __repr__(self) -> str:
        return "FilesystemRadio()"


class FilesystemRadioSender(MonitoringRadioSender):
    def __init__(self, *, run_dir: str, monitoring_url: Optional[str] = None, timeout: int = 10) -> None:
        self.tmp_path, self.new_path = _dirs(run_dir)
        os.makedirs(self.tmp_path, exist_ok=True)
        os.makedirs(self.new_path, exist_ok=True)

    def send(self, message: object) -> None:
        name = uuid.uuid4().hex
        tmp = os.path.join(self.tmp_path, name)
        try:
            with open(tmp, "wb") as f:
                pickle.dump(message, f)
            os.rename(tmp, os.path.join(self.new_path, name))
        except Exception:
            logger.exception("FilesystemRadio: could not write a monitoring message into %s", self.tmp_path)
            try:
                os.unlink(tmp)
            except OSError:
                pass


class FilesystemRadioReceiver(MonitoringRadioReceiver):
    def __init__(self, queue, *, run_dir: str):
        self.queue = queue
        self.tmp_path, self.new_path = _dirs(run_dir)
        os.makedirs(self.tmp_path, exist_ok=True)
        os.makedirs(self.new_path, exist_ok=True)
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parsl-fs-radio", daemon=True)
        self._thread.start()

    def sweep(self) -> int:
        """Take every message now in new/ (oldest first); how many."""
        try:
            entries = sorted(os.scandir(self.new_path), key=lambda e: e.stat().st_mtime_ns)
        except FileNotFoundError:
            return 0
        n = 0
        for entry in entries:
            try:
                with open(entry.path, "rb") as f:
                    message = pickle.load(f)
            except FileNotFoundError:
                continue
            except Exception:
                logger.exception("FilesystemRadio: %s is not a message; removed", entry.path)
            else:
                self.queue.put(message)
                n += 1
            try:
                os.unlink(entry.path)
            except OSError:
                pass
        self.received += n
        return n

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.sweep()

    def shutdown(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self.sweep()           # what arrived since the thread's last look
