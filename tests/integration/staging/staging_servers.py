"""Real servers on loopback for staging tests: HTTP, HTTPS (self-signed), FTP.

Each server runs in one thread owned by an object with an idempotent ``close()``.
"""
from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
from functools import partial


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    # failures[path] = how many more requests for that path get a 503 first
    failures: dict = {}
    requests_seen: list = []

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        type(self).requests_seen.append(self.path)
        left = self.failures.get(self.path, 0)
        if left:
            self.failures[self.path] = left - 1
            self.send_error(503, "Flaky on purpose")
            return
        super().do_GET()


class HTTPFileServer:
    """Serve ``root`` over HTTP, or HTTPS with ``certfile``/``keyfile``."""

    def __init__(self, root: str, certfile: str = None, keyfile: str = None):
        handler_cls = type("Handler", (_QuietHandler,), {"failures": {}, "requests_seen": []})
        self.handler_cls = handler_cls
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler_cls, directory=root))
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"test-{self.scheme}-server", daemon=True)
        self._thread.start()
        self._closed = False

    def url(self, name: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{name}"

    def fail_next(self, name: str, times: int) -> None:
        self.handler_cls.failures["/" + name] = times

    def requests_for(self, name: str) -> int:
        return sum(1 for p in self.handler_cls.requests_seen if p == "/" + name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)


def make_self_signed_cert(directory: str):
    """A certificate for 127.0.0.1 made with the openssl command; returns (cert, key)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class FTPFileServer:
    """Serve ``root`` read-only to anonymous users (and ``user``/``secret``) over FTP."""

    def __init__(self, root: str):
        import logging
        import warnings
        with warnings.catch_warnings():
            # pyftpdlib is built on asyncore/asynchat, deprecated since Python 3.10
            warnings.simplefilter("ignore", DeprecationWarning)
            from pyftpdlib.authorizers import DummyAuthorizer
            from pyftpdlib.handlers import FTPHandler
            from pyftpdlib.servers import FTPServer
        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        auth = DummyAuthorizer()
        auth.add_anonymous(root)
        auth.add_user("user", "secret", root, perm="elr")
        handler = type("Handler", (FTPHandler,), {"authorizer": auth, "passive_ports": None})
        self.server = FTPServer(("127.0.0.1", 0), handler)
        self.port = self.server.address[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-ftp-server", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self):
        # pyftpdlib's loop is not thread-safe: step it here and close it from this thread
        try:
            while not self._stop.is_set():
                self.server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        finally:
            self.server.close_all()

    def url(self, name: str, login: str = "") -> str:
        return f"ftp://{login}127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._thread.join(10)
