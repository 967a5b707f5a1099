"""The brute-force search on NumPy arrays: BLAS tiles, selected as they are made.

Imported lazily by :mod:`toolbox.neighbors._base`, only for NumPy data, so
that ``import toolbox`` imports neither this nor numba.

A query ``x`` ranks training row ``j`` by ``r_j = [-x, 1] . f_j``, with
``f_j = [y_j, |y_j|^2 / 2]`` (a row of ``fit_aug``): half the squared distance
less a constant of the query. The queries are cut into blocks, the training
set into tiles; for one block, each tile's ranks (one BLAS call into a small
reused buffer that stays in cache) are merged at once into the block's
running selection, so the (n_queries, n_train) matrix is never made. The
blocks are handed out to as many Python threads as the BLAS library has
(``OPENBLAS_NUM_THREADS`` and ``threadpoolctl`` limits are respected), each
block's products on one BLAS thread, as scikit-learn's own search does: no
barrier between a product and its selection, and a thread that has the CPU
takes the blocks of one that has not.

The result is the generic search's: the ``k`` smallest float64 (or float32)
ranks, the lower training index first among equal ranks.

Float64 data is ranked through float32 products first (half the cost), of
the data centred on the training mean (a constant shift of each query's
ranks, so the same order; and precise float32 ranks for data far from the
origin). With ``E`` a bound on the error of the float32 ranks of a query,
the float64 ``k`` smallest all lie among the candidates ``r32_j <= t32 + 2E``,
``t32`` the ``k``-th smallest float32 rank: ``k`` ranks are at most ``t32``
in float32, so at most ``t32 + E`` exactly; the k-th smallest exact rank is
then at most ``t32 + E``, and a rank at most that is at most ``t32 + 2E`` in
float32. The candidates' ranks are recomputed in float64 from the data as
given and the ``k`` smallest kept. ``E`` (:func:`float32_ranks`) is the
standard bound for a rounded dot product of ``K = d + 1`` terms, inputs
rounded to float32 included, ``(K + 2) u sum_l |q_l f_l|`` with
``u = 2**-24`` and ``sum_l |q_l f_l| <= |x| max|y| + max|y|^2 / 2`` (centred
values), plus the float64 ranks' own rounding. A query with very many
near-ties (more candidates than a block keeps) is searched with float64
products instead; so is data too large for float32 products.

Selection, with numba (:mod:`._numba`, and
:func:`toolbox.backends.native.numba.select_update`): a compiled pass over
each tile keeps a sorted buffer of the k best per query. Without numba: later
tiles only contribute the entries below the current threshold of their query
(a comparison and ``flatnonzero``), merged by a small ``lexsort``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backends import _threaded

__all__ = ["float32_ranks", "ranked_nearest"]

#: Query rows per block (the unit of work handed to a thread): about
#: BLOCKS_PER_THREAD blocks per thread, within these bounds. Small blocks keep the
#: per-thread buffers (a tile of products, the candidate lists) small: with 128 rows and
#: 256-row tiles a 2,000-query predict on 50,000 x 50 peaks at about 1.3 MiB of RSS
#: (scikit-learn's: 1.7 MiB), 256 rows took 2.0 MiB for about 10% less time.
QUERY_BLOCK_MIN, QUERY_BLOCK_MAX, BLOCKS_PER_THREAD = 128, 128, 2
#: Training rows per BLAS tile, numba selection (a (256, 256) float32 tile is 256 KiB).
TILE_NUMBA = 256
#: Training rows per BLAS tile, NumPy selection (fewer, larger tiles: each costs a few NumPy calls).
TILE_NUMPY = 1024
#: Width of the first tile of the NumPy selection (at least k).
_FIRST_TILE = 512
#: Candidates kept per query by the float32-ranked numba search (plus 4 k).
_CANDIDATES = 128
#: Largest k for the tiled search (the selections keep k entries per query
#: sorted by insertion); the generic search beyond.
MAX_K = 64
#: Training rows and queries from which float64 data is ranked through float32
#: products first (below, preparing the float32 copies costs more than it saves).
_F32_MIN_ROWS, _F32_MIN_QUERIES = 1024, 384
#: Training rows per chunk of the centred float32 copy.
_CENTRE_ROWS = 8192
#: Candidates a block of the float32-ranked NumPy search may hold (per query and neighbor;
#: beyond, too many near-ties: the block takes float64 products).
_HELD_PER_QUERY_NEIGHBOR = 64


def train_float32(F: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The query-independent part of :func:`float32_ranks`: ``(c, F32, hc_max, h_max)``.

    ``c`` (d,) is the training mean, ``F32`` (n, d + 1) float32 ``[y - c, |y - c|^2 / 2]``,
    ``hc_max`` the largest ``|y - c|^2 / 2`` and ``h_max`` the largest ``|y|^2 / 2``. It depends
    on the training set only: the estimator keeps it between searches.
    """
    n, K = F.shape
    d = K - 1
    c = F[:, :d].mean(axis=0)
    F32 = np.empty((n, K), dtype=np.float32)
    hc_max = 0.0
    for a in range(0, n, _CENTRE_ROWS):
        D = F[a:a + _CENTRE_ROWS, :d] - c
        h = 0.5 * np.einsum("ij,ij->i", D, D)
        F32[a:a + _CENTRE_ROWS, :d] = D
        F32[a:a + _CENTRE_ROWS, d] = h
        hc_max = max(hc_max, float(h.max(initial=0.0)))
    h_max = max(float(F[:, d].max(initial=0.0)), 0.0)
    return c, F32, hc_max, h_max


def float32_ranks(Xq: np.ndarray, F: np.ndarray,
                  train: tuple[np.ndarray, np.ndarray, float, float] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Centred float32 queries and training rows to rank float64 data, and each query's margin ``2E``.

    Centring on the training mean moves every rank of a query by the same
    constant, so the order is unchanged, and keeps the float32 ranks precise
    for data far from the origin.

    Parameters
    ----------
    Xq : ndarray of shape (m, d), float64
    F : ndarray of shape (n, d + 1), float64
        ``fit_aug``, C-contiguous.
    train : tuple, optional
        :func:`train_float32` of ``F``, when already computed.

    Returns
    -------
    (Q32, F32, margin) or None
        ``Q32`` (m, d + 1) and ``F32`` (n, d + 1), float32: ``[-(x - c), 1]``
        and ``[y - c, |y - c|^2 / 2]``; ``margin`` (m,), float64. None when
        float32 cannot hold the products (values above 1e18, or not finite).
    """
    m, d = Xq.shape
    K = d + 1
    c, F32, hc_max, h_max = train_float32(F) if train is None else train
    Xc = Xq - c
    xc_norm = np.sqrt(np.einsum("ij,ij->i", Xc, Xc))
    yc_max = np.sqrt(2.0 * hc_max)
    big = max(float(xc_norm.max(initial=0.0)), yc_max, 1.0)
    if not (np.isfinite(big) and np.isfinite(h_max)) or big > 1e18:
        return None
    Q32 = np.empty((m, K), dtype=np.float32)
    np.negative(Xc, out=Q32[:, :d], casting="same_kind")
    Q32[:, d] = 1
    del Xc
    # float32 products and sums, inputs rounded to float32 included (K + 2 roundings), with slack
    e32 = (K + 4) * 2.0**-24 * (xc_norm * yc_max + hc_max) * (1.0 + 1e-6)
    # the float64 ranks' own rounding, on the data as given
    x_norm = np.sqrt(np.einsum("ij,ij->i", Xq, Xq))
    e64 = 2.0 * (K + 2) * 2.0**-53 * (x_norm * np.sqrt(2.0 * h_max) + h_max)
    tiny = K * 2.0**-120 * (1.0 + 2.0 * big)  # subnormal float32 values
    return Q32, F32, 2.0 * (e32 + e64 + tiny)


def _run_blocks(fn: Callable[[int], Any], n_blocks: int, threads: int) -> None:
    """``fn(b)`` for each block ``b`` on ``threads`` threads (the caller's included), BLAS on one thread meanwhile."""
    if min(threads, n_blocks) <= 1:
        for b in range(n_blocks):
            fn(b)
        return
    with _threaded.blas_one_thread():
        _threaded.parallel_map(fn, n_blocks, threads=threads)


def _tiles(n: int, tile: int, first: int | None = None) -> list[tuple[int, int]]:
    """Training row ranges ``(start, stop)``: a first tile of ``first`` rows, then ``tile`` rows each."""
    edges = [0, *range(min(first or tile, n), n, tile), n]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _tile_products(Q: np.ndarray, F: np.ndarray, tiles: list[tuple[int, int]]) -> Any:
    """Yield ``(start, Q @ F[start:stop].T)`` for each tile, in one reused C-contiguous buffer."""
    m = Q.shape[0]
    buf = np.empty(m * max(b - a for a, b in tiles), dtype=Q.dtype)
    for a, b in tiles:
        yield a, np.matmul(Q, F[a:b].T, out=buf[:m * (b - a)].reshape(m, b - a))


# --------------------------------------------------------------------------- #
# numba selection
# --------------------------------------------------------------------------- #


def _block_numba(Q: np.ndarray, F: np.ndarray, k: int, idx: np.ndarray) -> bool:
    """Fill ``idx`` (m, k) for the queries ``Q`` (m, d + 1); False when a rank is not finite."""
    from ..backends.native.numba import select_update

    vals = np.full((Q.shape[0], k), np.nan, dtype=Q.dtype)
    for a, S in _tile_products(Q, F, _tiles(F.shape[0], TILE_NUMBA)):
        select_update(S, a, vals, idx)
    return bool(np.isfinite(vals).all())


def _block_numba_f32(Q: np.ndarray, F: np.ndarray, Q32: np.ndarray, F32: np.ndarray, margin: np.ndarray,
                     k: int, idx: np.ndarray) -> bool:
    """:func:`_block_numba` for float64 data, through float32 products."""
    from . import _numba

    m = Q.shape[0]
    C = _CANDIDATES + 4 * k
    kth = np.full((m, k), np.inf, dtype=np.float32)
    cand_j = np.empty((m, C), dtype=np.int64)
    cand_v = np.empty((m, C), dtype=np.float32)
    count = np.zeros(m, dtype=np.int64)
    for a, S in _tile_products(Q32, F32, _tiles(F.shape[0], TILE_NUMBA)):
        _numba.candidates_update(S, a, margin, kth, cand_j, cand_v, count)
    _numba.rerank(Q, F, margin, kth, cand_j, cand_v, count, idx)
    redo = np.flatnonzero(count < 0)  # too many near-ties for the list: float64 products
    if redo.size:
        i_redo = np.zeros((redo.size, k), dtype=np.int64)
        ok = _block_numba(np.ascontiguousarray(Q[redo]), F, k, i_redo)
        idx[redo] = i_redo
        return ok
    return True


# --------------------------------------------------------------------------- #
# NumPy selection
# --------------------------------------------------------------------------- #


def _group_starts(rows: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Count of each row in the sorted ``rows`` and where its group starts."""
    counts = np.bincount(rows, minlength=m)
    return counts, np.cumsum(counts) - counts


def _first_k(keys: tuple[np.ndarray, ...], rows: np.ndarray, m: int, k: int) -> np.ndarray | None:
    """Positions of the first ``k`` entries of each row, ordered by ``rows`` then ``keys`` (last key first).

    Returns an (m, k) array of positions into the flat candidates, or None when
    a row has fewer than ``k`` (ranks that are not finite).
    """
    order = np.lexsort((*keys, rows))
    counts, starts = _group_starts(rows, m)
    if counts.min(initial=k) < k:
        return None
    return order[starts[:, None] + np.arange(k)]


def _merge_rows(best_v: np.ndarray, best_c: np.ndarray | None, r: np.ndarray, v: np.ndarray,
                c: np.ndarray | None) -> np.ndarray:
    """Merge the entries ``(r, v, c)`` (query, value, index) into the running k best, in place.

    ``best_v`` (m, k) ascending per query, with the indices ``best_c`` (or
    None: values only); equal values keep the lower index. Only the queries
    in ``r`` are touched; returns them (sorted, unique).
    """
    m, k = best_v.shape
    rows = np.unique(r)
    grp = np.concatenate([np.repeat(rows, k), r])
    vals = np.concatenate([best_v[rows].reshape(-1), v])
    if best_c is None:
        order = np.lexsort((vals, grp))
    else:
        cols = np.concatenate([best_c[rows].reshape(-1), c])
        order = np.lexsort((cols, vals, grp))
    counts = np.bincount(grp, minlength=m)[rows]
    pick = order[(np.cumsum(counts) - counts)[:, None] + np.arange(k)]
    best_v[rows] = vals[pick]
    if best_c is not None:
        best_c[rows] = cols[pick]
    return rows


def _block_numpy(Q: np.ndarray, F: np.ndarray, k: int, idx: np.ndarray) -> bool:
    """:func:`_block_numba` with NumPy calls: threshold, ``flatnonzero``, ``lexsort``."""
    m = Q.shape[0]
    first = max(_FIRST_TILE, k)
    below = np.empty(m * max(TILE_NUMPY, first), dtype=bool)
    best_v = best_c = kth = None
    for a, S in _tile_products(Q, F, _tiles(F.shape[0], TILE_NUMPY, first)):
        w = S.shape[1]
        mask = below[:m * w].reshape(m, w)
        if kth is None:  # the first tile: everything up to the k-th value of each row (ties included)
            kth = np.partition(S, k - 1, axis=1)[:, k - 1:k]
            hits = np.flatnonzero(np.less_equal(S, kth, out=mask))
            r = hits // w
            v, c = S.reshape(-1)[hits], hits - r * w
            pick = _first_k((c, v), r, m, k)
            if pick is None:  # NaN ranks
                return False
            best_v, best_c = v[pick], c[pick]
        else:  # strictly below: an equal rank has the larger index
            hits = np.flatnonzero(np.less(S, kth, out=mask))
            if hits.size == 0:
                continue
            r = hits // w
            _merge_rows(best_v, best_c, r, S.reshape(-1)[hits], hits - r * w + a)
        kth = best_v[:, k - 1:k]
    idx[...] = best_c
    return bool(np.isfinite(best_v).all())


def _round_up_f32(x: np.ndarray) -> np.ndarray:
    """The smallest float32 values at least ``x`` (float64)."""
    y = x.astype(np.float32)
    return np.where(y < x, np.nextafter(y, np.float32(np.inf)), y)


def _block_numpy_f32(Q: np.ndarray, F: np.ndarray, Q32: np.ndarray, F32: np.ndarray, margin: np.ndarray,
                     k: int, idx: np.ndarray) -> bool:
    """:func:`_block_numpy` for float64 data, through float32 products.

    The candidates (float32 ranks at most the running k-th smallest plus the
    margin, rounded up to a float32 threshold) are collected as flat arrays,
    pruned when they pile up; the running k smallest float32 ranks are updated
    only for the queries whose new candidates improve on them.
    """
    m = Q.shape[0]
    first = max(_FIRST_TILE, k)
    below = np.empty(m * max(TILE_NUMPY, first), dtype=bool)
    best = thr = None
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    held, prune_at = 0, 8 * m * k
    for a, S in _tile_products(Q32, F32, _tiles(F.shape[0], TILE_NUMPY, first)):
        w = S.shape[1]
        if best is None:
            best = np.sort(np.partition(S, k - 1, axis=1)[:, :k], axis=1)
            thr = _round_up_f32(best[:, k - 1] + margin)
        hits = np.flatnonzero(np.less_equal(S, thr[:, None], out=below[:m * w].reshape(m, w)))
        if hits.size == 0:
            continue
        r = hits // w
        v = S.reshape(-1)[hits]
        parts.append((r, v, hits - r * w + a))
        held += hits.size
        if a:
            better = np.flatnonzero(v < best[r, k - 1])
            if better.size:
                rows = _merge_rows(best, None, r[better], v[better], None)
                thr[rows] = _round_up_f32(best[rows, k - 1] + margin[rows])
        if held > prune_at:
            parts = [_prune(parts, thr)]
            held = parts[0][0].size
            if held > _HELD_PER_QUERY_NEIGHBOR * m * k:  # very many near-ties: float64 products
                return _block_numpy(Q, F, k, idx)
            prune_at = max(prune_at, 2 * held)
    r, v, c = _prune(parts, thr)
    exact = np.einsum("ij,ij->i", Q[r], F[c])  # float64 ranks of the candidates
    pick = _first_k((c, exact), r, m, k)
    if pick is None:
        return False
    idx[...] = c[pick]
    return True


def _prune(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
           thr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates of ``parts`` (query, float32 rank, index) still at most their query's threshold."""
    r, v, c = (np.concatenate(x) for x in zip(*parts, strict=True))
    keep = np.flatnonzero(v <= thr[r])
    return r[keep], v[keep], c[keep]


# --------------------------------------------------------------------------- #
# entry point
# --------------------------------------------------------------------------- #


def ranked_nearest(Xq: np.ndarray, fit_aug: np.ndarray, k: int, *, use_numba: bool,
                   cache: dict | None = None) -> np.ndarray | None:
    """Indices of the ``k`` training rows ranked first for each query, ties by lower index.

    Parameters
    ----------
    Xq : ndarray of shape (m, d), float32 or float64
        Queries.
    fit_aug : ndarray of shape (n, d + 1), dtype of ``Xq``
        Training rows with ``|y|^2 / 2`` as the last column; ``k <= n``.
    k : int
    use_numba : bool
        Select with the compiled kernels (numba installed and active).
    cache : dict, optional
        Kept by the caller between searches on the same ``fit_aug``: holds
        :func:`train_float32` of it (made once, not at every search).

    Returns
    -------
    ndarray of shape (m, k), int64, or None
        By ascending rank ``|y|^2 / 2 - x.y``; None when some rank is not
        finite (overflow), for the caller to take the generic path.
    """
    m, d = Xq.shape
    n = fit_aug.shape[0]
    F = np.ascontiguousarray(fit_aug)
    idx = np.zeros((m, k), dtype=np.int64)
    threads = max(1, _threaded.blas_threads())
    rows = min(QUERY_BLOCK_MAX, max(QUERY_BLOCK_MIN, -(-m // (BLOCKS_PER_THREAD * threads))))
    blocks = [slice(s, s + rows) for s in range(0, m, rows)]
    use_f32 = Xq.dtype == np.float64 and n >= _F32_MIN_ROWS and m >= _F32_MIN_QUERIES
    train = None
    if use_f32:
        if cache is not None and cache.get("fit_aug") is F:
            train = cache["train_float32"]
        else:
            train = train_float32(F)
            if cache is not None:
                cache.clear()
                cache.update(fit_aug=F, train_float32=train)
    f32_block = _block_numba_f32 if use_numba else _block_numpy_f32
    block = _block_numba if use_numba else _block_numpy
    ok = [True] * len(blocks)

    def run(p: int) -> None:
        # the block's queries [-x, 1] (and their float32 form): memory of one block, not of all queries
        s = blocks[p]
        Xb = Xq[s]
        Q = np.empty((Xb.shape[0], d + 1), dtype=Xq.dtype)
        np.negative(Xb, out=Q[:, :d])
        Q[:, d] = 1
        f32 = None if train is None else float32_ranks(Xb, F, train)
        if f32 is not None:
            Q32, F32, margin = f32
            ok[p] = f32_block(Q, F, Q32, F32, margin, k, idx[s])
        else:
            ok[p] = block(Q, F, k, idx[s])

    _run_blocks(run, len(blocks), threads)
    return idx if all(ok) else None
