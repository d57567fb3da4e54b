"""HTEX's radio: from inside an HTEX worker, a message travels up the worker's result
channel (through its manager and the interchange) to the hub.  This is how Chervil's HTEX
workers always report; the class exists so configurations that name it work."""
from __future__ import annotations

import logging
from typing import Optional

from parsl.monitoring.radios.base import MonitoringRadioReceiver, MonitoringRadioSender, RadioConfig

logger = logging.getLogger(__name__)


class HTEXRadio(RadioConfig):
    #: messages travel with the executor's own traffic: no receiver to start
    in_band = True

    def create_sender(self) -> MonitoringRadioSender:
        return HTEXRadioSender()

    def create_receiver(self, run_dir: Optional[str] = None, resource_msgs=None, *,
                        ip: Optional[str] = None) -> MonitoringRadioReceiver:
        return HTEXRadioReceiver()      # the executor forwards what arrives on its channel

    def __repr__(self) -> str:
        return "HTEXRadio()"


class HTEXRadioSender(MonitoringRadioSender):
    def send(self, message: object) -> None:
        # At use: inside a worker this finds the running worker module (``worker.main``
        # registers it under its name); elsewhere there is nothing to send through.
        from parsl._htex import worker
        if worker._result_file is None:
            logger.error("HTEXRadio: not inside an HTEX worker; monitoring message dropped")
            return
        message_type: object
        payload: object
        try:
            message_type, payload = message  # type: ignore[misc]  # any object: a bad one is caught below
        except (TypeError, ValueError):
            logger.error("HTEXRadio: a message is a (MessageType, dict) pair; dropped %r", message)
            return
        worker.send_monitoring(message_type, payload)


class HTEXRadioReceiver(MonitoringRadioReceiver):
    def shutdown(self) -> None:
        pass
