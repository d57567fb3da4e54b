"""Transfer machinery behind ``parsl.data_provider``: one module per scheme.

The public staging providers (``parsl.data_provider.http`` etc.) decide *when* a file
moves (a separate task, or inside the app's own task); the modules here decide *how*:

- ``paths``    pure path arithmetic (local paths, zip URLs, Globus endpoint dirs)
- ``atomic``   write-to-temp-then-rename, so a half-transferred file is never seen
- ``http``     HTTP/HTTPS download with ``urllib`` (no extra dependency)
- ``ftp``      FTP download with ``ftplib``
- ``zipfiles`` extract from / append to a zip archive under a file lock
- ``rsync``    pull/push a file with ``rsync`` over ssh
- ``globus``   Globus Transfer: auth with token cache, submit, wait, report
- ``tasks``    the functions that run as separate staging tasks or wrap an app

Every failed transfer raises ``FileNotFoundError`` (Parsl's type) whose message names the
URL and the cause, so a user sees *what* could not be fetched and *why*.
"""
