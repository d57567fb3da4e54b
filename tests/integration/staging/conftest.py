"""Fixtures for staging integration tests: loopback servers with files to fetch."""
import os

import pytest

from staging_servers import FTPFileServer, HTTPFileServer, make_self_signed_cert


@pytest.fixture
def served_dir(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the server\n")
    (root / "numbers.txt").write_text("".join(f"{i}\n" for i in range(100)))
    return root


@pytest.fixture
def http_server(served_dir):
    server = HTTPFileServer(str(served_dir))
    yield server
    server.close()


@pytest.fixture
def https_server(served_dir, tmp_path, monkeypatch):
    cert, key = make_self_signed_cert(str(tmp_path))
    # the client trusts exactly this certificate, as a user with a site CA bundle would
    monkeypatch.setenv("SSL_CERT_FILE", cert)
    server = HTTPFileServer(str(served_dir), certfile=cert, keyfile=key)
    yield server
    server.close()


@pytest.fixture
def ftp_server(served_dir):
    server = FTPFileServer(str(served_dir))
    yield server
    server.close()
