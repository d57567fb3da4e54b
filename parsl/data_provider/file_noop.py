"""``NoOpFileStaging``: local files need no staging (``parsl._staging.schemes.noop``)."""
from parsl._staging.schemes.noop import NoOpFileStaging

__all__ = ["NoOpFileStaging"]
