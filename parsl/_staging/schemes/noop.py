"""Local files (``file`` URLs and plain paths): nothing moves.

The data manager recognises ``NoOpFileStaging`` and hands the task the user's own File (the
fast path); no transfer is registered for ``file``.
"""
from __future__ import annotations

from parsl._base.files import File
from parsl._staging.base import Staging


class NoOpFileStaging(Staging):
    def can_stage_in(self, file: File) -> bool:
        return file.scheme == "file"

    def can_stage_out(self, file: File) -> bool:
        return file.scheme == "file"

    def __repr__(self) -> str:
        return "NoOpFileStaging()"


NoOpFileStaging.__module__ = "parsl.data_provider.file_noop"
