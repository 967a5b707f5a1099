"""CPU parallelism without OpenMP spin-waits: a shared thread pool for GIL-free kernels, and BLAS limits (layer 1).

Two tools, used by the NumPy/numba fast paths:

- :func:`parallel_map` runs ``fn(0..n-1)`` on a small shared pool of Python
  threads plus the caller. ``fn`` must release the GIL (a ``numba.njit(nogil=True)``
  kernel, a BLAS call). Parts are handed out dynamically and each writes its own
  output slot, so results never depend on the thread count or the scheduling.
  numba's ``prange`` is not used: its OpenMP threads busy-wait after every parallel
  loop, and on a machine with more runnable threads than cores (a shared 2-core
  machine, or BLAS threads of another library) a pass then took 2-5x longer.
  (Waking a pool thread costs 40-80 us on that machine; a kernel handing out
  hundreds of smaller parts in a row uses :mod:`._spin` instead: helpers that
  poll with ``sched_yield`` for the duration of one compiled call, 1.11x slower
  than this pool under 4 busy processes where OpenMP's spinning lost 2-5x.)
- :func:`blas_one_thread` limits BLAS to one thread while parts already run side
  by side (as scikit-learn's KMeans does), counted across nested and concurrent
  users so that overlapping calls never leave BLAS limited.

:func:`gram` uses both: OpenBLAS parallelizes a tall ``X.T @ X`` (its ``syrk``)
poorly (on the 2-core development machine two BLAS threads are no faster than
one), so the rows are split into one block per BLAS thread, each block's Gram
matrix computed by a single-threaded BLAS call in its own thread: about 2x
faster there. The thread count is the BLAS library's own
(``OPENBLAS_NUM_THREADS``, ``threadpoolctl`` limits), so a user's limit is respected.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["blas_one_thread", "blas_threads", "gram", "gram_and_column_sums", "in_job", "job_context", "parallel_map",
           "worker_threads"]

#: Below this many multiply-adds (n * d * d), one plain BLAS call is cheaper.
MIN_WORK = 20_000_000
#: Bytes of rows per step of :func:`gram_and_column_sums` (the step's column sums read it from cache).
SUMS_STEP_BYTES = 1 << 20

_lock = threading.Lock()
_state: dict[str, Any] = {"blas_users": 0, "limiter": None}


def _controller() -> Any:
    if "ctl" not in _state:
        import scipy.linalg.cython_blas  # noqa: F401 - load SciPy's BLAS (numba's np.dot) before threadpoolctl looks
        from threadpoolctl import ThreadpoolController

        _state["ctl"] = ThreadpoolController()
    return _state["ctl"]


#: Inside a job of a parallel cross-validation or search (``n_jobs``): the (worker, BLAS) thread counts
#: of the caller, so that every size decision is the one a serial run makes; parts then run serially.
_JOB: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar("toolbox_job", default=None)


def in_job() -> bool:
    """Whether this context runs one job of several running side by side (see :func:`job_context`)."""
    return _JOB.get() is not None


def job_context() -> contextvars.Context:
    """A copy of the current context for one of several parallel jobs (threads).

    In it, :func:`parallel_map` runs its parts one after another in the calling
    thread, and :func:`worker_threads` / :func:`blas_threads` report the counts
    of the caller: the work is split exactly as in a serial run, so the results
    are bit-identical whatever the number of jobs. Run the jobs under
    :func:`blas_one_thread` so that jobs x BLAS threads never exceed the cores.
    """
    ctx = contextvars.copy_context()
    if _JOB.get() is None:
        counts = (worker_threads(), blas_threads())
        ctx.run(_JOB.set, counts)
    return ctx


def blas_threads() -> int:
    """Threads NumPy's BLAS would use now (1 when it cannot be told); in a job, the caller's count."""
    job = _JOB.get()
    if job is not None:
        return job[1]
    libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max((int(lib.num_threads) for lib in libs), default=1)


@contextlib.contextmanager
def blas_one_thread() -> Iterator[None]:
    """BLAS limited to one thread inside (process-wide; set by the first user, restored by the last)."""
    with _lock:
        if _state["blas_users"] == 0:
            _state["limiter"] = _controller().limit(limits=1, user_api="blas")
        _state["blas_users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["blas_users"] -= 1
            if _state["blas_users"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None


def worker_threads() -> int:
    """Threads for :func:`parallel_map`: numba's configured count (``NUMBA_NUM_THREADS``), else the cores.

    In a job (:func:`job_context`), the caller's count: parts are sized as in a serial run.
    """
    job = _JOB.get()
    if job is not None:
        return job[0]
    numba = sys.modules.get("numba")
    if numba is not None:
        return max(1, int(numba.config.NUMBA_NUM_THREADS))
    return max(1, int(os.environ.get("NUMBA_NUM_THREADS") or os.cpu_count() or 1))


def _pool(size: int) -> ThreadPoolExecutor:
    """A shared pool of at least ``size`` workers (threads start only when first needed)."""
    with _lock:
        pool = _state.get("pool")
        if pool is None or _state["pool_size"] < size:
            # a larger pool replaces the old one, left to finish what it runs
            size = max(size, os.cpu_count() or 1)
            pool = _state["pool"] = ThreadPoolExecutor(size, thread_name_prefix="toolbox")
            _state["pool_size"] = size
        return pool


def parallel_map(fn: Callable[[int], Any], n: int, threads: int | None = None) -> list[Any]:
    """``[fn(p) for p in range(n)]``, the calls spread over threads (``fn`` must release the GIL).

    Parts go to whichever thread is free next; the caller works too. ``threads``
    defaults to :func:`worker_threads`.
    """
    out: list[Any] = [None] * n
    threads = min(worker_threads() if threads is None else threads, n)
    if threads <= 1 or _JOB.get() is not None:  # in a job the jobs themselves fill the cores
        for p in range(n):
            out[p] = fn(p)
        return out
    counter = itertools.count()  # next() is atomic under the GIL

    def work() -> None:
        while (p := next(counter)) < n:
            out[p] = fn(p)

    futures = [_pool(threads - 1).submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for fut in futures:
            fut.result()
    return out


def gram(X: Any, *, xp: Any) -> Any:
    """``X.T @ X`` for a NumPy ``X`` of shape (n, d): shape (d, d), dtype of ``X``.

    Row blocks in parallel when the BLAS has several threads and the work is large;
    otherwise one BLAS call. Summing the blocks changes the rounding only.
    """
    n, d = X.shape
    threads = blas_threads() if n * d * d >= MIN_WORK else 1
    if threads < 2 or n < 4 * threads * d:
        return X.T @ X
    edges = [n * i // threads for i in range(threads + 1)]
    blocks = [X[a:b, ...] for a, b in itertools.pairwise(edges)]
    with blas_one_thread():
        parts = parallel_map(lambda i: blocks[i].T @ blocks[i], threads, threads=threads)
    G = parts[0]
    for part in parts[1:]:
        G += part  # our own temporaries
    return G


def gram_and_column_sums(X: Any, *, xp: Any, Y: Any = None) -> tuple[Any, Any, Any]:
    """``(X.T @ X, X.sum(axis=0), X.T @ Y)`` for a NumPy ``X`` of shape (n, d), in one pass over memory.

    ``Y`` (n,) or (n, k), optional: the cross-product is then (d,) or (d, k), else None.
    With the parallel row blocks of :func:`gram`, each thread walks its block in
    steps of about :data:`SUMS_STEP_BYTES`: the Gram matrix of a step (one BLAS
    call), then its column sums and its product with ``Y`` (BLAS-2) while the step
    is still in cache. Otherwise (one thread, small work) ``gram``, NumPy's column
    sums and ``X.T @ Y``, as before. The blocks and steps are fixed by the shape and
    the thread count, not by the scheduling.
    """
    import numpy as np

    n, d = X.shape
    threads = blas_threads() if n * d * d >= MIN_WORK else 1
    if threads < 2 or n < 4 * threads * d:
        return gram(X, xp=xp), xp.sum(X, axis=0), (None if Y is None else X.T @ Y)
    step = max(4 * d, SUMS_STEP_BYTES // max(1, d * X.itemsize))
    edges = [n * i // threads for i in range(threads + 1)]

    def block(i: int) -> tuple[Any, Any, Any]:
        a, b = edges[i], edges[i + 1]
        ones = np.ones(min(step, b - a), dtype=X.dtype)  # column sums as a BLAS-2 product (2.5x np.sum)
        G = s = C = part = None
        for start in range(a, b, step):
            stop = min(start + step, b)
            rows = X[start:stop, ...]
            sums = ones[:stop - start] @ rows
            cross = None if Y is None else rows.T @ Y[start:stop, ...]
            if G is None:
                G = rows.T @ rows
            else:  # one more (d, d) buffer, reused by every later step: two per thread, not three
                part = rows.T @ rows if part is None else np.matmul(rows.T, rows, out=part)
                G += part  # our own temporaries
            s = sums if s is None else s + sums
            C = cross if C is None else C + cross
        return G, s, C

    with blas_one_thread():
        parts = parallel_map(block, threads, threads=threads)
    G, s, C = parts[0]
    for part, sums, cross in parts[1:]:
        G += part
        s += sums
        if C is not None:
            C += cross
    return G, s, C

