"""numba kernels of the NumPy neighbors search: float64 data ranked through float32 products.

Imported by :mod:`toolbox.neighbors._native` only when numba is active (numba
is imported at the top here, so never at ``import toolbox``); the method and
its error bound are described there.

Each query keeps, in training order, the candidates whose float32 rank is
within its margin ``2E`` of its running k-th smallest float32 rank; when the
list fills up it is pruned to the current bound, and a query whose list is
still full (very many near-ties) is marked for the caller to search again
with float64 products.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["candidates_update", "rerank"]

#: Lanes of the vectorized "any candidate here?" test.
_LANES = 16


@numba.njit(inline="always", nogil=True)
def _insert(vals, idx, k, v, j):  # pragma: no cover - compiled
    """Insert ``(v, j)`` into the ascending ``vals``/``idx`` (length k) after its equals, dropping the last entry.

    NaN entries (unfilled) count as larger than any number. (As in
    :mod:`toolbox.backends.native.numba`; defined here so that numba's cache of
    this module depends on this file only.)
    """
    p = k - 1
    while p > 0 and not (vals[p - 1] <= v):
        vals[p] = vals[p - 1]
        idx[p] = idx[p - 1]
        p -= 1
    vals[p] = v
    idx[p] = j


@numba.njit(inline="always", nogil=True)
def _prune(cj, cv, count, thr):  # pragma: no cover - compiled
    """Keep the candidates at most ``thr``, in order; returns their count."""
    c = 0
    for t in range(count):
        if cv[t] <= thr:
            cj[c] = cj[t]
            cv[c] = cv[t]
            c += 1
    return c


@numba.njit(inline="always", nogil=True)
def _insert_value(vals, k, v):  # pragma: no cover - compiled
    """Insert ``v`` into the ascending ``vals`` (length k), dropping the last entry."""
    p = k - 1
    while p > 0 and vals[p - 1] > v:
        vals[p] = vals[p - 1]
        p -= 1
    vals[p] = v


@numba.njit(cache=True, nogil=True)
def candidates_update(S, offset, margin, kth, cand_j, cand_v, count):  # pragma: no cover - compiled
    """Collect the candidates of a float32 tile of ranks, in place.

    Parameters
    ----------
    S : ndarray of shape (m, w), float32
        Ranks of training rows ``offset .. offset + w`` for ``m`` queries.
    offset : int
    margin : ndarray of shape (m,), float64
        ``2E`` of each query.
    kth : ndarray of shape (m, k), float32
        The k smallest float32 ranks seen so far, ascending (start at +inf).
    cand_j, cand_v : ndarrays of shape (m, C), int64 and float32
        Candidate indices and float32 ranks, in training order.
    count : ndarray of shape (m,), int64
        Candidates per query; -1 marks a query whose list overflowed (to redo).
    """
    m, w = S.shape
    k = kth.shape[1]
    C = cand_j.shape[1]
    for i in range(m):
        c = count[i]
        if c < 0:
            continue
        row = S[i]
        kv = kth[i]
        cj = cand_j[i]
        cv = cand_v[i]
        mg = margin[i]
        thr = np.float64(kv[k - 1]) + mg
        j = 0
        while j < w:
            if j + _LANES <= w:
                lo = np.float32(np.inf)  # S is float32
                for t in range(_LANES):
                    x = row[j + t]
                    lo = x if x < lo else lo
                if not (lo <= thr):
                    j += _LANES
                    continue
                stop = j + _LANES
            else:
                stop = w
            for jj in range(j, stop):
                v = row[jj]
                if v <= thr:
                    if c == C:
                        c = _prune(cj, cv, c, thr)
                        if c == C:
                            c = -1
                            break
                    cj[c] = offset + jj
                    cv[c] = v
                    c += 1
                    if v < kv[k - 1]:
                        _insert_value(kv, k, v)
                        thr = np.float64(kv[k - 1]) + mg
            if c < 0:
                break
            j = stop
        count[i] = c


@numba.njit(cache=True, nogil=True)
def rerank(Q, F, margin, kth, cand_j, cand_v, count, out):  # pragma: no cover - compiled
    """The k smallest float64 ranks among each query's candidates, ties to the lower index.

    ``Q`` (m, d + 1) and ``F`` (n, d + 1) float64; the candidate arrays as
    left by :func:`candidates_update`; ``out`` (m, k) int64 receives the
    training indices, by ascending float64 rank. Queries with ``count < 0``
    are skipped.
    """
    m, k = out.shape
    K = Q.shape[1]
    best = np.empty(k, dtype=np.float64)
    for i in range(m):
        c = count[i]
        if c < 0:
            continue
        thr = np.float64(kth[i, k - 1]) + margin[i]
        for p in range(k):
            best[p] = np.nan
        oi = out[i]
        worst = np.nan
        for t in range(c):
            if cand_v[i, t] > thr:
                continue
            j = cand_j[i, t]
            s = 0.0
            for f in range(K):
                s += Q[i, f] * F[j, f]
            if s < worst or worst != worst:  # candidates come in training order: equal ranks stay out
                _insert(best, oi, k, s, j)
                worst = best[k - 1]
