"""Globus (``globus://<endpoint uuid>/<path>``): sign-in, transfers, tasks, ``GlobusStaging``.

Files are moved by Globus Transfer between their endpoint and the endpoint that serves the
executor's ``working_dir`` (``GlobusStaging(endpoint_uuid, endpoint_path, local_path)``).
Transfers run as tasks on the DFK's internal executor in the submitting process: they only
talk to Globus, and the data goes straight from endpoint to endpoint.

``globus-sdk`` is an optional extra and is imported only here, only when a Globus file is
actually staged (``import parsl`` never pays for it).

Tokens live in ``~/.parsl/.globus.json`` (mode 0600) as the SDK's ``by_resource_server``
mapping, and are refreshed by the SDK when they expire; every refresh is written back.
Sign-in is Globus's native-app flow for Parsl's registered client: print a URL, read the
code the user pastes back. ``parsl-globus-auth`` (:func:`cli_run`) does this ahead of time.
Service URLs can be redirected with the SDK's own ``GLOBUS_SDK_SERVICE_URL_TRANSFER``/
``..._AUTH`` variables (the test suite points them at a local stand-in of the Transfer and
Auth APIs).
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import sys
import threading
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Sequence

from parsl._base.errors import OptionalModuleMissing
from parsl._base.files import File
from parsl._staging.base import INTERNAL_EXECUTOR, Staging, StagingContext, StagingFuture
from parsl._staging.registry import Transfer, register
from parsl._staging.shapes import data_future

logger = logging.getLogger(__name__)

# Parsl's native-app OAuth2 client registered with Globus Auth (a public identifier).
CLIENT_ID = "8b8060fd-610e-4a74-885e-1051c71ad473"
TRANSFER_RESOURCE_SERVER = "transfer.api.globus.org"
SCOPES = ("openid", "urn:globus:auth:scope:transfer.api.globus.org:all")
# Waits between status polls grow from 1 s to this, so a quick transfer costs about a
# second while a long one costs one request per minute.
MAX_POLL_S = 60


class GlobusTransferError(FileNotFoundError):
    """A Globus transfer could not be submitted or did not succeed; the message is Globus's own.

    A ``FileNotFoundError`` (what Parsl raises for failed staging) so existing handlers keep
    working, but with the real cause in the text instead of a bare "file not found".
    """


class GlobusAuthRequired(RuntimeError):
    """No usable Globus tokens and no way to ask the user for a sign-in code."""


def token_file() -> str:
    return os.path.join(os.path.expanduser("~"), ".parsl", ".globus.json")


def _sdk() -> Any:
    try:
        import globus_sdk  # deferred: an optional extra, imported only when Globus is used
    except ImportError as exc:
        raise OptionalModuleMissing(["globus_sdk"], "Globus staging needs globus-sdk: "
                                    "pip install 'chervil[globus]'") from exc
    return globus_sdk


# -- token cache -------------------------------------------------------------------------------

_token_lock = threading.Lock()


def load_tokens(path: Optional[str] = None) -> Optional[Dict[str, dict]]:
    path = path or token_file()
    try:
        with open(path) as f:
            tokens = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable Globus token file %s: %s", path, exc)
        return None
    return tokens if isinstance(tokens, dict) and TRANSFER_RESOURCE_SERVER in tokens else None


def save_tokens(tokens: Dict[str, dict], path: Optional[str] = None) -> None:
    """Merge ``tokens`` into the cache file, written atomically and readable only by the user."""
    path = path or token_file()
    with _token_lock:
        current = load_tokens(path) or {}
        current.update(tokens)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(current, f, indent=1)
        os.replace(tmp, path)


def sign_in(ask: Callable[[str], str] = input, out: Callable[[str], None] = print) -> Dict[str, dict]:
    """Run the native-app flow: show the URL, read the code, exchange it, cache the tokens."""
    sdk = _sdk()
    client = sdk.NativeAppAuthClient(CLIENT_ID)
    client.oauth2_start_flow(requested_scopes=list(SCOPES), refresh_tokens=True)
    out("Please authorize Parsl to transfer files for you with Globus. Open this URL in a "
        "browser, sign in, and paste the authorization code below:\n\n"
        f"{client.oauth2_get_authorize_url()}\n")
    try:
        code = ask("Authorization code: ").strip()
    except EOFError:
        raise GlobusAuthRequired(
            "Globus needs you to sign in but no code can be read here (stdin is closed). "
            f"Run `parsl-globus-auth` once in a terminal; tokens are then kept in {token_file()}") from None
    try:
        response = client.oauth2_exchange_code_for_tokens(code)
    except sdk.GlobusAPIError as exc:
        raise GlobusAuthRequired(f"Globus Auth refused the authorization code: {_api_message(exc)}") from exc
    tokens = response.by_resource_server
    save_tokens(tokens)
    return tokens


def _api_message(exc: Exception) -> str:
    """Globus's own words for an API error: status, code and message."""
    # getattr: a GlobusAPIError of any SDK version (fields have come and gone across releases)
    parts = [str(getattr(exc, "http_status", "")), getattr(exc, "code", None), getattr(exc, "message", None)]
    return " ".join(str(p) for p in parts if p) or repr(exc)


# -- the client ------------------------------------------------------------------------------

class GlobusClient:
    """One authorized ``TransferClient`` per process, shared by all staging tasks."""

    def __init__(self, ask: Callable[[str], str] = input, out: Callable[[str], None] = print):
        sdk = _sdk()
        tokens = load_tokens() or sign_in(ask, out)
        transfer = tokens[TRANSFER_RESOURCE_SERVER]

        def on_refresh(response):
            save_tokens(response.by_resource_server)

        authorizer = sdk.RefreshTokenAuthorizer(
            transfer["refresh_token"], sdk.NativeAppAuthClient(CLIENT_ID),
            access_token=transfer.get("access_token"), expires_at=transfer.get("expires_at_seconds"),
            on_refresh=on_refresh)
        self.sdk = sdk
        self.transfer_client = sdk.TransferClient(authorizer=authorizer)

    def transfer_file(self, src_ep: str, dst_ep: str, src_path: str, dst_path: str,
                      url: str, direction: str) -> str:
        """Copy one file between endpoints and wait until Globus says it is done; return
        the task id. Raises ``GlobusTransferError`` with Globus's message otherwise."""
        sdk, tc = self.sdk, self.transfer_client
        what = f"Could not stage {direction} {url}"
        try:
            tdata = sdk.TransferData(source_endpoint=src_ep, destination_endpoint=dst_ep,
                                     label="Parsl Transfer", sync_level="checksum")
            tdata.add_item(src_path, dst_path)
            task_id = tc.submit_transfer(tdata)["task_id"]
            logger.debug("Globus transfer %s: %s:%s -> %s:%s", task_id, src_ep, src_path, dst_ep, dst_path)
            task = self._wait(task_id)
        except sdk.GlobusAPIError as exc:
            raise GlobusTransferError(f"{what}: Globus Transfer API error {_api_message(exc)}") from exc
        except sdk.NetworkError as exc:
            raise GlobusTransferError(f"{what}: cannot reach Globus Transfer: {exc}") from exc
        if task["status"] != "SUCCEEDED":
            raise GlobusTransferError(f"{what}: Globus transfer task {task_id} ended {task['status']}: "
                                      f"{failure_reason(task, self._error_events(task_id))}")
        return task_id

    def _wait(self, task_id: str):
        seen = set()
        interval = 1
        while not self.transfer_client.task_wait(task_id, timeout=interval, polling_interval=interval):
            # still ACTIVE: Globus retries transient faults itself; show them as they appear
            for event in self._error_events(task_id):
                key = (event.get("time"), event.get("code"))
                if key not in seen:
                    seen.add(key)
                    logger.warning("Globus transfer %s is retrying: %s %s", task_id,
                                   event.get("code"), event.get("description"))
            interval = min(MAX_POLL_S, interval * 2)
        return self.transfer_client.get_task(task_id)

    def _error_events(self, task_id: str):
        try:
            return list(self.transfer_client.task_event_list(task_id, query_params={"filter": "is_error:1"}))
        except self.sdk.GlobusAPIError:
            return []


def failure_reason(task, error_events) -> str:
    """Globus's own explanation of a finished, unsuccessful task (pure)."""
    fatal = task.get("fatal_error") or {}
    parts = []
    if fatal:
        parts.append(f"{fatal.get('code', '')} {fatal.get('description', '')}".strip())
    elif task.get("nice_status_short_description"):
        parts.append(task["nice_status_short_description"])
    if error_events:
        last = error_events[0]
        detail = f"{last.get('code', '')}: {last.get('description', '')}".strip(": ")
        if last.get("details"):
            detail += f" ({last['details']})"
        parts.append(f"last error event {detail}")
    return "; ".join(parts) or "no reason given"


_client: Optional[GlobusClient] = None
_client_lock = threading.Lock()


def get_client() -> GlobusClient:
    """The process's Globus client, signing in on first use."""
    global _client
    with _client_lock:
        if _client is None:
            _client = GlobusClient()
        return _client


def reset_client() -> None:
    """Forget the process's client (tests; or after the token file was replaced)."""
    global _client
    with _client_lock:
        _client = None


def get_globus() -> GlobusClient:
    """The process's authorized Globus client (signs in on first use). It has
    ``transfer_client`` and ``transfer_file(src_ep, dst_ep, src_path, dst_path, url, direction)``."""
    return get_client()


# -- paths (pure) ----------------------------------------------------------------------------

def globus_endpoint_dir(working_dir: str, endpoint_path: Optional[str],
                        local_path: Optional[str]) -> str:
    """The directory, as the Globus endpoint names it, that holds ``working_dir``.

    With both ``endpoint_path`` and ``local_path`` given, the endpoint exposes ``local_path``
    at ``endpoint_path``, so ``working_dir`` (which must lie under ``local_path``) appears at
    ``endpoint_path`` + its path relative to ``local_path``. Otherwise the endpoint is taken
    to see the file system as it is, and the directory is ``working_dir`` itself.
    """
    if endpoint_path is None or local_path is None:
        return working_dir
    wd = os.path.normpath(os.path.abspath(working_dir))
    lp = os.path.normpath(os.path.abspath(local_path))
    if os.path.commonpath([wd, lp]) != lp:
        raise ValueError(
            f"GlobusStaging: the executor's working_dir {working_dir!r} is not inside "
            f"local_path {local_path!r}; the endpoint can only reach files under local_path. "
            "Set working_dir to a directory under local_path (or fix local_path/endpoint_path).")
    rel = os.path.relpath(wd, lp)
    if rel == ".":
        return endpoint_path
    return posixpath.join(endpoint_path, rel.replace(os.sep, "/"))


def globus_endpoint_file(working_dir: str, filename: str, endpoint_path: Optional[str],
                         local_path: Optional[str]) -> str:
    """The endpoint path of ``filename`` staged into ``working_dir``."""
    return posixpath.join(globus_endpoint_dir(working_dir, endpoint_path, local_path), filename)


# -- the separate tasks (monitoring shows these names) ----------------------------------------

def _stage_in_transfer(src_ep: str, src_path: str, dst_ep: str, dst_path: str, url: str,
                       parent_fut: Any = None, outputs: Sequence[File] = (),
                       _parsl_staging_inhibit: bool = True) -> None:
    get_client().transfer_file(src_ep, dst_ep, src_path, dst_path, url, "in")


def _stage_out_transfer(src_ep: str, src_path: str, dst_ep: str, dst_path: str, url: str,
                        parent_fut: Any = None, inputs: Sequence[File] = (),
                        _parsl_staging_inhibit: bool = True) -> None:
    get_client().transfer_file(src_ep, dst_ep, src_path, dst_path, url, "out")


# -- the provider ------------------------------------------------------------------------------

class GlobusStaging(Staging):
    """Stage ``globus://`` files through the Globus endpoint ``endpoint_uuid``.

    ``endpoint_path``/``local_path``: the endpoint shows local directory ``local_path`` as
    ``endpoint_path`` (e.g. a guest collection rooted somewhere). Without them the endpoint is
    taken to see local paths unchanged. The executor must set ``working_dir`` (under
    ``local_path``); staged files are placed there.
    """

    def __init__(self, endpoint_uuid: str, endpoint_path: Optional[str] = None,
                 local_path: Optional[str] = None):
        if not isinstance(endpoint_uuid, str) or not endpoint_uuid:
            raise ValueError(f"GlobusStaging(endpoint_uuid=...) needs the id of the Globus endpoint "
                             f"that serves the executor's working_dir; got {endpoint_uuid!r}")
        self.endpoint_uuid = endpoint_uuid
        self.endpoint_path = endpoint_path
        self.local_path = local_path

    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "globus"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "globus"

    def _place(self, dm: StagingContext, executor: str, file: File) -> str:
        """Set ``file.local_path`` and return the file's path as our endpoint names it."""
        label, _ = dm.executor(executor)
        working_dir = dm.working_dir(executor)
        if not working_dir:
            raise ValueError(f"GlobusStaging needs a working_dir on executor {label!r} (the directory "
                             "the Globus endpoint writes into): set working_dir=... on the executor")
        file.local_path = os.path.join(working_dir, file.filename)
        # sign in now, in the caller's thread, so that a first-time prompt appears at the
        # app call rather than inside a background task
        get_client()
        return globus_endpoint_file(working_dir, file.filename, self.endpoint_path, self.local_path)

    def stage_in(self, dm: StagingContext, executor: str, file: File,
                 parent_fut: Optional[Future]) -> Optional[StagingFuture]:
        endpoint_file = self._place(dm, executor, file)
        fut = dm.submit_task(_stage_in_transfer, INTERNAL_EXECUTOR, file.netloc, file.path,
                             self.endpoint_uuid, endpoint_file, file.url, outputs=[file],
                             _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return data_future(fut, file)

    def stage_out(self, dm: StagingContext, executor: str, file: File,
                  app_fu: Future) -> Optional[StagingFuture]:
        endpoint_file = self._place(dm, executor, file)
        return dm.submit_task(_stage_out_transfer, INTERNAL_EXECUTOR, self.endpoint_uuid,
                              endpoint_file, file.netloc, file.path, file.url, inputs=[file],
                              _parsl_staging_inhibit=True, parent_fut=app_fu)

    def __repr__(self) -> str:
        return (f"GlobusStaging(endpoint_uuid={self.endpoint_uuid!r}, "
                f"endpoint_path={self.endpoint_path!r}, local_path={self.local_path!r})")


# -- parsl-globus-auth -------------------------------------------------------------------------

def cli_run(argv: Optional[List[str]] = None) -> int:
    """``parsl-globus-auth``: sign in to Globus now so that later runs need no prompt."""
    import argparse  # deferred: only the command line needs it
    parser = argparse.ArgumentParser(
        prog="parsl-globus-auth",
        description="Authorize Parsl to use Globus Transfer on your behalf. Tokens are kept in "
                    f"{token_file()} and refreshed automatically.")
    parser.add_argument("--force", action="store_true",
                        help="sign in again even if tokens are already cached")
    args = parser.parse_args(argv)
    print("Parsl Globus command-line authorizer")
    if load_tokens() is not None and not args.force:
        print(f"Already authorized: tokens are cached in {token_file()} (use --force to sign in again)")
        return 0
    try:
        sign_in()
    except GlobusAuthRequired as exc:
        print(f"Authorization failed: {exc}", file=sys.stderr)
        return 1
    print(f"Authorization complete; tokens saved in {token_file()}")
    return 0


GlobusStaging.__module__ = GlobusTransferError.__module__ = "parsl.data_provider.globus"

# The transfers need the provider's endpoints, so only the separate tasks are registered.
register(("globus",), Transfer(stage_in_task=_stage_in_transfer, stage_out_task=_stage_out_transfer))
