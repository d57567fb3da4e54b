"""The tutorial's Globus cells (notebook 2, section 4), run as the notebook has them.

The only edit is the one the tutorial asks of its reader: filling in ``local_endpoint``.
The Globus service is the local stand-in (the SDK is pointed at it), where the tutorial's
endpoints are directories: Petrel's holds ``unsorted.txt``; the local endpoint sees this
host's file system as it is (``endpoint_path='/'``, ``local_path='/'``).
"""
import contextlib
import io

import pytest

import parsl

from globus_standin import LOCAL_EP

pytestmark = pytest.mark.network

CONFIG_CELL = '''\
import parsl
from parsl.app.app import python_app, bash_app
from parsl.data_provider.files import File
from parsl.config import Config
from parsl.data_provider.globus import GlobusStaging
from parsl.data_provider.data_manager import default_staging
from parsl.executors.threads import ThreadPoolExecutor
import os

# Local endpoint used to transfer Globus file in for processing
local_endpoint = '' # Insert your endpoint ID here

dest_endpoint = 'ddb59aef-6d04-11e5-ba46-22000b92c6ec' # Destination for sorted file

if not local_endpoint:
    print("You must specify a local endpoint")

else:
    config = Config(
        executors=[
            ThreadPoolExecutor(
                label='local_threads_globus',
                working_dir=os.getcwd(), # Update to your working directory
                storage_access=default_staging + [GlobusStaging(
                    endpoint_uuid=local_endpoint,
                    endpoint_path='/',
                    local_path='/'
                )],
            )
        ],
    )

    parsl.load(config)
'''

SORT_CELL = '''\
@python_app
def sort_strings(inputs=[], outputs=[]):
    with open(inputs[0], 'r') as u:
        strs = u.readlines()
        strs.sort()
        with open(outputs[0].filepath, 'w') as s:
            for e in strs:
                s.write(e)

# Remote unsorted file stored on the Globus-accesible Petrel data service
unsorted_globus_file = File('globus://03d7d06a-cb6b-11e8-8c6a-0a1d4c5c824a/unsorted.txt')

# Location to send the sorted file after processing
sorted_globus_file = File('globus://%s/~/sorted.txt' % dest_endpoint)

f = sort_strings(inputs=[unsorted_globus_file], outputs=[sorted_globus_file])
print (f.result())
'''


def run_cell(source, namespace):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "<tutorial cell>", "exec"), namespace)
    return out.getvalue()


def test_config_cell_without_endpoint_only_prints_the_hint(globus):
    ns = {}
    assert run_cell(CONFIG_CELL, ns) == "You must specify a local endpoint\n"
    assert "config" not in ns


def test_sort_strings_cell_end_to_end(globus):
    globus.sign_in_before()
    ns = {}
    cell = CONFIG_CELL.replace("local_endpoint = ''", f"local_endpoint = '{LOCAL_EP}'")
    try:
        assert run_cell(cell, ns) == ""
        assert run_cell(SORT_CELL, ns) == "None\n"
        # as in Parsl, the app's result does not wait for the stage-out; its DataFuture does
        ns["f"].outputs[0].result()
    finally:
        parsl.dfk().cleanup()
        parsl.clear()
    assert (globus.dest / "sorted.txt").read_text() == "apple\nbanana\nfig\npear\n"
