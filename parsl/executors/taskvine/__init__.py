from parsl.executors.unsupported import TaskVineExecutor

__all__ = ["TaskVineExecutor"]
