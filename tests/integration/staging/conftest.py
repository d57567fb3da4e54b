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


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="session")
def sshd():
    """A key-only sshd on loopback (``.ci/sshd-up.sh``), stopped at the end of the session.

    Yields the ssh command rsync should use (for ``RSYNC_RSH``); the host is ``testhost``.
    """
    import shutil
    import socket
    import subprocess
    if os.geteuid() != 0 or not os.path.exists("/usr/sbin/sshd") or shutil.which("rsync") is None:
        pytest.skip("needs root, /usr/sbin/sshd and rsync (.ci/sshd-up.sh installs them)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # our own directory and port, so parallel test runs of other areas keep theirs
    env = dict(os.environ, SSHD_DIR=f"/run/chervil-staging-sshd-{os.getpid()}", SSHD_PORT=str(port))
    subprocess.run([os.path.join(REPO, ".ci", "sshd-up.sh")], env=env, check=True, capture_output=True,
                   timeout=120)
    try:
        yield f"ssh -F {env['SSHD_DIR']}/ssh_config"
    finally:
        subprocess.run([os.path.join(REPO, ".ci", "sshd-down.sh")], env=env, capture_output=True, timeout=60)
        shutil.rmtree(env["SSHD_DIR"], ignore_errors=True)




@pytest.fixture
def globus(tmp_path, monkeypatch):
    """The Globus stand-in with three endpoints, the SDK pointed at it, a fresh HOME."""
    pytest.importorskip("globus_sdk")
    import json

    from parsl._staging.schemes import globus as machinery

    from globus_standin import DEST_EP, LOCAL_EP, PETREL_EP, GlobusStandIn
    petrel = tmp_path / "petrel"
    dest = tmp_path / "dest-endpoint"
    petrel.mkdir()
    dest.mkdir()
    (petrel / "unsorted.txt").write_text("pear\napple\nfig\nbanana\n")
    standin = GlobusStandIn({LOCAL_EP: "/", PETREL_EP: str(petrel), DEST_EP: str(dest)})
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_TRANSFER", standin.url)
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_AUTH", standin.url)
    standin.petrel, standin.dest, standin.home = petrel, dest, home

    def sign_in_before():  # as if `parsl-globus-auth` had been run
        (home / ".parsl").mkdir(exist_ok=True)
        (home / ".parsl" / ".globus.json").write_text(json.dumps(standin.token_file_content()))
    standin.sign_in_before = sign_in_before
    machinery.reset_client()
    yield standin
    machinery.reset_client()
    standin.close()
