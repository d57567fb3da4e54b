"""Monitoring radios (``parsl.monitoring.radios``): each delivers what its senders send to
the queue its receiver was given, and nothing else; configurations naming them work."""
import logging
import os
import pickle
import queue
import socket

import pytest

from parsl.monitoring.message_type import MessageType
from parsl.monitoring.radios.filesystem import FilesystemRadio
from parsl.monitoring.radios.htex import HTEXRadio
from parsl.monitoring.radios.multiprocessing import MultiprocessingQueueRadio
from parsl.monitoring.radios.threadpool import ThreadPoolRadio
from parsl.monitoring.radios.udp import UDPRadio
from parsl.multiprocessing import SpawnQueue

MSG = (MessageType.RESOURCE_INFO, {"task_id": 7, "psutil_process_time_user": 1.5})


def test_udp_delivers_signed_messages_and_drops_others(tmp_path):
    radio = UDPRadio(address="127.0.0.1")
    q = SpawnQueue()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=q)
    try:
        assert radio.port == receiver.port and radio.port > 0 and receiver.process.is_alive()
        # Datagrams from someone without the run's key are never unpickled.
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.sendto(b"\0" * 64 + pickle.dumps(("evil", "x" * 64)), ("127.0.0.1", radio.port))
        stranger.sendto(b"", ("127.0.0.1", radio.port))
        stranger.close()
        # A sender made from a pickled copy (as a worker on another host gets it) has the key.
        pickle.loads(pickle.dumps(radio)).create_sender().send(MSG)
        assert q.get(timeout=30) == MSG
    finally:
        receiver.shutdown()
    with pytest.raises(ValueError):
        receiver.process.exitcode            # the process is gone and released
    assert q.empty()
    log = (tmp_path / "monitoring_udp_router.log").read_text()
    assert "HMAC does not match" in log and "too short" in log


def test_udp_shutdown_takes_what_already_arrived(tmp_path):
    radio = UDPRadio(address="127.0.0.1")
    q = SpawnQueue()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=q)
    sender = radio.create_sender()
    for i in range(50):
        sender.send((MessageType.RESOURCE_INFO, {"i": i}))
    receiver.shutdown()
    assert sorted(q.get(timeout=30)[1]["i"] for _ in range(50)) == list(range(50))
    receiver.shutdown()     # idempotent


def test_udp_bad_configuration_says_what_to_change(tmp_path):
    with pytest.raises(ValueError, match="hmac_digest"):
        UDPRadio(address="127.0.0.1", hmac_digest="not-a-hash")
    with pytest.raises(ValueError, match="port"):
        UDPRadio(port=70000)
    with pytest.raises(RuntimeError, match="create_receiver"):
        UDPRadio(address="127.0.0.1").create_sender()
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("0.0.0.0", 0))
    try:
        with pytest.raises(OSError, match="cannot listen on UDP port"):
            UDPRadio(port=busy.getsockname()[1]).create_receiver(run_dir=str(tmp_path), resource_msgs=SpawnQueue())
    finally:
        busy.close()


def test_filesystem_radio_delivers_in_order_and_leaves_no_files(tmp_path):
    radio = FilesystemRadio()
    q = queue.Queue()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=q)
    sender = pickle.loads(pickle.dumps(radio)).create_sender()
    for i in range(5):
        sender.send((MessageType.RESOURCE_INFO, {"i": i}))
    receiver.shutdown()
    assert [q.get_nowait()[1]["i"] for _ in range(5)] == list(range(5))
    base = tmp_path / "monitor-fs-radio"
    assert os.listdir(base / "new") == [] and os.listdir(base / "tmp") == []


@pytest.mark.parametrize("radio_class", [MultiprocessingQueueRadio, ThreadPoolRadio])
def test_queue_radios_put_on_the_hub_queue(radio_class):
    radio = radio_class()
    with pytest.raises(RuntimeError, match="create_receiver"):
        radio.create_sender()
    q = queue.Queue()
    receiver = radio.create_receiver(run_dir=".", resource_msgs=q)
    radio.create_sender().send(MSG)
    receiver.shutdown()
    assert q.get_nowait() == MSG


def test_htex_radio_outside_a_worker_logs_and_drops(caplog):
    radio = HTEXRadio()
    receiver = radio.create_receiver(run_dir=".", resource_msgs=queue.Queue())
    with caplog.at_level(logging.ERROR):
        radio.create_sender().send(MSG)
    receiver.shutdown()
    assert "not inside an HTEX worker" in caplog.text


def test_the_hub_queue_forwards_messages_and_drops_the_rest(caplog):
    from parsl._sampling.adapter import CallableSink
    from parsl.monitoring.monitoring import MonitoringHub
    hub = MonitoringHub()
    got = []
    hub._started = True                  # what start() sets; send is the hub's sink
    hub._sink = CallableSink(lambda t, p: got.append((t, p)))
    with caplog.at_level(logging.ERROR):
        q = hub.resource_msgs
        assert hub.resource_msgs is q    # one queue, made on first use
        q.put("garbage")
        q.put((99, {}))
        q.put((MessageType.NODE_INFO.value, {"hostname": "h"}))
        hub._close_radio_queue()         # forwards everything queued before it returns
    assert got == [(MessageType.NODE_INFO, {"hostname": "h"})]
    assert caplog.text.count("dropped") == 2


def test_create_receiver_takes_its_arguments_by_position_too(tmp_path):
    q = SpawnQueue()
    radio = FilesystemRadio()
    receiver = radio.create_receiver(str(tmp_path), q)
    radio.create_sender().send(MSG)
    receiver.shutdown()
    assert q.get(timeout=30) == MSG
    q.close()
    q.join_thread()


@pytest.mark.parametrize("radio", [UDPRadio(address="127.0.0.1"), FilesystemRadio(), ThreadPoolRadio(),
                                   MultiprocessingQueueRadio()], ids=lambda r: type(r).__name__)
def test_a_receiver_without_a_queue_is_refused(radio, tmp_path):
    with pytest.raises(TypeError, match="resource_msgs"):
        radio.create_receiver(run_dir=str(tmp_path))
