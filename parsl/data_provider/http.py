"""HTTP/HTTPS stage-in (``parsl.data_provider.http``).

``HTTPSeparateTaskStaging`` downloads in a task of its own on the app's executor, so the
app's worker must see the same file system (the download lands in ``working_dir``).
``HTTPInTaskStaging`` downloads inside the app's own task, just before the app runs; no
shared file system is needed. Certificates are verified; point ``SSL_CERT_FILE`` at a CA
bundle for self-signed or site certificates. The scheme lives in ``parsl._staging.schemes.http``.
"""
from parsl._staging.schemes.http import HTTPInTaskStaging, HTTPSeparateTaskStaging

__all__ = ["HTTPSeparateTaskStaging", "HTTPInTaskStaging"]
