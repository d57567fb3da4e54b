"""cleanup() lets a separate stage-out transfer whose app has finished complete (nothing lost)."""
import threading

import parsl
from parsl.app.app import python_app
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.data_provider.staging import Staging
from parsl.executors.threads import ThreadPoolExecutor

RELEASE = threading.Event()


def _deliver(marker, parent=None, _parsl_staging_inhibit=True):
    # the transfer is still going on when the user calls cleanup()
    RELEASE.wait(30)
    with open(marker, "w") as f:
        f.write("delivered")


class SlowDelivery(Staging):
    def __init__(self, marker):
        self.marker = marker

    def can_stage_out(self, file):
        return file.scheme == "slow"

    def stage_out(self, dm, executor, file, app_fu):
        deliver = python_app(_deliver, executors=["_parsl_internal"], data_flow_kernel=dm.dfk)
        return deliver(self.marker, parent=app_fu)


@python_app
def produce(outputs=()):
    return "made"


def test_cleanup_waits_for_in_flight_stage_out(tmp_path):
    marker = tmp_path / "delivered.txt"
    RELEASE.clear()
    ex = ThreadPoolExecutor(label="t", storage_access=[SlowDelivery(str(marker))])
    dfk = parsl.load(Config(executors=[ex]))
    fut = produce(outputs=[File("slow://somewhere/out.txt")])
    assert fut.result() == "made"
    out = fut.outputs[0]
    assert not out.done()          # the app is done, its output is still on the way
    closer = threading.Thread(target=dfk.cleanup)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive(), "cleanup() returned while an output was still being delivered"
    RELEASE.set()
    closer.join(30)
    assert marker.read_text() == "delivered"
    assert out.done() and out.exception() is None
