"""Pure path decisions: local paths, zip URLs, Globus endpoint directories, FTP netlocs."""
import os
import pickle

import pytest

from parsl._staging import registry, shapes
from parsl._staging.schemes import ftp, globus, http, rsync, zip
from parsl._staging.schemes.globus import failure_reason


def test_local_path_for():
    assert shapes.local_path_for("a.txt", "/w") == os.path.join("/w", "a.txt")
    assert shapes.local_path_for("a.txt", None) == "a.txt"
    assert shapes.local_path_for("a.txt", "") == "a.txt"


@pytest.mark.parametrize("path,expected", [
    ("/a/b.zip/inner/file.txt", ("/a/b.zip", "inner/file.txt")),
    ("/b.zip/x", ("/b.zip", "x")),
    ("rel/c.zip/d/e.zip/f", ("rel/c.zip", "d/e.zip/f")),  # the first archive wins
])
def test_split_zip_path(path, expected):
    assert zip.split_zip_path(path) == expected


@pytest.mark.parametrize("path", ["/a/b/c.txt", "/a/b.zip", "/a/b.zip/"])
def test_split_zip_path_rejects(path):
    with pytest.raises(ValueError, match="zip:/path/to/archive.zip/member"):
        zip.split_zip_path(path)


def test_globus_endpoint_dir_mapping():
    # the tutorial's configuration: endpoint_path='/' and local_path='/' map paths unchanged
    assert globus.globus_endpoint_dir("/home/u/run", "/", "/") == "/home/u/run"
    # a collection rooted at /project, shown to Globus as /~/
    assert globus.globus_endpoint_dir("/project/run1", "/~/", "/project") == "/~/run1"
    assert globus.globus_endpoint_dir("/project", "/~/", "/project") == "/~/"
    assert globus.globus_endpoint_file("/project/a/b", "f.txt", "/data", "/project") == "/data/a/b/f.txt"
    # without both settings the endpoint sees local paths as they are
    assert globus.globus_endpoint_dir("/x/y", None, "/x") == "/x/y"
    assert globus.globus_endpoint_dir("/x/y", "/e", None) == "/x/y"


def test_globus_working_dir_outside_local_path():
    with pytest.raises(ValueError, match="not inside local_path '/project'"):
        globus.globus_endpoint_dir("/projectX/run", "/", "/project")


@pytest.mark.parametrize("netloc,expected", [
    ("host", ("host", 21, "anonymous", "anonymous@")),
    ("host:2121", ("host", 2121, "anonymous", "anonymous@")),
    ("me:pw@host:2121", ("host", 2121, "me", "pw")),
    ("me@host", ("host", 21, "me", "")),
    ("[::1]:2121", ("::1", 2121, "anonymous", "anonymous@")),
])
def test_ftp_parts(netloc, expected):
    assert ftp.ftp_parts(netloc) == expected


def test_globus_failure_reason_uses_globus_words():
    task = {"status": "FAILED", "fatal_error": {"code": "PERMISSION_DENIED", "description": "no write access"}}
    events = [{"code": "PERMISSION_DENIED", "description": "permission denied", "details": "/~/x: EACCES"}]
    text = failure_reason(task, events)
    assert "PERMISSION_DENIED no write access" in text and "/~/x: EACCES" in text
    assert failure_reason({"status": "FAILED", "nice_status_short_description": "expired"}, []) == "expired"
    assert failure_reason({"status": "FAILED"}, []) == "no reason given"


def _double(x):
    return 2 * x


def test_wrappers_pickle_and_keep_name(tmp_path):
    from parsl.data_provider.files import File
    f = File("http://example.invalid/a.txt")
    f.local_path = str(tmp_path / "a.txt")
    w = shapes.StageInThenRun(_double, f, str(tmp_path), http.fetch)
    w2 = pickle.loads(pickle.dumps(w))
    assert w2.__name__ == "_double" and w2.file.local_path == f.local_path and w2.fetch is http.fetch
    r = rsync.RunThenRsyncOut(_double, "file:///x", "h:/x", "/l/x", None)
    r2 = pickle.loads(pickle.dumps(r))
    assert (r2.remote, r2.local_path, r2.__name__) == ("h:/x", "/l/x", "_double")


def test_fetch_rejects_unknown_scheme():
    from parsl.data_provider.files import File
    with pytest.raises(ValueError, match="no fetch for scheme 'gopher'"):
        registry.fetch(File("gopher://h/x"))


def test_nested_wrappers_run_in_order(tmp_path):
    calls = []

    class Probe(rsync.RsyncInThenRun):
        def __call__(self, *a, **k):
            calls.append(self.url)
            return self.func(*a, **k)

    inner = Probe(_double, "inner", "h:/i", "/l/i", None)
    outer = Probe(inner, "outer", "h:/o", "/l/o", None)
    assert outer(21) == 42 and calls == ["outer", "inner"]
    assert outer.__wrapped__ is inner and outer.__name__ == "_double"
