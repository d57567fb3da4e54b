"""``DataFuture``: the future of a file an app reads or writes (``parsl.app.futures``)."""
from __future__ import annotations

from parsl._core.lightfuture import LightFuture


class DataFuture(LightFuture):
    """Completes, with its File as the result, when its parent future completes.

    If the parent fails, the DataFuture fails with the parent's exception.
    """

    __slots__ = ("file_obj", "parent", "_tid")

    def __init__(self, fut, file_obj, tid=None):
        LightFuture.__init__(self)
        from parsl._base.files import File
        if not isinstance(file_obj, File):
            raise ValueError(f"DataFuture needs a File, got {type(file_obj).__name__}")
        self.file_obj = file_obj
        self.parent = fut
        self._tid = tid
        if fut is not None:
            fut.add_done_callback(self._parent_done)

    def _parent_done(self, parent):
        if self.done():
            return
        if parent.cancelled():
            self._cancel_now()
            return
        exc = parent.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.set_result(self.file_obj)

    @property
    def tid(self):
        return self._tid

    @property
    def filepath(self):
        return self.file_obj.filepath

    @property
    def filename(self):
        return self.filepath

    def cancel(self):
        return False

    def __repr__(self):
        base = LightFuture.__repr__(self)[:-1]
        return f"{base} file={self.file_obj.url!r} task_id={self._tid}>"
