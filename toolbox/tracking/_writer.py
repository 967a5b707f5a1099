"""The background metric writer: the training thread only enqueues.

``put`` appends one point to a bounded queue (it blocks while the queue is
full: back-pressure, never a dropped point). A daemon thread takes whatever
is queued (up to ``batch_size`` points) and inserts it in one transaction.
``flush`` returns once every point queued before it is committed (an
*acknowledged* batch), or raises the store's error; a batch that failed is
kept and written again before anything newer, so nothing logged before an
error is lost.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MetricWriter"]

Row = tuple[str, str, float, int, float]


class _Flush:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


_STOP = object()


class MetricWriter:
    """Batches metric points into ``write(rows)`` calls on a background thread.

    Parameters
    ----------
    write : callable
        ``write(rows)`` inserts a list of ``(run_id, key, value, step, timestamp)`` in one transaction.
    max_queue : int
        Points that may wait; ``put`` blocks beyond that.
    batch_size : int
        Most points per transaction.
    """

    def __init__(self, write: Callable[[Sequence[Row]], None], *, max_queue: int = 100_000,
                 batch_size: int = 20_000) -> None:
        self._write = write
        self._queue: queue.Queue[Any] = queue.Queue(max_queue)
        self.batch_size = batch_size
        self._pending: list[Row] = []  # a batch whose write failed; written again first
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.points_written = 0
        self.batches_written = 0

    # -- calling thread -------------------------------------------------------
    def put(self, row: Row) -> None:
        """Queue one point (blocks while the queue is full)."""
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._queue.put(row)

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every point queued so far is committed; raise the store error if it cannot be."""
        if self._thread is None or self._pid != os.getpid():
            if not self._pending:
                return
            self._start()
        marker = _Flush()
        self._queue.put(marker)
        if not marker.done.wait(timeout):
            raise TimeoutError(f"The tracking writer did not flush within {timeout} s.")
        if marker.error is not None:
            raise marker.error

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush and stop the thread (it starts again on the next ``put``)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid() or not thread.is_alive():
            return
        try:
            self.flush(timeout)
        finally:
            self._queue.put(_STOP)
            thread.join(timeout)
            self._thread = None

    @property
    def error(self) -> BaseException | None:
        """The last write error, if the latest write failed."""
        return self._error

    # -- writer thread ----------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's queue and thread are not ours
                self._queue = queue.Queue(self._queue.maxsize)
                self._pending = []
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="toolbox-tracking-writer", daemon=True)
                self._thread.start()

    def _commit(self) -> None:
        if not self._pending:
            return
        try:
            self._write(self._pending)
        except BaseException as exc:
            self._error = exc
            return
        self.points_written += len(self._pending)
        self.batches_written += 1
        self._pending = []
        self._error = None

    def _loop(self) -> None:
        q = self._queue
        while True:
            item = q.get()
            markers: list[_Flush] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                else:
                    self._pending.append(item)
                if len(self._pending) >= self.batch_size:
                    break
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            failed_before = self._error is not None
            self._commit()
            if self._error is not None and not failed_before and not markers:
                time.sleep(0.05)  # a failed write: retry soon, report it at the next flush
            for m in markers:
                if self._error is not None:  # one more try before reporting
                    self._commit()
                m.error = self._error
                m.done.set()
            if stop:
                return
