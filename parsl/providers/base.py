"""The provider interface (Parsl's ``ExecutionProvider``) at Parsl's import path.

A provider turns "start a block running this command" into a batch job (or a local
process) and reports its state.  Block executors call ``submit``/``status``/``cancel``.
"""
from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, Dict, List, Optional

from parsl._base.job_states import JobStatus


class ExecutionProvider(metaclass=ABCMeta):
    """Subclasses set these in ``__init__`` (Parsl's names)."""

    min_blocks: int = 0
    max_blocks: int = 1
    init_blocks: int = 1
    nodes_per_block: int = 1
    parallelism: float = 1
    script_dir: Optional[str] = None
    #: Set by providers that know the node shape; used to compute workers per node.
    cores_per_node: Optional[int] = None
    mem_per_node: Optional[float] = None

    def __init__(self) -> None:
        self.resources: Dict[Any, Dict[str, Any]] = {}

    @abstractmethod
    def submit(self, command: str, tasks_per_node: int, job_name: str = "parsl.auto") -> Any:
        """Start a block running ``command``; return its job id (falsy means failure)."""

    @abstractmethod
    def status(self, job_ids: List[Any]) -> List[JobStatus]:
        """The status of each job id, in order."""

    @abstractmethod
    def cancel(self, job_ids: List[Any]) -> List[bool]:
        """Cancel jobs; one bool per id."""

    @property
    @abstractmethod
    def label(self) -> str:
        ...

    @property
    @abstractmethod
    def status_polling_interval(self) -> float:
        """Seconds between ``status`` calls by the job status poller."""

    def get_usage_information(self) -> dict:
        return {}

    def __repr__(self):
        return f"<{type(self).__name__} init_blocks={self.init_blocks} max_blocks={self.max_blocks}>"


class Channeled:
    """Mixin kept for Parsl compatibility: providers that once took a ``channel``."""

    channel = None


class MultiChanneled(Channeled):
    channels: list = []
