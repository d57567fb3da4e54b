"""Globus Transfer: sign in once, cache the tokens, submit a transfer and wait for it.

``globus-sdk`` is an optional extra and is imported only here, only when a Globus file is
actually staged (``import parsl`` never pays for it).

Tokens live in ``~/.parsl/.globus.json`` (mode 0600) as the SDK's ``by_resource_server``
mapping, and are refreshed by the SDK when they expire; every refresh is written back.
Sign-in is Globus's native-app flow for Parsl's registered client: print a URL, read the
code the user pastes back. ``parsl-globus-auth`` does this ahead of time. Service URLs can be
redirected with the SDK's own ``GLOBUS_SDK_SERVICE_URL_TRANSFER``/``..._AUTH`` variables
(the test suite points them at a local stand-in of the Transfer and Auth APIs).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Callable, Dict, Optional

from parsl._base.errors import OptionalModuleMissing

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


def _sdk():
    try:
        import globus_sdk
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


def _api_message(exc) -> str:
    """Globus's own words for an API error: status, code and message."""
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
