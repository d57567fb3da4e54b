"""Provider decisions that need no DFK: which files each provider accepts, and errors."""
import pytest

from parsl.data_provider.files import File
from parsl.data_provider.ftp import FTPInTaskStaging, FTPSeparateTaskStaging
from parsl.data_provider.http import HTTPInTaskStaging, HTTPSeparateTaskStaging
from parsl.data_provider.rsync import RSyncStaging
from parsl.data_provider.zip import ZipAuthorityError, ZipFileStaging


@pytest.mark.parametrize("provider,url,stage_in,stage_out", [
    (HTTPSeparateTaskStaging(), "http://h/a", True, False),
    (HTTPSeparateTaskStaging(), "https://h/a", True, False),
    (HTTPInTaskStaging(), "https://h/a", True, False),
    (HTTPInTaskStaging(), "ftp://h/a", False, False),
    (FTPSeparateTaskStaging(), "ftp://h/a", True, False),
    (FTPInTaskStaging(), "http://h/a", False, False),
    (ZipFileStaging(), "zip:/a.zip/b", True, True),
    (ZipFileStaging(), "/a.zip", False, False),
    (RSyncStaging("me@h"), "/abs/file", True, True),
    (RSyncStaging("me@h"), "http://h/a", False, False),
])
def test_which_files_each_provider_takes(provider, url, stage_in, stage_out):
    f = File(url)
    assert provider.can_stage_in(f) is stage_in
    assert provider.can_stage_out(f) is stage_out


def test_zip_with_authority_is_refused():
    with pytest.raises(ZipAuthorityError, match="one slash after 'zip:'"):
        ZipFileStaging().can_stage_in(File("zip://host/a.zip/b"))


def test_rsync_needs_hostname():
    with pytest.raises(ValueError, match="needs the rsync host"):
        RSyncStaging("")


def test_globus_staging_constructs_without_sdk_or_network():
    from parsl.data_provider.globus import GlobusStaging
    g = GlobusStaging(endpoint_uuid="d59900ef-6d04-11e5-ba46-22000b92c6ec", endpoint_path="/", local_path="/")
    assert g.can_stage_in(File("globus://03d7d06a-cb6b-11e8-8c6a-0a1d4c5c824a/unsorted.txt"))
    assert g.can_stage_out(File("globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec/~/sorted.txt"))
    assert not g.can_stage_in(File("/local"))
    assert "endpoint_path='/'" in repr(g)
    with pytest.raises(ValueError, match="endpoint_uuid"):
        GlobusStaging(endpoint_uuid="")


def test_import_parsl_does_not_import_optional_modules():
    import subprocess
    import sys
    code = ("import sys, parsl.data_provider.globus, parsl.data_provider.http, parsl.data_provider.ftp; "
            "bad = [m for m in ('globus_sdk', 'requests', 'pyftpdlib') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
