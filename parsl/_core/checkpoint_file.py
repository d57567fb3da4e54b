"""Reading checkpoint files: Chervil's ``tasks.ckpt`` (format below and in
docs/checkpoint-format.md) and, through ``parsl._core.parsl_format``, reference Parsl's
``tasks.pkl``. Writing is ``parsl._core.checkpoint``.

    header   16 bytes  b"\\x89CHERVIL-CKPT\\r\\n" + b"\\x1a" + version (1 byte)
    frame*   8 bytes   <u32 payload length><u32 CRC-32 of the payload>
             payload   pickle of (keys: [hex str], manifests: [bytes], results: [object])
"""
from __future__ import annotations

import gc
import logging
import os
import pickle
import re
import struct
import zlib
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from parsl._base.errors import BadCheckpoint
from parsl._core.parsl_format import read_parsl_checkpoint_file

logger = logging.getLogger("parsl._core.checkpoint")

CHECKPOINT_DIRNAME = "checkpoint"
TASKS_FILENAME = "tasks.ckpt"
PARSL_TASKS_FILENAME = "tasks.pkl"  # reference Parsl's format: read by parsl_format
VERSION = 1
HEADER = b"\x89CHERVIL-CKPT\r\n\x1a" + bytes([VERSION])
HEADER_PREFIX = HEADER[:-1]
FRAME = struct.Struct("<II")   # payload length, CRC-32 of payload
RUN_DIR = re.compile(r"^[0-9]*[0-9]$")


def _bad(message: str) -> BadCheckpoint:
    return BadCheckpoint(message)


class LoadedCheckpoint:
    """The results of one checkpoint file: ``results`` (key hex -> value), ``manifests``
    (list of encoded manifests), ``torn_tail`` (bytes ignored at the end after a crash)."""

    __slots__ = ("path", "results", "manifests", "torn_tail")

    def __init__(self, path: str) -> None:
        self.path = path
        self.results: Dict[str, Any] = {}
        self.manifests: List[bytes] = []
        self.torn_tail = 0


def check_header(path: str, head: Optional[bytes] = None) -> None:
    if head is None:
        with open(path, "rb") as f:
            head = f.read(len(HEADER))
    if head == HEADER:
        return
    if head and len(head) < len(HEADER) and HEADER_PREFIX.startswith(head[:len(HEADER_PREFIX)]):
        raise _bad(
            f"Checkpoint file {path} is cut short inside its {len(HEADER)}-byte header (it has "
            f"{len(head)} bytes), so it holds no results: it was damaged or copied incompletely. "
            f"Delete it (rm {path}) or leave its directory out of checkpoint_files.")
    if head.startswith(HEADER_PREFIX):
        raise _bad(
            f"Checkpoint file {path} has format version {head[len(HEADER_PREFIX)]}, but this "
            f"Chervil reads version {VERSION}. Upgrade Chervil, or leave this checkpoint out of "
            f"checkpoint_files.")
    raise _bad(_foreign_message(path, head))


def _foreign_message(path: str, head: bytes) -> str:
    if head[:1] == b"\x80":
        what = "a Python pickle (reference Parsl's checkpoint format?)"
    elif not head:
        what = "empty"
    else:
        what = "not a Chervil checkpoint"
    return (f"Checkpoint file {path} is {what}: it does not start with Chervil's checkpoint "
            f"header. Results cannot be trusted from it; leave it out of checkpoint_files "
            f"(or move it away from the run directory).")


def read_checkpoint_file(path: str) -> LoadedCheckpoint:
    """Parse one checkpoint file. Raises BadCheckpoint naming the file on any damage
    other than a torn final frame."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(f"Cannot read checkpoint file {path}: {e.strerror or e}") from e
    check_header(path, data[:len(HEADER)])
    out = LoadedCheckpoint(path)
    results = out.results
    manifests = out.manifests
    view = memoryview(data)
    pos = len(HEADER)
    end = len(data)
    while pos < end:
        if end - pos < FRAME.size:
            out.torn_tail = end - pos
            break
        length, crc = FRAME.unpack_from(data, pos)
        start = pos + FRAME.size
        stop = start + length
        if stop > end:
            if _only_torn_tail(data, pos):
                out.torn_tail = end - pos
                break
            raise _corrupt(path, pos, "impossible frame length")
        if zlib.crc32(view[start:stop]) != crc:
            # A crash mid-write leaves a *short* frame (handled above). A full-length frame
            # whose bytes do not match its checksum was changed after it was written.
            raise _corrupt(path, pos, "checksum mismatch")
        gc_was_on = gc.isenabled()
        gc.disable()  # unpickling 100,000s of objects would trigger many useless full collections
        try:
            keys, frame_manifests, values = pickle.loads(view[start:stop])
        except Exception as e:
            raise _bad(
                f"Checkpoint file {path}: the results stored at offset {pos} cannot be "
                f"unpickled: {type(e).__name__}: {e}. Usually the code that defined a result's "
                f"type changed or is not importable here; make it importable, or leave this "
                f"checkpoint out of checkpoint_files.") from e
        finally:
            if gc_was_on:
                gc.enable()
        results.update(zip(keys, values))
        manifests.extend(frame_manifests)
        pos = stop
    if out.torn_tail:
        logger.info("Checkpoint file %s ends with %d bytes of an incomplete batch (the run was "
                    "interrupted while writing); ignored: those results will be recomputed",
                    path, out.torn_tail)
    return out


def _only_torn_tail(data: bytes, pos: int) -> bool:
    """True if no valid frame starts anywhere after ``pos``: the damage is a torn tail
    (a crash mid-write), not corruption in the middle of good data."""
    end = len(data)
    p = pos + 1
    view = memoryview(data)
    find = data.find
    while p + FRAME.size < end:
        # Every frame's payload is a pickle of protocol >= 2: it starts with 0x80.
        p = find(b"\x80", p + FRAME.size)
        if p < 0:
            return True
        p -= FRAME.size
        length, crc = FRAME.unpack_from(data, p)
        stop = p + FRAME.size + length
        if stop <= end and zlib.crc32(view[p + FRAME.size:stop]) == crc:
            return False
        p += 1
    return True


def _corrupt(path: str, pos: int, why: str) -> BadCheckpoint:
    return _bad(
        f"Checkpoint file {path} is damaged at offset {pos} ({why}): its bytes changed after "
        f"they were written, so no result is read from it. Restore it from a backup, leave it "
        f"out of checkpoint_files, or keep the results before the damage with "
        f"`truncate -s {pos} {path}`.")


class CheckpointSet:
    """Everything loaded from a list of checkpoints: Chervil's ``results`` (key hex -> value) and
    ``manifests`` ([(encoded manifest, origin label)]), and the results of checkpoints written
    by reference Parsl, keyed by Parsl's key: ``parsl_results`` and the pickle protocols
    their keys were made with (``parsl_protocols``)."""

    __slots__ = ("results", "manifests", "parsl_results", "parsl_protocols", "files")

    def __init__(self) -> None:
        self.results: Dict[str, Any] = {}
        self.manifests: List[Tuple[bytes, str]] = []
        self.parsl_results: Dict[str, Any] = {}
        self.parsl_protocols: List[int] = []
        self.files: List[str] = []


def resolve_checkpoint_files(entry: Union[str, os.PathLike[str]]) -> List[str]:
    """The checkpoint files of one ``checkpoint_files`` entry (a checkpoint dir, or a file).

    A directory yields Chervil's ``tasks.ckpt`` and/or reference Parsl's ``tasks.pkl``.
    Raises BadCheckpoint for a missing path, and (as Parsl does) for a directory holding
    neither file.
    """
    path = os.fspath(entry)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise _bad(
            f"Checkpoint {path} does not exist. checkpoint_files takes checkpoint directories "
            f"such as those returned by parsl.utils.get_all_checkpoints().")
    found = [os.path.join(path, name) for name in (TASKS_FILENAME, PARSL_TASKS_FILENAME)
             if os.path.isfile(os.path.join(path, name))]
    if not found:
        raise _bad(
            f"Checkpoint directory {path} holds no checkpoint file ({TASKS_FILENAME} or "
            f"{PARSL_TASKS_FILENAME}): the run that made it stopped before writing one, or the "
            f"file was removed. Leave this directory out of checkpoint_files, or delete it "
            f"(`rmdir {path}`) if it is empty.")
    return found


def read_checkpoint_set(entries: Iterable[Union[str, os.PathLike[str]]], *,
                        skip_empty_dirs: bool = False) -> CheckpointSet:
    """Read several checkpoints; later entries override earlier ones (as in Parsl).

    ``skip_empty_dirs``: a directory with no checkpoint file is passed over with a warning
    instead of raising (for checkpoints found automatically, not named by the user).
    """
    out = CheckpointSet()
    for entry in entries:
        try:
            paths = resolve_checkpoint_files(entry)
        except BadCheckpoint:
            if skip_empty_dirs and os.path.isdir(os.fspath(entry)):
                logger.warning("Checkpoint directory %s holds no checkpoint file; skipped", entry)
                continue
            raise
        for path in paths:
            out.files.append(path)
            with open(path, "rb") as f:
                head = f.read(len(HEADER))
            if head[:1] == b"\x80" or (not head and path.endswith(PARSL_TASKS_FILENAME)):
                results, protocol = read_parsl_checkpoint_file(path)
                out.parsl_results.update(results)
                if results and protocol not in out.parsl_protocols:
                    out.parsl_protocols.append(protocol)
                continue
            loaded = read_checkpoint_file(path)
            out.results.update(loaded.results)
            origin = _origin_label(path)
            out.manifests.extend((m, origin) for m in loaded.manifests)
    return out


def _origin_label(path: str) -> str:
    """'run 003' for <rundir>/003/checkpoint/tasks.ckpt, else the path."""
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) >= 3 and parts[-2] == CHECKPOINT_DIRNAME and RUN_DIR.match(parts[-3]):
        return f"run {parts[-3]}"
    return path
