"""Row-split BLAS products for NumPy: one single-threaded BLAS call per thread, run side by side (layer 1).

OpenBLAS parallelizes a tall ``X.T @ X`` (its ``syrk``) poorly: on the 2-core
development machine two BLAS threads are no faster than one. Splitting the
rows into one block per thread and summing the blocks' Gram matrices, each
computed by a single-threaded BLAS call in its own Python thread (BLAS
releases the GIL), uses every core: about 2x faster there. The thread count
is the BLAS library's own (``OPENBLAS_NUM_THREADS``, ``threadpoolctl``
limits), so a user's limit is respected.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["blas_threads", "gram"]

#: Below this many multiply-adds (n * d * d), one plain BLAS call is cheaper.
MIN_WORK = 20_000_000

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _controller() -> Any:
    if "ctl" not in _state:
        from threadpoolctl import ThreadpoolController

        _state["ctl"] = ThreadpoolController()
    return _state["ctl"]


def blas_threads() -> int:
    """Threads NumPy's BLAS would use now (1 when it cannot be told)."""
    libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    return max((int(lib.num_threads) for lib in libs), default=1)


def _pool(n: int) -> ThreadPoolExecutor:
    pool = _state.get("pool")
    if pool is None or _state.get("pool_size", 0) < n:
        if pool is not None:
            pool.shutdown(wait=False)
        pool = _state["pool"] = ThreadPoolExecutor(n, thread_name_prefix="toolbox-blas")
        _state["pool_size"] = n
    return pool


def gram(X: Any, *, xp: Any) -> Any:
    """``X.T @ X`` for a NumPy ``X`` of shape (n, d): shape (d, d), dtype of ``X``.

    Row blocks in parallel when the BLAS has several threads and the work is large;
    otherwise one BLAS call. Summing the blocks changes the rounding only.
    """
    n, d = X.shape
    threads = blas_threads() if n * d * d >= MIN_WORK else 1
    if threads < 2 or n < 4 * threads * d or not _lock.acquire(blocking=False):
        return X.T @ X
    try:
        edges = [n * i // threads for i in range(threads + 1)]
        blocks = [X[a:b, ...] for a, b in itertools.pairwise(edges)]
        with _controller().limit(limits=1, user_api="blas"):
            parts = list(_pool(threads).map(lambda B: B.T @ B, blocks))
    finally:
        _lock.release()
    G = parts[0]
    for part in parts[1:]:
        G += part  # our own temporaries
    return G
