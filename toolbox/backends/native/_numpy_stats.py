"""NumPy fast paths for per-column statistics: cache-sized row chunks, no full-size temporaries."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Bytes of one row chunk (fits in a core's L2 cache).
CHUNK_BYTES = 1 << 20


def column_mean_var(X: Any, *, xp: Any, dtype: Any = None) -> tuple[Any, Any]:
    """Per-column mean and biased variance; ``dtype`` (e.g. float64 for float32 ``X``): the accumulators'."""
    n, d = X.shape
    acc = np.dtype(dtype or X.dtype)
    mean = X.sum(axis=0, dtype=acc) / n
    step = max(1, CHUNK_BYTES // max(d * acc.itemsize, 1))
    s1 = np.zeros(d, dtype=acc)
    s2 = np.zeros(d, dtype=acc)
    buf = np.empty((min(step, n), d), dtype=acc)
    for start in range(0, n, step):
        chunk = X[start:start + step]
        T = np.subtract(chunk, mean, out=buf[:chunk.shape[0]])
        s1 += T.sum(axis=0)
        s2 += np.einsum("ij,ij->j", T, T)
    return mean + s1 / n, s2 / n - (s1 / n) ** 2
