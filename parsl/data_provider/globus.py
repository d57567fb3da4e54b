"""Globus staging (``parsl.data_provider.globus``): ``GlobusStaging`` and ``parsl-globus-auth``.

``globus://<endpoint uuid>/<path>`` files are moved by Globus Transfer between their
endpoint and the endpoint that serves the executor's ``working_dir``
(``GlobusStaging(endpoint_uuid, endpoint_path, local_path)``). Transfers run as tasks on the
DFK's internal executor in the submitting process: they only talk to Globus, and the data
goes straight from endpoint to endpoint.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

from parsl._staging import submit
from parsl._staging.globus import (CLIENT_ID, GlobusAuthRequired, GlobusTransferError,  # noqa: F401
                                   get_client, load_tokens, sign_in, token_file)
from parsl._staging.paths import globus_endpoint_file
from parsl.data_provider.staging import Staging

__all__ = ["GlobusStaging", "get_globus", "cli_run", "GlobusTransferError"]


def get_globus():
    """The process's authorized Globus client (signs in on first use). It has
    ``transfer_client`` and ``transfer_file(src_ep, dst_ep, src_path, dst_path, url, direction)``."""
    return get_client()


def _stage_in_transfer(src_ep, src_path, dst_ep, dst_path, url, parent_fut=None, outputs=(),
                       _parsl_staging_inhibit=True):
    get_client().transfer_file(src_ep, dst_ep, src_path, dst_path, url, "in")


def _stage_out_transfer(src_ep, src_path, dst_ep, dst_path, url, parent_fut=None, inputs=(),
                        _parsl_staging_inhibit=True):
    get_client().transfer_file(src_ep, dst_ep, src_path, dst_path, url, "out")


class GlobusStaging(Staging):
    """Stage ``globus://`` files through the Globus endpoint ``endpoint_uuid``.

    ``endpoint_path``/``local_path``: the endpoint shows local directory ``local_path`` as
    ``endpoint_path`` (e.g. a guest collection rooted somewhere). Without them the endpoint is
    taken to see local paths unchanged. The executor must set ``working_dir`` (under
    ``local_path``); staged files are placed there.
    """

    def __init__(self, endpoint_uuid: str, endpoint_path: Optional[str] = None,
                 local_path: Optional[str] = None):
        if not isinstance(endpoint_uuid, str) or not endpoint_uuid:
            raise ValueError(f"GlobusStaging(endpoint_uuid=...) needs the id of the Globus endpoint "
                             f"that serves the executor's working_dir; got {endpoint_uuid!r}")
        self.endpoint_uuid = endpoint_uuid
        self.endpoint_path = endpoint_path
        self.local_path = local_path

    def can_stage_in(self, file) -> bool:
        return file.scheme == "globus"

    def can_stage_out(self, file) -> bool:
        return file.scheme == "globus"

    def _place(self, dm, executor, file) -> str:
        """Set ``file.local_path`` and return the file's path as our endpoint names it."""
        label, ex = submit.executor_of(dm, executor)
        working_dir = getattr(ex, "working_dir", None)
        if not working_dir:
            raise ValueError(f"GlobusStaging needs a working_dir on executor {label!r} (the directory "
                             "the Globus endpoint writes into): set working_dir=... on the executor")
        file.local_path = os.path.join(working_dir, file.filename)
        # sign in now, in the caller's thread, so that a first-time prompt appears at the
        # app call rather than inside a background task
        get_client()
        return globus_endpoint_file(working_dir, file.filename, self.endpoint_path, self.local_path)

    def stage_in(self, dm, executor, file, parent_fut):
        endpoint_file = self._place(dm, executor, file)
        app = submit.staging_app(dm, _stage_in_transfer, submit.INTERNAL_EXECUTOR)
        fut = app(file.netloc, file.path, self.endpoint_uuid, endpoint_file, file.url,
                  outputs=[file], _parsl_staging_inhibit=True, parent_fut=parent_fut)
        return submit.data_future(fut, file)

    def stage_out(self, dm, executor, file, app_fu):
        endpoint_file = self._place(dm, executor, file)
        app = submit.staging_app(dm, _stage_out_transfer, submit.INTERNAL_EXECUTOR)
        return app(self.endpoint_uuid, endpoint_file, file.netloc, file.path, file.url,
                   inputs=[file], _parsl_staging_inhibit=True, parent_fut=app_fu)

    def __repr__(self):
        return (f"GlobusStaging(endpoint_uuid={self.endpoint_uuid!r}, "
                f"endpoint_path={self.endpoint_path!r}, local_path={self.local_path!r})")


def cli_run(argv=None) -> int:
    """``parsl-globus-auth``: sign in to Globus now so that later runs need no prompt."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="parsl-globus-auth",
        description="Authorize Parsl to use Globus Transfer on your behalf. Tokens are kept in "
                    f"{token_file()} and refreshed automatically.")
    parser.add_argument("--force", action="store_true",
                        help="sign in again even if tokens are already cached")
    args = parser.parse_args(argv)
    print("Parsl Globus command-line authorizer")
    if load_tokens() is not None and not args.force:
        print(f"Already authorized: tokens are cached in {token_file()} (use --force to sign in again)")
        return 0
    try:
        sign_in()
    except GlobusAuthRequired as exc:
        print(f"Authorization failed: {exc}", file=sys.stderr)
        return 1
    print(f"Authorization complete; tokens saved in {token_file()}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli_run())
