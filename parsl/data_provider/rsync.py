"""rsync staging (``parsl.data_provider.rsync``): ``RSyncStaging(hostname)``.

For workers that do not share a file system with the submitting host: a ``file`` path
names a file on ``hostname`` (usually the submit host, ``user@host``); the app's task pulls
it with rsync before running and pushes outputs back after. ssh must reach ``hostname``
from the workers without a password; ``RSYNC_RSH`` selects the ssh command.
Put it before ``NoOpFileStaging`` in ``storage_access`` (the first provider that accepts a
file wins), e.g. ``storage_access=[RSyncStaging('me@login1')]``. The scheme lives in
``parsl._staging.schemes.rsync``.
"""
from parsl._staging.schemes.rsync import RSyncStaging

__all__ = ["RSyncStaging"]
