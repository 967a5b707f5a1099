"""numba kernels for the gradients of the common losses on NumPy (imported only on the numba path).

One pass over the rows writes float32 gradients and hessians (the dtype the
growers read), rows cut into fixed parts on the shared thread pool. The
formulas are :mod:`._loss`'s (scikit-learn's Cython ones): squared error,
binary and multinomial log-loss, with or without sample weights. Other
losses use :meth:`._loss.Loss.gradient_hessian`.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from ...backends import _threaded

__all__ = ["SUPPORTED", "gradient_hessian"]

SUPPORTED = ("squared_error", "log_loss")
_PART = 65536


@numba.njit(cache=True, nogil=True)
def _squared(y, raw, sw, a, b, g, h):  # pragma: no cover - compiled
    weighted = sw.shape[0] > 0
    for i in range(a, b):
        gi = raw[0, i] - y[i]
        if weighted:
            g[0, i] = np.float32(gi * sw[i])
            h[0, i] = np.float32(sw[i])
        else:
            g[0, i] = np.float32(gi)


@numba.njit(cache=True, nogil=True)
def _binomial(y, raw, sw, a, b, g, h):  # pragma: no cover - compiled
    weighted = sw.shape[0] > 0
    for i in range(a, b):
        r = raw[0, i]
        yi = y[i]
        if r > -37.0:
            e = math.exp(-r)
            d = 1.0 + e
            gi = ((1.0 - yi) - yi * e) / d
            hi = e / (d * d)
        else:
            e = math.exp(r)
            gi = e - yi
            hi = e
        if weighted:
            gi *= sw[i]
            hi *= sw[i]
        g[0, i] = np.float32(gi)
        h[0, i] = np.float32(hi)


@numba.njit(cache=True, nogil=True)
def _multinomial(y, raw, sw, a, b, g, h):  # pragma: no cover - compiled
    K = raw.shape[0]
    weighted = sw.shape[0] > 0
    p = np.empty(K)
    for i in range(a, b):
        m = raw[0, i]
        for k in range(1, K):
            m = max(m, raw[k, i])
        s = 0.0
        for k in range(K):
            p[k] = math.exp(raw[k, i] - m)
            s += p[k]
        yi = int(y[i])
        for k in range(K):
            pk = p[k] / s
            gk = pk - (1.0 if k == yi else 0.0)
            hk = pk * (1.0 - pk)
            if weighted:
                gk *= sw[i]
                hk *= sw[i]
            g[k, i] = np.float32(gk)
            h[k, i] = np.float32(hk)


def gradient_hessian(loss: Any, y: np.ndarray, raw: np.ndarray, sw: np.ndarray | None,
                     g: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Fill float32 ``g``, ``h`` (K, n) for ``loss`` (a :class:`._loss.Loss` named in :data:`SUPPORTED`).

    Returns ``(g, h)``; ``h`` is None for squared error without weights (constant hessians).
    """
    n = raw.shape[1]
    yv = np.ascontiguousarray(y, dtype=np.float64)
    swv = np.empty(0) if sw is None else np.ascontiguousarray(sw, dtype=np.float64)
    if loss.name == "squared_error":
        kernel = _squared
    elif loss.n_trees_per_iteration == 1:
        kernel = _binomial
    else:
        kernel = _multinomial
    n_parts = max(1, -(-n // _PART))
    _threaded.parallel_map(lambda p: kernel(yv, raw, swv, p * _PART, min(n, (p + 1) * _PART), g, h), n_parts)
    if loss.name == "squared_error" and sw is None:
        return g, None
    return g, h
