"""Issue 18 item 8: the UDP radio refuses replayed signed datagrams and logs bad datagrams
as one summary line per interval, not one line each."""
import logging
import socket

from parsl.monitoring.message_type import MessageType
from parsl.monitoring.radios import udp_router
from parsl.monitoring.radios.udp import UDPRadio, UDPRadioSender
from parsl.monitoring.radios.udp_router import MAX_AGE_S, REPLAY_WINDOW, DropLog, ReplayGuard
from parsl.multiprocessing import SpawnQueue

MSG = (MessageType.RESOURCE_INFO, {"task_id": 3})


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_a_sequence_number_is_accepted_once_and_out_of_order_within_the_window():
    clock = Clock()
    g = ReplayGuard(clock)
    assert g.check(b"a" * 8, 5, clock.t) is None
    assert g.check(b"a" * 8, 5, clock.t) == "replayed"
    assert g.check(b"a" * 8, 3, clock.t) is None               # late, but not seen: fine
    assert g.check(b"b" * 8, 5, clock.t) is None               # another sender's 5
    assert g.check(b"a" * 8, 5 + REPLAY_WINDOW, clock.t) is None
    assert g.check(b"a" * 8, 4, clock.t) == "replayed"         # fell out of the window


def test_old_datagrams_are_refused_even_after_their_sender_is_forgotten():
    clock = Clock()
    g = ReplayGuard(clock)
    sent = clock.t
    assert g.check(b"a" * 8, 1, sent) is None
    clock.t += MAX_AGE_S + 1
    assert g.check(b"c" * 8, 1, clock.t) is None               # sweeps the silent sender away
    assert g.check(b"a" * 8, 1, sent) == "stale"
    assert g.check(b"a" * 8, 2, clock.t + MAX_AGE_S + 1) == "stale"   # from the future


def test_drops_are_summed_into_one_line_per_interval(caplog):
    clock = Clock()
    log = logging.getLogger("test.udp.drops")
    drops = DropLog(log, clock)
    with caplog.at_level(logging.INFO, logger="test.udp.drops"):
        for _ in range(10_000):
            drops.drop("hmac")
            drops.tick()
        drops.drop("short")
        clock.t += udp_router.LOG_INTERVAL_S
        drops.tick()
        drops.tick(force=True)                    # nothing new: nothing logged
    (line,) = [r.getMessage() for r in caplog.records]
    assert "dropped 10001 datagrams" in line and "10000 whose HMAC does not match" in line and "1 too short" in line


def test_a_captured_datagram_replayed_three_times_is_delivered_once(tmp_path):
    radio = UDPRadio(address="127.0.0.1")
    q = SpawnQueue()
    receiver = radio.create_receiver(run_dir=str(tmp_path), resource_msgs=q)
    tap = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tap.bind(("127.0.0.1", 0))
    tap.settimeout(10)
    try:
        UDPRadioSender("127.0.0.1", tap.getsockname()[1], hmac_key=radio.hmac_key).send(MSG)
        captured = tap.recv(65536)
        attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(3):
            attacker.sendto(captured, ("127.0.0.1", radio.port))
        radio.create_sender().send((MessageType.RESOURCE_INFO, {"task_id": 4}))   # an honest one
        got = [q.get(timeout=30), q.get(timeout=30)]
        for _ in range(300):      # (few enough that the socket's buffer keeps them all)
            attacker.sendto(b"\x00" * 200, ("127.0.0.1", radio.port))
        attacker.close()
    finally:
        tap.close()
        receiver.shutdown()
    assert sorted(m[1]["task_id"] for m in got) == [3, 4] and q.empty()
    lines = (tmp_path / "monitoring_udp_router.log").read_text().splitlines()
    drop_lines = [ln for ln in lines if "dropped" in ln]
    assert len(drop_lines) <= 2 and "replayed" in " ".join(drop_lines)
