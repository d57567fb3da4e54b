"""What runs on the worker for a bash app: build the command, run it under /bin/bash, check.

A bash app's function returns a command line; ``remote_side_bash_executor`` (sent to the
worker, by reference, as ``functools.partial(remote_side_bash_executor, func)``) calls it,
runs the command with the app's ``stdout``/``stderr`` redirections and ``walltime``, and
checks that the ``outputs`` exist. Kept light: workers import this module.
"""
from __future__ import annotations

import os
import signal
import subprocess
from typing import IO, Any, Callable, List, Optional, Tuple

from parsl._base.errors import (
    AppBadFormatting,
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)
from parsl._base.files import File


def _std_target(spec: Any, default_mode: str) -> Tuple[Optional[str], Optional[str]]:
    """(path, mode) for a stdout/stderr spec: str/PathLike, (path, mode), File or None."""
    if spec is None:
        return None, None
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise BadStdStreamFile(f"stdout/stderr tuple must be (path, mode), got {spec!r}")
        return os.fspath(spec[0]), spec[1]
    if isinstance(spec, File):
        return spec.filepath, "w"
    try:
        return os.fspath(spec), default_mode
    except TypeError:
        raise BadStdStreamFile(f"stdout/stderr must be a path, (path, mode) or File, got {spec!r}") from None


def _open_std(spec: Any) -> Tuple[Optional[IO[str]], Optional[str]]:
    path, mode = _std_target(spec, "a+")
    if path is None or mode is None:
        return None, None
    try:
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        return open(path, mode), path
    except OSError as e:
        raise BadStdStreamFile(f"cannot open {path!r} with mode {mode!r}: {e}") from e


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and everything it started (its own session, and any stragglers)."""
    try:
        import psutil  # deferred: only a timed-out command needs it, and it costs start-up time
        try:
            children = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            children = []
    except ImportError:  # pragma: no cover
        children = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for c in children:
        try:
            c.kill()
        except Exception:
            pass
    try:
        proc.wait(timeout=5)
    except Exception:
        pass


def remote_side_bash_executor(func: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Runs on the worker: build the command with ``func``, run it, check its outputs."""
    func_name = getattr(func, "__name__", "bash_app")
    try:
        command = func(*args, **kwargs)
    except AttributeError as e:
        if command_is_missing(e):
            raise BashAppNoReturn(f"bash_app {func_name} raised {e!r} before returning a command") from e
        raise AppBadFormatting(f"bash_app {func_name} could not format its command: {e!r}") from e
    except IndexError as e:
        raise AppBadFormatting(f"bash_app {func_name} could not format its command: {e!r}") from e
    if not isinstance(command, str):
        raise BashAppNoReturn(
            f"bash_app {func_name} must return the command line as a str, but returned "
            f"{type(command).__name__} ({command!r:.80}); did you forget a 'return'?")

    stdout, stdout_path = _open_std(kwargs.get("stdout"))
    try:
        stderr, stderr_path = _open_std(kwargs.get("stderr"))
    except BaseException:
        if stdout is not None:
            stdout.close()
        raise
    try:
        if stderr is not None:
            stderr.write(f"--> executable follows <--\n{command}\n--> end executable <--\n")
            stderr.flush()
        walltime = kwargs.get("walltime")
        try:
            proc = subprocess.Popen(command, shell=True, executable="/bin/bash", stdout=stdout,
                                    stderr=stderr, close_fds=True, start_new_session=True)
        except OSError as e:
            raise AppException(f"bash_app {func_name} could not start /bin/bash: {e}") from e
        try:
            returncode = proc.wait(timeout=walltime)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            raise AppTimeout(f"bash_app {func_name} exceeded walltime: {walltime} seconds; "
                             "its process tree was killed") from None
        except BaseException:
            _kill_tree(proc)
            raise
    finally:
        if stdout is not None:
            stdout.close()
        if stderr is not None:
            stderr.close()

    if returncode != 0:
        raise BashExitFailure(func_name, returncode, stdout_path, stderr_path)

    missing: List[Any] = []
    for f in kwargs.get("outputs") or ():
        path = getattr(f, "filepath", f)
        try:
            path = os.fspath(path)
        except TypeError:
            continue
        if not os.path.exists(path):
            missing.append(f)
    if missing:
        raise MissingOutputs(f"bash_app {func_name} exited 0 but did not create "
                             f"{', '.join(map(str, (getattr(m, 'filepath', m) for m in missing)))}", missing)
    return returncode


def command_is_missing(e: BaseException) -> bool:
    # an AttributeError raised while the command is being built (e.g. on None)
    return "NoneType" in str(e)
