"""The ``parsl-visualize`` web server: the standard library's threading HTTP server in front
of the HTML pages (``pages``), their JSON endpoints (``api``) and the static files the
pages use (``static/``, and plotly.js from the installed ``plotly`` package).  The pages
load nothing from anywhere else, so the viewer works on a login node without internet.

Access: it listens on 127.0.0.1 by default.  With a token (``--token``), every request
must carry it, as ``?token=...`` once (the answer sets a cookie) or in that cookie; see
``docs/monitoring-dashboard.md`` for exposing the viewer beyond localhost.

``VisualizationServer`` owns its serving thread (``start``/``close``, idempotent) so tests
and notebooks can run it in-process; the CLI calls ``serve_forever`` instead.
"""
from __future__ import annotations

import hmac
import json
import logging
import os
import re
import secrets
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlparse

from parsl._monitoring.web import api as _api  # noqa: F401  (registers the JSON routes)
from parsl._monitoring.web import pages as _pages  # noqa: F401  (registers the HTML routes)
from parsl._monitoring.web import render as r
from parsl._monitoring.web.routes import ROUTES, Json, NotFound
from parsl._monitoring.web.store import DatabaseUnusable, open_read_engine

logger = logging.getLogger("parsl.monitoring.visualization")

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
TOKEN_COOKIE = "parsl_visualize_token"


def plotly_js_path() -> Optional[str]:
    """plotly.min.js as the ``plotly`` Python package ships it (no CDN), or None."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("plotly")    # deferred: an optional extra, found not imported
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "package_data", "plotly.min.js")
    return path if os.path.isfile(path) else None


def _static(name: str):
    """(bytes, content type) of a static file, or None."""
    if name == "plotly.min.js":
        path = plotly_js_path()
        if path is None:
            data = (b"document.addEventListener('DOMContentLoaded',function(){document.querySelectorAll('.chart')"
                    b".forEach(function(e){e.textContent='Charts need the plotly package: "
                    b"pip install \"chervil[visualization]\"';});});window.Plotly={react:function(){},"
                    b"newPlot:function(){}};")
            return data, STATIC_TYPES[".js"]
    elif re.fullmatch(r"[a-z]+\.(js|css)", name):
        path = os.path.join(STATIC_DIR, name)
    else:
        return None
    try:
        with open(path, "rb") as f:
            return f.read(), STATIC_TYPES[os.path.splitext(name)[1]]
    except OSError:
        return None


def make_handler(engine, token: Optional[str] = None):
    class Handler(BaseHTTPRequestHandler):
        server_version = "parsl-visualize"

        def log_message(self, fmt, *args):
            logger.debug("%s " + fmt, self.address_string(), *args)

        def _authorized(self, query) -> bool:
            if token is None:
                return True
            given = (query.get("token") or [""])[0]
            if not given:
                c = SimpleCookie(self.headers.get("Cookie", ""))
                given = c[TOKEN_COOKIE].value if TOKEN_COOKIE in c else ""
            return hmac.compare_digest(given.encode(), token.encode())

        def do_GET(self):
            url = urlparse(self.path)
            path = url.path
            query = parse_qs(url.query)
            if not self._authorized(query):
                self._send(403, r.page("Access token needed", "<h1>Access token needed</h1><p>This viewer was "
                                       "started with --token: open the URL it printed (it ends in ?token=...)."
                                       "</p>"))
                return
            cookie = None
            if token is not None and "token" in query:
                cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                query.pop("token")
            if path.startswith("/static/"):
                found = _static(path[len("/static/"):])
                if found is None:
                    self._send(404, "not found", "text/plain; charset=utf-8")
                else:
                    self._send(200, found[0], found[1], cache=True)
                return
            if not path.endswith("/") and re.match(r"^/workflow/[^/]+$", path):
                path += "/"
            for pattern, fn in ROUTES:
                m = pattern.match(path)
                if m:
                    try:
                        with engine.connect() as conn:
                            body = fn(conn, query, *m.groups())
                        if isinstance(body, Json):
                            self._send(200, json.dumps(body.value, default=str), "application/json")
                        else:
                            self._send(200, body, cookie=cookie)
                    except NotFound as e:
                        self._send(404, r.page("Not found", f"<h1>Not found</h1><p>{r.esc(e)}</p>"))
                    except Exception as e:
                        logger.exception("error serving %s", self.path)
                        self._send(500, r.page("Error", f"<h1>Error</h1><p>{r.esc(type(e).__name__)}: "
                                                        f"{r.esc(e)}</p><p class='note'>Run with --debug "
                                                        f"for the traceback.</p>"))
                    return
            self._send(404, r.page("Not found", "<h1>Not found</h1><p><a href='/'>Workflows</a></p>"))

        def _send(self, code, body, ctype="text/html; charset=utf-8", cache=False, cookie=None):
            data = body.encode("utf-8") if isinstance(body, str) else body
            try:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Referrer-Policy", "no-referrer")
                if cookie:
                    self.send_header("Set-Cookie", cookie)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass              # the browser went away (a page left mid-refresh)

    return Handler


def make_read_engine(db_url: str):
    """Read-only engine; ``DatabaseUnusable`` (a ``FileNotFoundError`` for old callers is not
    kept: the message says what is wrong) when there is no monitoring database at the URL."""
    return open_read_engine(db_url)


class VisualizationServer:
    """Serves the web view of one database.  ``port=0`` picks a free port (see ``.port``).
    ``token``: require this access token (``token=True`` makes a random one)."""

    def __init__(self, db_url: str, host: str = "127.0.0.1", port: int = 8080, token=None):
        self.engine = make_read_engine(db_url)
        self.token: Optional[str] = secrets.token_urlsafe(24) if token is True else (token or None)
        try:
            self.httpd = ThreadingHTTPServer((host, port), make_handler(self.engine, self.token))
        except OSError:
            self.engine.dispose()
            raise
        self.httpd.daemon_threads = True
        bound_host, self.port = self.httpd.server_address[:2]
        # always a str for AF_INET/AF_INET6; the type also allows bytes
        self.host = bound_host if isinstance(bound_host, str) else bytes(bound_host).decode()
        self._thread: Optional[threading.Thread] = None
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def login_url(self) -> str:
        """The URL to open: with ``?token=`` when a token is required."""
        return self.url + (f"?token={self.token}" if self.token else "")

    def start(self) -> VisualizationServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="parsl-visualize", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(10)
        self.httpd.server_close()
        self.engine.dispose()


__all__ = ["VisualizationServer", "DatabaseUnusable", "make_read_engine"]
