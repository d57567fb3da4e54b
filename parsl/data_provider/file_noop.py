"""``NoOpFileStaging``: local files need no staging."""
from parsl.data_provider.staging import Staging


class NoOpFileStaging(Staging):
    def can_stage_in(self, file):
        return file.scheme == "file"

    def can_stage_out(self, file):
        return file.scheme == "file"

    def __repr__(self):
        return "NoOpFileStaging()"
