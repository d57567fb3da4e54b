"""Staging machinery behind ``parsl.data_provider``: the data manager and one module per scheme.

- ``base``      the ``Staging`` provider interface, and the context a provider is handed
                (``StagingContext``; the kernel is seen only as the ``StagingKernel`` protocol)
- ``manager``   ``DataManager(dfk)``: picks a provider per File, submits staging tasks
                through ``dfk.submit``; ``default_staging``
- ``registry``  URL scheme -> ``Transfer`` (fetch, push, separate stage-in/out tasks)
- ``shapes``    the shared shapes: separate-task download, in-task download (and the
                picklable in-task wrapper base)
- ``atomic``    write-to-temp-then-rename, so a half-transferred file is never seen
- ``schemes/``  one module per scheme (noop, http, ftp, zip, rsync, globus), each holding
                its transfer code, its staging tasks and its providers

This package imports only ``parsl._base``, the standard library and third-party packages:
the kernel imports it, never the other way round.

Every failed transfer raises ``FileNotFoundError`` (Parsl's type) whose message names the
URL and the cause, so a user sees *what* could not be fetched and *why*.
"""
