"""The thread pool's radio: its tasks run in this process, so messages go on the queue."""
from parsl.monitoring.radios.base import NullReceiver, QueueRadio, QueueRadioSender


class ThreadPoolRadioSender(QueueRadioSender):
    pass


class ThreadPoolRadioReceiver(NullReceiver):
    pass


class ThreadPoolRadio(QueueRadio):
    def create_sender(self):
        return ThreadPoolRadioSender(super().create_sender().queue)

    def create_receiver(self, run_dir: str = None, resource_msgs=None, *, ip: str = None):
        super().create_receiver(run_dir=run_dir, resource_msgs=resource_msgs)
        return ThreadPoolRadioReceiver()
