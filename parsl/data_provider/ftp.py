"""FTP stage-in (``parsl.data_provider.ftp``): the same two shapes as HTTP, with ``ftplib``.

``ftp://[user[:password]@]host[:port]/path``; anonymous login when no user is given. The
scheme lives in ``parsl._staging.schemes.ftp``.
"""
from parsl._staging.schemes.ftp import FTPInTaskStaging, FTPSeparateTaskStaging

__all__ = ["FTPSeparateTaskStaging", "FTPInTaskStaging"]
