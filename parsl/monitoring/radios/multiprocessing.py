"""A radio for the submit side: senders put messages straight on the hub's queue (in this
process, or in a child started with that queue)."""
from parsl.monitoring.radios.base import NullReceiver, QueueRadio, QueueRadioSender


class MultiprocessingQueueRadioSender(QueueRadioSender):
    pass


class MultiprocessingQueueRadioReceiver(NullReceiver):
    pass


class MultiprocessingQueueRadio(QueueRadio):
    def create_sender(self):
        return MultiprocessingQueueRadioSender(super().create_sender().queue)

    def create_receiver(self, run_dir: str = None, resource_msgs=None, *, ip: str = None):
        super().create_receiver(run_dir=run_dir, resource_msgs=resource_msgs)
        return MultiprocessingQueueRadioReceiver()
