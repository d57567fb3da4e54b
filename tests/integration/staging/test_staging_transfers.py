"""The transfer functions against real loopback servers (no DFK involved)."""
import threading
import zipfile

import pytest

from parsl._staging.schemes import ftp, http
from parsl._staging.schemes import zip as zipfiles

pytestmark = pytest.mark.network


def test_http_download(http_server, tmp_path):
    dest = tmp_path / "out" / "hello.txt"
    n = http.download(http_server.url("hello.txt"), str(dest))
    assert dest.read_text() == "hello from the server\n"
    assert n == dest.stat().st_size
    assert [p.name for p in dest.parent.iterdir()] == ["hello.txt"]  # no temp file left


def test_http_404_names_url_and_status(http_server, tmp_path):
    url = http_server.url("missing.txt")
    with pytest.raises(FileNotFoundError) as info:
        http.download(url, str(tmp_path / "dl" / "missing.txt"))
    assert url in str(info.value) and "404" in str(info.value)
    assert list((tmp_path / "dl").iterdir()) == []  # nothing half-written


def test_http_connection_refused(tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    url = f"http://127.0.0.1:{port}/x"
    with pytest.raises(FileNotFoundError, match="Connection ?Refused|refused") as info:
        http.download(url, str(tmp_path / "x"))
    assert url in str(info.value)


def test_https_with_trusted_self_signed_cert(https_server, tmp_path):
    dest = tmp_path / "hello.txt"
    http.download(https_server.url("hello.txt"), str(dest))
    assert dest.read_text() == "hello from the server\n"


def test_https_untrusted_cert_is_refused(https_server, tmp_path, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE")
    url = https_server.url("hello.txt")
    with pytest.raises(FileNotFoundError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed") as info:
        http.download(url, str(tmp_path / "hello.txt"))
    assert url in str(info.value)


def test_ftp_anonymous_and_user(ftp_server, tmp_path):
    ftp.download(ftp_server.url("numbers.txt"), str(tmp_path / "a.txt"))
    ftp.download(ftp_server.url("numbers.txt", login="user:secret@"), str(tmp_path / "b.txt"))
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    assert (tmp_path / "a.txt").read_text().splitlines()[-1] == "99"


def test_ftp_missing_file_names_url_and_reply(ftp_server, tmp_path):
    url = ftp_server.url("nope.txt")
    with pytest.raises(FileNotFoundError, match="550") as info:
        ftp.download(url, str(tmp_path / "dl" / "nope.txt"))
    assert url in str(info.value)
    import pickle
    assert str(pickle.loads(pickle.dumps(info.value))) == str(info.value)
    assert list((tmp_path / "dl").iterdir()) == []


def test_ftp_bad_password(ftp_server, tmp_path):
    url = ftp_server.url("numbers.txt", login="user:wrong@")
    with pytest.raises(FileNotFoundError, match="530"):
        ftp.download(url, str(tmp_path / "n.txt"))


def test_zip_concurrent_appends_keep_every_member(tmp_path):
    archive = str(tmp_path / "out.zip")
    sources = []
    for i in range(20):
        p = tmp_path / f"src{i}.txt"
        p.write_text(f"member {i}\n")
        sources.append(p)
    threads = [threading.Thread(target=zipfiles.append,
                                args=(archive, f"dir/m{i}.txt", str(p), f"zip:{archive}/dir/m{i}.txt"))
               for i, p in enumerate(sources)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == sorted(f"dir/m{i}.txt" for i in range(20))
        assert zf.read("dir/m7.txt") == b"member 7\n"
    assert not any(p.exists() for p in sources)  # loose files removed once archived


def test_zip_extract_and_missing_member(tmp_path):
    archive = str(tmp_path / "in.zip")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/b.txt", "inside\n")
    zipfiles.extract(archive, "a/b.txt", str(tmp_path / "w" / "a" / "b.txt"), "zip:" + archive + "/a/b.txt")
    assert (tmp_path / "w" / "a" / "b.txt").read_text() == "inside\n"
    with pytest.raises(FileNotFoundError, match="no member 'a/c.txt'"):
        zipfiles.extract(archive, "a/c.txt", str(tmp_path / "c.txt"), "zip:" + archive + "/a/c.txt")
    with pytest.raises(FileNotFoundError, match="nothere.zip"):
        zipfiles.extract(str(tmp_path / "nothere.zip"), "x", str(tmp_path / "x"), "zip:/nothere.zip/x")


def test_http_failure_pickles_for_the_trip_back_from_a_worker(http_server, tmp_path):
    import pickle
    with pytest.raises(FileNotFoundError) as info:
        http.download(http_server.url("missing.txt"), str(tmp_path / "m.txt"))
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value)
