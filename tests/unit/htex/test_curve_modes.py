"""CurveZMQ keys are private to their owner (issue 18, item 8)."""
import os
import stat

import pytest
import zmq

from parsl._htex import curve


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_secret_keys_are_written_0600_in_a_0700_directory(tmp_path):
    d = curve.create_certificates(str(tmp_path / "certificates"))
    assert mode(d) == 0o700
    for name in ("server", "client"):
        assert mode(os.path.join(d, f"{name}.key_secret")) == 0o600


def test_loading_tightens_a_loose_directory_and_key_of_ours(tmp_path, caplog):
    d = curve.create_certificates(str(tmp_path / "certificates"))
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "client.key_secret"), 0o644)
    ctx = zmq.Context()
    try:
        sock = ctx.socket(zmq.DEALER)
        curve.configure_client(sock, d)
        sock.close(0)
    finally:
        ctx.term()
    assert mode(d) == 0o700 and mode(os.path.join(d, "client.key_secret")) == 0o600
    assert "readable by others" in caplog.text


def test_a_loose_key_of_another_user_is_refused_with_the_fix(tmp_path, monkeypatch):
    d = curve.create_certificates(str(tmp_path / "certificates"))
    os.chmod(d, 0o755)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(d).st_uid + 1)
    with pytest.raises(RuntimeError, match=r"readable by others \(mode 755\).*chmod 700"):
        curve._load(d, "server")
