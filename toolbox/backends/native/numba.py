"""numba kernels for NumPy arrays (used when the backend is "numba", or "auto" with numba installed).

Only primitives where a compiled loop beats vectorized NumPy are here; the
others fall through to :mod:`toolbox.backends.native.numpy`.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from . import numpy as _np_native

smallest_k = _np_native.smallest_k
cholesky = _np_native.cholesky
cho_solve = _np_native.cho_solve


@numba.njit(cache=True, nogil=True)
def _segment_sum_2d(values, ids, num_segments):  # pragma: no cover - compiled
    n, d = values.shape
    out = np.zeros((num_segments, d), dtype=values.dtype)
    for i in range(n):
        s = ids[i]
        for j in range(d):
            out[s, j] += values[i, j]
    return out


def segment_sum(values: Any, ids: Any, num_segments: int, *, xp: Any) -> Any:
    if values.ndim == 1:
        return _np_native.segment_sum(values, ids, num_segments, xp=xp)
    if ids.size and (ids.min() < 0 or ids.max() >= num_segments):
        raise ValueError(f"segment_sum: ids must lie in [0, {num_segments}).")
    return _segment_sum_2d(np.ascontiguousarray(values), ids, num_segments)


from ._numba_stats import column_mean_var as column_mean_var  # noqa: E402
from ._numba_stats import column_min_max as column_min_max  # noqa: E402
from ._numba_stats import columnwise_affine as columnwise_affine  # noqa: E402
from ._numba_stats import segment_mean_var as segment_mean_var  # noqa: E402
