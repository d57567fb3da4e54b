"""A local stand-in for the Globus Transfer and Auth APIs, for tests.

The real ``globus-sdk`` client code talks to it over HTTP once
``GLOBUS_SDK_SERVICE_URL_TRANSFER``/``..._AUTH`` point here. It implements only what staging
uses: submission ids, submitting a transfer (performed at once, on the local file system,
between directories that stand for endpoints), task status, task events, and the OAuth2
token grants (authorization code and refresh token) of a native app.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import time
import uuid
from urllib.parse import parse_qs, urlparse

GOOD_CODE = "good-auth-code"
LOCAL_EP = "d59900ef-6d04-11e5-ba46-22000b92c6ec"     # the tutorial's example local endpoint
PETREL_EP = "03d7d06a-cb6b-11e8-8c6a-0a1d4c5c824a"    # where the tutorial's unsorted.txt lives
DEST_EP = "ddb59aef-6d04-11e5-ba46-22000b92c6ec"      # the tutorial's destination endpoint


class GlobusStandIn:
    def __init__(self, endpoints: dict):
        """``endpoints``: endpoint id -> local directory standing for the endpoint's root."""
        self.endpoints = dict(endpoints)
        self.tasks = {}
        self.valid_access = set()
        self.refresh_tokens = set()
        self.transfers = []          # (src_ep, src_path, dst_ep, dst_path) submitted
        self.refreshes = 0
        self.active_polls = 0        # report the next task ACTIVE for this many polls
        self.lock = threading.Lock()
        standin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                standin._dispatch(self, "GET")

            def do_POST(self):
                standin._dispatch(self, "POST")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-globus-standin", daemon=True)
        self._thread.start()
        self._closed = False

    def close(self):
        if not self._closed:
            self._closed = True
            self.httpd.shutdown()
            self.httpd.server_close()
            self._thread.join(10)

    # -- tokens ------------------------------------------------------------------------------
    def issue(self, refresh: str = None) -> dict:
        at = "AT-" + uuid.uuid4().hex
        rt = refresh or "RT-" + uuid.uuid4().hex
        with self.lock:
            self.valid_access.add(at)
            self.refresh_tokens.add(rt)
        return {"access_token": at, "refresh_token": rt, "expires_in": 3600, "token_type": "Bearer",
                "resource_server": "transfer.api.globus.org",
                "scope": "urn:globus:auth:scope:transfer.api.globus.org:all"}

    def token_file_content(self, expired: bool = True) -> dict:
        """What ``~/.parsl/.globus.json`` holds after a sign-in (access token expired, so the
        client must refresh it)."""
        t = self.issue()
        entry = {"scope": t["scope"], "access_token": "expired-token", "refresh_token": t["refresh_token"],
                 "token_type": "Bearer", "expires_at_seconds": int(time.time()) - 10 if expired
                 else int(time.time()) + 3600, "resource_server": t["resource_server"]}
        if not expired:
            entry["access_token"] = t["access_token"]
        return {"transfer.api.globus.org": entry}

    # -- HTTP --------------------------------------------------------------------------------
    def _dispatch(self, req, method):
        path = urlparse(req.path).path
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        try:
            if path == "/v2/oauth2/token" and method == "POST":
                status, doc = self._token(parse_qs(body.decode()))
            elif path.startswith("/v0.10/"):
                auth = req.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in self.valid_access:
                    status, doc = 401, {"code": "AuthenticationFailed", "message": "Token is not active",
                                        "request_id": "standin", "resource": path}
                else:
                    status, doc = self._transfer_api(method, path[len("/v0.10"):],
                                                     json.loads(body) if body else None)
            else:
                status, doc = 404, {"code": "NotFound", "message": f"no route {path}"}
        except Exception as exc:  # a stand-in bug should be visible in the test
            status, doc = 500, {"code": "StandInError", "message": repr(exc)}
        data = json.dumps(doc).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def _token(self, form):
        grant = form.get("grant_type", [""])[0]
        if grant == "authorization_code":
            if form.get("code", [""])[0] != GOOD_CODE:
                return 401, {"error": "invalid_grant", "errors": [{"code": "invalid_grant",
                                                                   "detail": "authorization code is not valid"}]}
            t = self.issue()
            top = {"access_token": "AT-auth", "expires_in": 3600, "token_type": "Bearer",
                   "resource_server": "auth.globus.org", "scope": "openid", "state": "_default",
                   "other_tokens": [t]}
            return 200, top
        if grant == "refresh_token":
            rt = form.get("refresh_token", [""])[0]
            if rt not in self.refresh_tokens:
                return 401, {"error": "invalid_grant"}
            with self.lock:
                self.refreshes += 1
            t = self.issue(refresh=rt)
            t["other_tokens"] = []
            return 200, t
        return 400, {"error": "unsupported_grant_type"}

    def _local(self, endpoint, path):
        root = self.endpoints[endpoint]
        if path.startswith("/~/"):
            path = path[3:]
        return os.path.join(root, path.lstrip("/")) if root != "/" else path

    def _transfer_api(self, method, path, doc):
        if path == "/submission_id":
            return 200, {"value": str(uuid.uuid4())}
        if path == "/transfer" and method == "POST":
            for ep in (doc["source_endpoint"], doc["destination_endpoint"]):
                if ep not in self.endpoints:
                    return 404, {"code": "EndpointNotFound", "message": f"No such endpoint '{ep}'",
                                 "request_id": "standin", "resource": "/transfer"}
            task_id = str(uuid.uuid4())
            task = {"task_id": task_id, "status": "SUCCEEDED", "events": [], "polls_left": self.active_polls}
            self.active_polls = 0
            for item in doc["DATA"]:
                self.transfers.append((doc["source_endpoint"], item["source_path"],
                                       doc["destination_endpoint"], item["destination_path"]))
                src = self._local(doc["source_endpoint"], item["source_path"])
                dst = self._local(doc["destination_endpoint"], item["destination_path"])
                if not os.path.isfile(src):
                    task["status"] = "FAILED"
                    task["fatal_error"] = {"code": "FILE_NOT_FOUND",
                                           "description": "No such file or directory"}
                    task["events"].insert(0, {"code": "FILE_NOT_FOUND", "is_error": True,
                                              "description": "file not found",
                                              "details": f"{item['source_path']} not found on endpoint",
                                              "time": time.strftime("%Y-%m-%d %H:%M:%S")})
                    continue
                os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
                shutil.copyfile(src, dst)
            self.tasks[task_id] = task
            return 202, {"DATA_TYPE": "transfer_result", "code": "Accepted", "task_id": task_id,
                         "submission_id": doc.get("submission_id"), "message": "accepted"}
        parts = path.strip("/").split("/")
        if parts[0] == "task" and len(parts) >= 2 and parts[1] in self.tasks:
            task = self.tasks[parts[1]]
            if len(parts) == 3 and parts[2] == "event_list":
                return 200, {"DATA_TYPE": "event_list", "DATA": task["events"]}
            status = task["status"]
            if task["polls_left"] > 0:
                task["polls_left"] -= 1
                status = "ACTIVE"
            out = {"DATA_TYPE": "task", "task_id": task["task_id"], "status": status,
                   "nice_status_short_description": "ok" if status == "SUCCEEDED" else status}
            if status == "FAILED":
                out["fatal_error"] = task["fatal_error"]
            return 200, out
        return 404, {"code": "ClientError.NotFound", "message": f"no such resource {path}"}
