"""Blockwise passes over a row-chunked ``dask.array``: map each row block to small statistics,
tree-reduce them on the workers, bring only the reduced result to the client.

Every fit in :mod:`toolbox.dask` is a few calls of :func:`map_reduce`; nothing here ever
computes ``X`` itself on the client. With a ``dask.distributed`` client active (the
default client, :func:`distributed.default_client`) the passes run on its cluster, and a
client or cluster that goes away mid-pass raises :class:`DaskClusterLostError` instead of
waiting for ever; without one they run on dask's local scheduler.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["DaskClusterLostError", "check_rows", "compute", "map_reduce", "row_blocks"]

#: A row block above this many bytes (after rechunking a feature-chunked array) is an error.
MAX_BLOCK_BYTES = 2 * 1024**3
#: Partial results combined per reduction task.
FAN_IN = 8

#: (bytes of each result) of the latest passes, for tests that check nothing of X's size
#: comes back to the client; a short ring buffer.
RESULT_BYTES: list[int] = []


class DaskClusterLostError(RuntimeError):
    """The Dask client or its cluster went away while toolbox was computing on it."""


def _nbytes(obj: Any) -> int:
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(o) for o in obj.values())
    return 8


def _client() -> Any:
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:  # no client
        return None


def _lost(client: Any, exc: BaseException | None = None) -> DaskClusterLostError:
    where = getattr(getattr(client, "scheduler", None), "address", None) or "its scheduler"
    msg = (f"The Dask cluster went away during a toolbox fit (client status {client.status!r}, "
           f"scheduler {where}). Nothing was fitted; start the cluster (or reconnect the Client) "
           "and fit again.")
    err = DaskClusterLostError(msg)
    err.__cause__ = exc
    return err


def compute(*objs: Any, poll: float = 0.5) -> tuple[Any, ...]:
    """``dask.compute(*objs)``; on a distributed client, watched so that a lost cluster raises."""
    client = _client()
    if client is None:
        import dask

        out = dask.compute(*objs)
    else:
        from distributed import wait

        if client.status not in ("running", "connecting"):
            raise _lost(client)
        try:
            futures = client.compute(list(objs))
            while True:
                try:
                    wait(futures, timeout=poll)
                    break
                except TimeoutError:
                    if client.status != "running" or getattr(client.scheduler_comm, "comm", None) is None:
                        raise _lost(client) from None
                    if any(f.status == "cancelled" for f in futures):
                        raise _lost(client) from None
            if any(f.status == "cancelled" for f in futures):
                raise _lost(client)
            out = tuple(client.gather(futures))
        except DaskClusterLostError:
            raise
        except Exception as exc:
            name = type(exc).__name__
            if client.status != "running" or name in ("CancelledError", "CommClosedError", "FutureCancelledError"):
                raise _lost(client, exc) from exc
            raise
    RESULT_BYTES.append(_nbytes(out))
    del RESULT_BYTES[:-64]
    return out


def check_rows(X: Any, *, name: str = "X", estimator: str = "this estimator") -> Any:
    """``X`` as a 2-D floating dask array with one chunk along the features (rows only).

    A feature-chunked array is rechunked by rows with a warning, or refused when a single
    row block would be larger than :data:`MAX_BLOCK_BYTES`.
    """

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array for {name}, got {X.ndim}D (shape {X.shape}). "
                         "Reshape it, e.g. X.reshape(-1, 1) for a single feature.")
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds non-numeric values ({X.dtype}); toolbox estimators need numeric data.")
    if any(math.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()  # e.g. from a dask DataFrame's to_dask_array(): one pass for the lengths
    n, d = X.shape
    if n < 1 or d < 1:
        raise ValueError(f"Found array with shape {tuple(X.shape)} for {name}; {estimator} needs at least "
                         "one sample and one feature.")
    if X.dtype.kind != "f" or X.dtype.itemsize < 4:
        X = X.astype(np.float64 if X.dtype.kind != "f" else np.float32)
    if len(X.chunks[1]) > 1:
        itemsize = X.dtype.itemsize
        if d * itemsize > MAX_BLOCK_BYTES:
            raise ValueError(
                f"{name} is chunked along the features ({len(X.chunks[1])} column chunks) and one row alone "
                f"is {d * itemsize} bytes, too large for a row block: toolbox's Dask fits need every row "
                f"block to hold whole rows. Reduce the features first (e.g. a random projection).")
        rows = max(1, min(max(X.chunks[0]), MAX_BLOCK_BYTES // (d * itemsize)))
        warnings.warn(
            f"{name} is chunked along the features ({len(X.chunks[1])} column chunks); {estimator} "
            f"rechunks it by rows (blocks of up to {rows} rows x {d} features). Chunk by rows only, "
            "e.g. X.rechunk({1: -1}), to avoid the rechunk.", UserWarning, stacklevel=4)
        X = X.rechunk({0: rows, 1: -1})
    return X


def check_rows_1d(y: Any, X: Any, *, name: str = "y") -> Any:
    """``y`` (NumPy or dask, 1-D or 2-D) as a dask array with the row chunks of ``X``."""
    import dask.array as da

    if not isinstance(y, da.Array):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"Found input variables with inconsistent numbers of samples: X has {X.shape[0]} "
                             f"samples but {name} has shape {y.shape}.")
        y = da.from_array(y, chunks=(X.chunks[0],) + ((y.shape[1],) if y.ndim == 2 else ()))
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(f"{name} should be a 1d or 2d array, got shape {y.shape}.")
    if any(math.isnan(c) for c in y.chunks[0]):
        y = y.compute_chunk_sizes()
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: X has {X.shape[0]} "
                         f"samples but {name} has {y.shape[0]}.")
    if y.chunks[0] != X.chunks[0] or (y.ndim == 2 and len(y.chunks[1]) > 1):
        y = y.rechunk((X.chunks[0],) + ((-1,) if y.ndim == 2 else ()))
    return y


def row_blocks(X: Any, *others: Any) -> list[tuple[Any, ...]]:
    """One tuple of delayed blocks per row block: ``(X_i, other_i, ...)``."""
    # unoptimized: the same keys as every other graph over X (no fused, renamed duplicates on the scheduler)
    xs = X.to_delayed(optimize_graph=False).ravel().tolist()
    rest = [o.to_delayed(optimize_graph=False).ravel().tolist() for o in others]
    return [tuple(parts) for parts in zip(xs, *rest)]


def _combine_all(combine: Callable[[Any, Any], Any], parts: Sequence[Any]) -> Any:
    acc = parts[0]
    for p in parts[1:]:
        acc = combine(acc, p)
    return acc


def map_reduce(func: Callable[..., Any], combine: Callable[[Any, Any], Any], blocks: list[tuple[Any, ...]],
               *args: Any, **kwargs: Any) -> Any:
    """``combine``-reduce ``func(*block, *args, **kwargs)`` over the row blocks; only the result returns.

    ``func`` and ``combine`` must be module-level functions (the workers import them);
    ``args`` are small (parameters broadcast to every block).
    """
    from dask import delayed

    level = [delayed(func, pure=False)(*b, *args, **kwargs) for b in blocks]
    while len(level) > 1:
        level = [delayed(_combine_all, pure=False)(combine, level[i:i + FAN_IN])
                 for i in range(0, len(level), FAN_IN)]
    (out,) = compute(level[0])
    return out


def elapsed(start: float) -> float:
    return time.perf_counter() - start
