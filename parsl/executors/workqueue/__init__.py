from parsl.executors.unsupported import WorkQueueExecutor

__all__ = ["WorkQueueExecutor"]
