"""Globus staging (``parsl.data_provider.globus``): ``GlobusStaging`` and ``parsl-globus-auth``.

``globus://<endpoint uuid>/<path>`` files are moved by Globus Transfer between their
endpoint and the endpoint that serves the executor's ``working_dir``
(``GlobusStaging(endpoint_uuid, endpoint_path, local_path)``). Transfers run as tasks on the
DFK's internal executor in the submitting process: they only talk to Globus, and the data
goes straight from endpoint to endpoint. The scheme lives in ``parsl._staging.schemes.globus``.
"""
import sys

from parsl._staging.schemes.globus import (  # noqa: F401
    CLIENT_ID,
    GlobusAuthRequired,
    GlobusStaging,
    GlobusTransferError,
    cli_run,
    get_client,
    get_globus,
    load_tokens,
    sign_in,
    token_file,
)

__all__ = ["GlobusStaging", "get_globus", "cli_run", "GlobusTransferError"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(cli_run())
