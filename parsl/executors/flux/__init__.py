from parsl.executors.unsupported import FluxExecutor

__all__ = ["FluxExecutor"]
