"""Globus staging with the real globus-sdk client against a local Transfer/Auth stand-in."""
import io
import json
import os
import stat

import pytest

import parsl
from parsl.app.app import bash_app, python_app
from parsl.config import Config
from parsl.data_provider.data_manager import default_staging
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor

from globus_standin import DEST_EP, GOOD_CODE, LOCAL_EP, PETREL_EP

pytestmark = pytest.mark.network


@python_app
def sort_lines(inputs=(), outputs=()):
    with open(inputs[0]) as src:
        lines = sorted(src.readlines())
    with open(outputs[0].filepath, "w") as dst:
        dst.writelines(lines)
    return len(lines)


@bash_app
def sort_bash(inputs=(), outputs=()):
    return f"sort {inputs[0].filepath} > {outputs[0].filepath}"


@pytest.fixture
def globus_dfk(globus, tmp_path):
    from parsl.data_provider.globus import GlobusStaging
    work = tmp_path / "work"
    cfg = Config(executors=[ThreadPoolExecutor(
        label="threads", working_dir=str(work),
        storage_access=default_staging + [GlobusStaging(endpoint_uuid=LOCAL_EP, endpoint_path="/",
                                                        local_path="/")])],
        run_dir=str(tmp_path / "runinfo"))
    dfk = parsl.load(cfg)
    yield dfk
    dfk.cleanup()
    parsl.clear()


@pytest.mark.parametrize("app", [sort_lines, sort_bash])
def test_stage_in_and_out(globus, globus_dfk, tmp_path, app):
    globus.sign_in_before()
    src = File(f"globus://{PETREL_EP}/unsorted.txt")
    out = File(f"globus://{DEST_EP}/~/sorted.txt")
    fut = app(inputs=[src], outputs=[out])
    fut.result()
    fut.outputs[0].result()  # done only when the transfer to the destination has finished
    assert (globus.dest / "sorted.txt").read_text() == "apple\nbanana\nfig\npear\n"
    work = str(tmp_path / "work")
    assert globus.transfers == [
        (PETREL_EP, "/unsorted.txt", LOCAL_EP, f"{work}/unsorted.txt"),
        (LOCAL_EP, f"{work}/sorted.txt", DEST_EP, "/~/sorted.txt"),
    ]
    # the expired access token was refreshed once, and the new one cached for next time
    assert globus.refreshes == 1
    cached = json.loads((globus.home / ".parsl" / ".globus.json").read_text())
    assert cached["transfer.api.globus.org"]["access_token"] in globus.valid_access


def test_missing_source_fails_with_globus_message(globus, globus_dfk):
    globus.sign_in_before()
    url = f"globus://{PETREL_EP}/not-there.txt"
    fut = sort_lines(inputs=[File(url)], outputs=[File(f"globus://{DEST_EP}/~/x.txt")])
    with pytest.raises(Exception) as info:
        fut.result()
    text = str(info.value)
    assert url in text and "FILE_NOT_FOUND" in text and "not-there.txt not found on endpoint" in text
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(Exception, match="FILE_NOT_FOUND"):
        fut.outputs[0].result()  # the stage-out never ran


def test_unknown_endpoint_shows_api_error(globus, globus_dfk):
    globus.sign_in_before()
    url = "globus://11111111-2222-3333-4444-555555555555/a.txt"
    with pytest.raises(Exception, match="404 EndpointNotFound No such endpoint") as info:
        sort_lines(inputs=[File(url)], outputs=[File(f"globus://{DEST_EP}/~/y.txt")]).result()
    assert url in str(info.value)


def test_waits_while_task_is_active(globus):
    from parsl._staging.schemes.globus import get_client
    globus.sign_in_before()
    globus.active_polls = 1
    (globus.petrel / "a.txt").write_text("a\n")
    get_client().transfer_file(PETREL_EP, DEST_EP, "/a.txt", "/~/copied/a.txt", "globus://x/a.txt", "in")
    assert (globus.dest / "copied" / "a.txt").read_text() == "a\n"


def test_working_dir_required(globus, tmp_path):
    from parsl.data_provider.globus import GlobusStaging
    globus.sign_in_before()
    cfg = Config(executors=[ThreadPoolExecutor(label="threads", storage_access=[GlobusStaging(LOCAL_EP)])],
                 run_dir=str(tmp_path / "runinfo"))
    dfk = parsl.load(cfg)
    try:
        with pytest.raises(ValueError, match="needs a working_dir on executor 'threads'"):
            sort_lines(inputs=[File(f"globus://{PETREL_EP}/unsorted.txt")], outputs=[])
    finally:
        dfk.cleanup()
        parsl.clear()


def test_cli_signs_in_and_caches_tokens(globus, monkeypatch, capsys):
    from parsl.data_provider.globus import cli_run
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD_CODE + "\n"))
    assert cli_run([]) == 0
    out = capsys.readouterr().out
    assert "client_id=8b8060fd-610e-4a74-885e-1051c71ad473" in out and "Authorization complete" in out
    path = globus.home / ".parsl" / ".globus.json"
    tokens = json.loads(path.read_text())
    assert tokens["transfer.api.globus.org"]["refresh_token"] in globus.refresh_tokens
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cli_run([]) == 0
    assert "Already authorized" in capsys.readouterr().out
    # the cached tokens work for a transfer without any prompt
    from parsl._staging.schemes.globus import get_client
    get_client().transfer_file(PETREL_EP, DEST_EP, "/unsorted.txt", "/~/u.txt", "globus://x/u", "in")
    assert (globus.dest / "u.txt").exists()


def test_cli_bad_code_reports_globus_error(globus, monkeypatch, capsys):
    from parsl.data_provider.globus import cli_run
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-code\n"))
    assert cli_run([]) == 1
    assert "refused the authorization code" in capsys.readouterr().err
    assert not (globus.home / ".parsl" / ".globus.json").exists()


def test_no_tokens_and_no_stdin_says_run_parsl_globus_auth(globus, monkeypatch):
    from parsl._staging.schemes.globus import GlobusAuthRequired, get_client
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(GlobusAuthRequired, match="parsl-globus-auth"):
        get_client()
