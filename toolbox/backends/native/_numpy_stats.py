"""NumPy fast paths for per-column statistics: cache-sized row chunks, no full-size temporaries."""

from __future__ import annotations

from typing import Any

import numpy as np

#: Bytes of one row chunk (fits in a core's L2 cache).
CHUNK_BYTES = 1 << 20


def column_mean_var(X: Any, *, xp: Any) -> tuple[Any, Any]:
    n, d = X.shape
    mean = X.sum(axis=0) / n
    step = max(1, CHUNK_BYTES // max(d * X.itemsize, 1))
    s1 = np.zeros(d, dtype=X.dtype)
    s2 = np.zeros(d, dtype=X.dtype)
    buf = np.empty((min(step, n), d), dtype=X.dtype)
    for start in range(0, n, step):
        chunk = X[start:start + step]
        T = np.subtract(chunk, mean, out=buf[:chunk.shape[0]])
        s1 += T.sum(axis=0)
        s2 += np.einsum("ij,ij->j", T, T)
    return mean + s1 / n, s2 / n - (s1 / n) ** 2
