"""The thread pool's radio: its tasks run in this process, so messages go on the queue."""
from parsl.monitoring.radios.base import NullReceiver, QueueRadio, QueueRadioSender


class ThreadPoolRadioSender(QueueRadioSender):
    pass


class ThreadPoolRadioReceiver(NullReceiver):
    pass


class ThreadPoolRadio(QueueRadio):
    sender_class = ThreadPoolRadioSender
    receiver_class = ThreadPoolRadioReceiver
