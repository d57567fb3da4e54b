"""A radio for the submit side: senders put messages straight on the hub's queue (in this
process, or in a child started with that queue)."""
from parsl.monitoring.radios.base import NullReceiver, QueueRadio, QueueRadioSender


class MultiprocessingQueueRadioSender(QueueRadioSender):
    pass


class MultiprocessingQueueRadioReceiver(NullReceiver):
    pass


class MultiprocessingQueueRadio(QueueRadio):
    sender_class = MultiprocessingQueueRadioSender
    receiver_class = MultiprocessingQueueRadioReceiver
