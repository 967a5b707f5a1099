"""Binning: map real-valued features to uint8 codes, with scikit-learn's thresholds (layer 3).

The model is scikit-learn's ``_hist_gradient_boosting/binning.py`` and
``_binning.pyx``: for each numeric feature, the thresholds are the midpoints of
the distinct values when there are at most ``max_bins = n_bins - 1`` of them,
otherwise the ``np.percentile(..., method="averaged_inverted_cdf")`` values at
``linspace(0, 100, max_bins + 1)[1:-1]``, deduplicated and clipped at
``ALMOST_INF``; the last bin, ``n_bins - 1``, holds missing values. For the same
data the thresholds here are bit for bit scikit-learn's.

How ``fit`` works without copying ``X`` to the host: the (sub)sampled rows are
taken on the data's device, each feature sorted there (one ``sort`` call for a
group of features), distinct values counted with a cumulative sum and found
with one ``searchsorted`` on the features' concatenated counts; only small,
fixed-size results come back: per feature the number of non-missing and of
distinct values, the first ``max_bins`` distinct values and, for features with
more distinct values, the two order statistics around each quantile. The final
arithmetic (midpoints, numpy's quantile interpolation) then runs on the host
in float64 exactly as numpy does it, so float32 data gets scikit-learn's
float64 thresholds of the same values.

``transform`` is a binary search per value: numba kernels on NumPy arrays,
a vectorized search over all features at once elsewhere (static shapes, one
``take`` per level on the padded thresholds matrix). On float32 data the
thresholds are rounded down to float32, which leaves every comparison
``x <= t`` as it is in float64: codes equal scikit-learn's on the float64 cast.
"""

from __future__ import annotations

import itertools
import math
import numbers
from typing import Any

import array_api_compat
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.utils import check_random_state as _sk_random_state

from ...backends import get_framework, jit, namespace_kind, primitives, to_backend
from ...backends._dispatch import float_dtype, numba_active
from ...backends._threaded import parallel_map, worker_threads

__all__ = ["ALMOST_INF", "X_BINNED_DTYPE", "BinMapper"]

#: Thresholds are clipped here (LightGBM's ``AvoidInf``, as scikit-learn).
ALMOST_INF = 1e300
#: dtype of the codes.
X_BINNED_DTYPE = np.uint8
#: Bytes of temporaries per group of features sorted together in ``fit``.
_FIT_GROUP_BYTES = primitives.CHUNK_BYTES // 2
#: Temporaries per element of a ``transform`` chunk on the generic path (bytes, generous).
_TRANSFORM_BYTES_PER_ELEMENT = 64


# --------------------------------------------------------------------------- #
# Host helpers
# --------------------------------------------------------------------------- #


def _to_host(x: Any) -> np.ndarray:
    return np.asarray(to_backend(x, "numpy"))


def _take(x: Any, indices: Any, *, xp: Any, axis: int = 0) -> Any:
    """``xp.take`` for indices known to be non-negative (torch: ``index_select`` without
    array-api-compat's negative-index pass, which tripled the cost of a gather)."""
    if namespace_kind(xp) == "torch":
        import torch

        return torch.index_select(x, axis, indices)
    return xp.take(x, indices, axis=axis)


def _host_view(X: Any, kind: str) -> np.ndarray | None:
    """A zero-copy NumPy view of ``X`` when it lives in CPU memory (NumPy, torch CPU, JAX CPU), else None."""
    if kind == "numpy":
        return np.asarray(X)
    if kind == "torch" and X.device.type == "cpu":
        return X.detach().numpy()
    if kind == "jax" and all(dv.platform == "cpu" for dv in X.devices()):
        return np.asarray(X)
    return None


def _numpy_namespace() -> Any:
    import array_api_compat.numpy

    return array_api_compat.numpy


def _int_dtype(xp: Any, device: Any) -> Any:
    return xp.__array_namespace_info__().default_dtypes(device=device)["integral"]


def _quantile_positions(n: int, max_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``np.percentile(a, q, method="averaged_inverted_cdf")`` looks in a sorted ``a`` of length ``n``.

    The quantiles are scikit-learn's, ``linspace(0, 100, max_bins + 1)[1:-1]``. Returns
    the previous and next indices (in ``[0, n)``) and the interpolation weight, computed
    with the same operations as numpy's ``_quantile`` / ``_get_indexes`` / ``_get_gamma``.
    """
    q = np.true_divide(np.linspace(0, 100, num=max_bins + 1)[1:-1], 100)
    virtual = np.asanyarray(n * q - 1)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    previous_i = previous.astype(np.intp)
    following_i = following.astype(np.intp)
    gamma = np.asanyarray(virtual - previous_i)
    fixed = np.full(gamma.shape, 1.0)
    np.copyto(fixed, 0.5, where=gamma == 0, casting="unsafe")
    gamma = np.asanyarray(fixed, dtype=virtual.dtype)
    return previous_i % n, following_i % n, gamma


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp`` (the quantile interpolation), operation for operation."""
    diff_b_a = b - a
    out = np.add(a, diff_b_a * t)
    np.subtract(b, diff_b_a * (1 - t), out=out, where=t >= 0.5, casting="unsafe", dtype=type(out.dtype))
    return out


def _finish_thresholds(bin_thresholds: np.ndarray) -> np.ndarray:
    """scikit-learn's last steps: deduplicate, clip at ``ALMOST_INF``."""
    unique_bin_values = np.unique(bin_thresholds)
    if unique_bin_values.shape[0] != bin_thresholds.shape[0]:
        bin_thresholds = unique_bin_values
    np.clip(bin_thresholds, a_min=None, a_max=ALMOST_INF, out=bin_thresholds)
    return bin_thresholds


def _round_down_f32(t: np.ndarray) -> np.ndarray:
    """The largest float32 <= each float64 value: ``x <= t`` then holds for a float32 ``x`` exactly as in float64."""
    t32 = t.astype(np.float32)
    up = t32.astype(np.float64) > t  # NaN compares False: stays NaN
    t32[up] = np.nextafter(t32[up], np.float32(-np.inf))
    return t32


# --------------------------------------------------------------------------- #
# Thresholds of numeric features (device work, then a small host step)
# --------------------------------------------------------------------------- #


def _row_parts(k: int) -> list[slice]:
    threads = min(k, worker_threads())
    edges = [k * i // threads for i in range(threads + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]


@jit(static_argnames=("max_bins",))
def _sorted_stats(Xg: Any, max_bins: int, *, xp: Any) -> tuple[Any, Any, Any, Any]:
    """Sort a group of features on their device and find their first ``max_bins`` distinct values.

    Parameters
    ----------
    Xg : array, shape (m, k), floating; NaN marks missing values

    Returns
    -------
    S_flat : array, shape (k * m,): each feature sorted (NaN last, as +inf), features one after another
    n_valid, n_distinct : arrays of int, shape (k,)
    distinct : array, shape (k, max_bins): the first distinct values (arbitrary past ``n_distinct``)
    """
    m, k = Xg.shape
    dev = array_api_compat.device(Xg)
    ity = _int_dtype(xp, dev)
    nan = xp.isnan(Xg)
    inf = xp.asarray(math.inf, dtype=Xg.dtype, device=dev)
    if namespace_kind(xp) == "numpy":  # rows contiguous, sorted in place, side by side (GIL-free sorts)
        S = np.array(np.asarray(Xg).T, order="C", copy=True)  # sorted in place: never the caller's memory
        np.copyto(S, np.inf, where=np.isnan(S))
        parts = _row_parts(k)
        parallel_map(lambda p: S[parts[p]].sort(axis=1), len(parts))
    else:  # (k, m): missing values sort last
        S = xp.sort(xp.permute_dims(xp.where(nan, inf, Xg), (1, 0)), axis=1, stable=False)
    n_valid = m - xp.sum(xp.astype(nan, ity), axis=0)
    pos = xp.arange(m, dtype=ity, device=dev)
    first = xp.ones((k, 1), dtype=xp.bool, device=dev)
    is_new = xp.concat([first, S[:, 1:] != S[:, :-1]], axis=1) & (pos[None, :] < n_valid[:, None])
    cum = xp.cumulative_sum(xp.astype(is_new, ity), axis=1)  # (k, m): distinct values so far
    del is_new
    n_distinct = cum[:, -1]
    # One searchsorted for all features: feature j's counts, shifted by j * (m + 1), are one
    # increasing sequence; the first position where feature j's count reaches r is where its
    # r-th distinct value starts.
    offset = xp.arange(k, dtype=ity, device=dev) * (m + 1)
    counts = xp.reshape(cum + offset[:, None], (k * m,))
    del cum
    ranks = xp.arange(1, max_bins + 1, dtype=ity, device=dev)
    queries = xp.reshape(offset[:, None] + ranks[None, :], (k * max_bins,))
    where = xp.minimum(xp.searchsorted(counts, queries), xp.asarray(k * m - 1, dtype=ity, device=dev))
    S_flat = xp.reshape(S, (k * m,))
    distinct = xp.reshape(_take(S_flat, xp.astype(where, ity), xp=xp), (k, max_bins))
    return S_flat, n_valid, n_distinct, distinct


def _weighted_quantiles(Xg: Any, w: Any, cols: list[int], n_valid: np.ndarray, max_bins: int, *,
                        xp: Any) -> dict[int, np.ndarray]:
    """scikit-learn's weighted thresholds: ``_weighted_percentile(average=True)`` at its percentiles.

    ``Xg`` (m, k): the group, NaN at missing values and at zero-weight rows; ``w`` (m,): the
    weights (float64 where the device has it). For each column ``j`` in ``cols`` (those with more
    than ``max_bins`` distinct values) the ``max_bins - 1`` thresholds, in float64 on the host.
    """
    dev = array_api_compat.device(Xg)
    ity = _int_dtype(xp, dev)
    wdt = w.dtype
    percentiles = np.linspace(0, 100, num=max_bins + 1)[1:-1]
    out = {}
    for j in cols:  # loops over the few quantile columns of a group; each step is vectorised over rows
        col = Xg[:, j]
        keep = ~xp.isnan(col)
        order = xp.argsort(xp.where(keep, col, xp.asarray(math.inf, dtype=col.dtype, device=dev)), stable=True)
        nv = int(n_valid[j])
        order = order[:nv]
        values = _take(col, order, xp=xp)
        cdf = xp.cumulative_sum(_take(xp.where(keep, w, xp.zeros_like(w)), order, xp=xp))
        total = cdf[-1]
        adjusted = xp.asarray(percentiles / 100, dtype=wdt, device=dev) * total
        idx = xp.clip(xp.searchsorted(cdf, adjusted), 0, nv - 1)
        nxt = xp.clip(idx + 1, 0, nv - 1)
        eps = float(np.finfo(np.float64 if wdt == xp.float64 else np.float32).eps)
        above = _take(cdf, xp.astype(idx, ity), xp=xp) - adjusted > eps
        lo = _to_host(_take(values, xp.astype(idx, ity), xp=xp)).astype(np.float64)
        hi = _to_host(_take(values, xp.astype(nxt, ity), xp=xp)).astype(np.float64)
        out[j] = np.where(_to_host(above), lo, (lo + hi) / 2)
    return out


def _numeric_thresholds(X: Any, max_bins: int, *, xp: Any, cols: np.ndarray, rows: Any = None,
                        weights: Any = None) -> list[np.ndarray]:
    """scikit-learn's ``_find_binning_thresholds`` for columns ``cols`` of ``X`` (n, d), in float64 on the host.

    ``rows`` (device int array): the subsample. ``weights`` (n,): sample weights (no
    subsample then): zero-weight rows are left out, and past ``max_bins`` distinct values
    the thresholds are weighted percentiles. Columns are taken a group at a time (the
    subsample of a group only), so the temporaries stay within :data:`_FIT_GROUP_BYTES`.
    """
    dev = array_api_compat.device(X)
    m = int(X.shape[0]) if rows is None else int(rows.shape[0])
    k = int(cols.size)
    out: list[np.ndarray] = []
    group = max(1, min(k, _FIT_GROUP_BYTES // max(1, 40 * m)))
    for g0 in range(0, k, group):
        g1 = min(k, g0 + group)
        sel = cols[g0:g1]
        if sel.size == int(X.shape[1]):
            Xg = X
        elif sel.size and np.all(np.diff(sel) == 1):
            Xg = X[:, int(sel[0]):int(sel[-1]) + 1]
        else:
            Xg = _take(X, xp.asarray(sel, dtype=_int_dtype(xp, dev), device=dev), xp=xp, axis=1)
        if rows is not None:
            Xg = _take(Xg, rows, xp=xp, axis=0)
        if weights is not None:  # zero-weight rows count as missing: left out of the distinct values
            Xg = xp.where((weights == 0)[:, None], xp.asarray(math.nan, dtype=Xg.dtype, device=dev), Xg)
        if namespace_kind(xp) == "numpy" and numba_active() and Xg.dtype in (np.float32, np.float64):
            from . import _binning_numba

            S_flat, n_valid_d, n_distinct_d, distinct_d = _binning_numba.sorted_stats(np.asarray(Xg), max_bins)
        else:
            S_flat, n_valid_d, n_distinct_d, distinct_d = _sorted_stats(Xg, max_bins, xp=xp)
        n_valid = _to_host(n_valid_d).astype(np.int64)
        n_distinct = _to_host(n_distinct_d).astype(np.int64)
        distinct = _to_host(distinct_d).astype(np.float64)
        quantile = [j for j in range(g1 - g0) if n_distinct[j] > max_bins]
        values = None
        weighted = {}
        if quantile and weights is not None:
            weighted = _weighted_quantiles(Xg, weights, quantile, n_valid, max_bins, xp=xp)
        elif quantile:
            # the order statistics around each quantile: a second small gather on the device
            nq = max_bins - 1
            idx = np.zeros((g1 - g0, 2 * nq), dtype=np.int64)
            gammas = {}
            for j in quantile:
                prev, nxt, gamma = _quantile_positions(int(n_valid[j]), max_bins)
                idx[j] = np.concatenate([prev, nxt]) + j * m
                gammas[j] = gamma
            ity = _int_dtype(xp, dev)
            picked = _take(S_flat, xp.asarray(idx.reshape(-1), dtype=ity, device=dev), xp=xp)
            values = _to_host(picked).astype(np.float64).reshape(g1 - g0, 2 * nq)
        with np.errstate(invalid="ignore", over="ignore"):
            for j in range(g1 - g0):
                nd = int(n_distinct[j])
                if nd <= 1:  # constant or all missing (scikit-learn fails on all missing)
                    out.append(np.asarray([], dtype=np.float64))
                    continue
                if nd <= max_bins:
                    thresholds = sliding_window_view(distinct[j, :nd], 2).mean(axis=1)
                elif weights is not None:
                    thresholds = weighted[j]
                else:
                    a, b = values[j, :max_bins - 1], values[j, max_bins - 1:]
                    thresholds = _lerp(a, b, gammas[j])
                out.append(_finish_thresholds(thresholds))
    return out


# --------------------------------------------------------------------------- #
# Generic transform (any namespace; static shapes)
# --------------------------------------------------------------------------- #


@jit(static_argnames=("n_levels", "exact", "has_cat", "missing"))
def _bin_chunk(Xc: Any, T_flat: Any, base: Any, L: Any, is_cat: Any, *, n_levels: int, exact: bool,
               has_cat: bool, missing: int, xp: Any) -> Any:
    """Codes (int) of one row chunk ``Xc`` (c, d); ``T_flat`` is the (d, 2**n_levels - 1) padded matrix, flat."""
    c, d = Xc.shape
    dev = array_api_compat.device(Xc)
    ity = base.dtype
    width = max(1, (1 << n_levels) - 1)

    def gather(flat_idx: Any) -> Any:
        return xp.reshape(_take(T_flat, xp.reshape(flat_idx, (c * d,)), xp=xp), (c, d))

    if not exact:
        # lower bound, branch-free: q = base + pos - 1 (the last threshold known to be < x)
        q = xp.zeros((c, d), dtype=ity, device=dev) + (base - 1)[None, :]
        for level in range(n_levels - 1, -1, -1):
            cand = q + (1 << level)
            q = xp.where(gather(cand) < Xc, cand, q)
        pos = q - (base - 1)[None, :]
    else:
        # scikit-learn's loop, step for step (its answer with NaN thresholds, from infinite data)
        left = xp.zeros((c, d), dtype=ity, device=dev)
        right = left + L[None, :]
        for _ in range(n_levels):
            middle = left + (right - left - 1) // 2
            active = left < right
            goes_left = Xc <= gather(base[None, :] + xp.maximum(middle, xp.zeros_like(middle)))
            right = xp.where(active & goes_left, middle, right)
            left = xp.where(active & ~goes_left, middle + 1, left)
        pos = left
    miss = xp.isnan(Xc)
    if has_cat:
        clamped = xp.minimum(pos, xp.full_like(pos, width - 1))
        known = (pos < L[None, :]) & (gather(base[None, :] + clamped) == Xc)
        miss = miss | (is_cat[None, :] & ~known)
    return xp.where(miss, xp.full_like(pos, missing), pos)


# --------------------------------------------------------------------------- #
# BinMapper
# --------------------------------------------------------------------------- #


class BinMapper:
    """Bins features into uint8 codes; not an estimator (a building block).

    Mirrors scikit-learn's ``_BinMapper``: same thresholds for the same data, same
    codes; the last bin, ``n_bins - 1``, holds missing values (NaN).

    Parameters
    ----------
    n_bins : int, default=256
        Bins including the missing-values bin, in [3, 256]
        (``max_bins = n_bins - 1`` bins for non-missing values).
    subsample : int or None, default=200_000
        With more rows than this, thresholds come from ``subsample`` rows drawn
        with replacement, as scikit-learn draws them
        (``check_random_state(random_state).choice(n, subsample, replace=True)``):
        for an int ``random_state`` the very rows scikit-learn uses. ``None``: all rows.
    is_categorical : array-like of bool, shape (n_features,), optional
    known_categories : list of (None or array-like of float), optional
        Per feature: ``None`` for numeric ones; for categorical ones, their
        categories (non-negative integers, at most ``max_bins`` of them).
    random_state : None, int or numpy RandomState
        Draws the subsample rows (on the host: only the indices).

    Attributes
    ----------
    bin_thresholds_ : list of ndarray of float64
        Numeric features: the thresholds (``x <= t`` goes left); categorical
        ones: the sorted known categories (code = position in it).
    n_bins_non_missing_ : ndarray of uint32, shape (n_features,)
    missing_values_bin_idx_ : int
        ``n_bins - 1``.
    is_categorical_ : ndarray of bool, shape (n_features,)

    Notes
    -----
    In ``transform`` a categorical value that is not a known category (also a
    negative one) goes to the missing-values bin; scikit-learn's search maps an
    unknown category to a neighbouring known one's bin (negative ones to the
    missing bin). As in scikit-learn, negative values in a categorical column
    are missing values; ``fit`` rejects non-integer or infinite ones.
    """

    def __init__(self, n_bins: int = 256, subsample: int | None = 200_000, is_categorical: Any = None,
                 known_categories: Any = None, random_state: Any = None) -> None:
        self.n_bins = n_bins
        self.subsample = subsample
        self.is_categorical = is_categorical
        self.known_categories = known_categories
        self.random_state = random_state

    # ------------------------------------------------------------------ fit

    #: Arrays in CPU memory (torch CPU tensors, JAX CPU arrays) take the NumPy path on
    #: zero-copy views (numba kernels where installed); False forces the generic path (tests).
    _host_fast_path = True

    def _check_params(self, n_features: int) -> tuple[np.ndarray, list[Any]]:
        n_bins = self.n_bins
        if not isinstance(n_bins, numbers.Integral) or isinstance(n_bins, bool) or not 3 <= n_bins <= 256:
            max_bins = n_bins - 1 if isinstance(n_bins, numbers.Integral) else n_bins
            raise ValueError(
                f"max_bins must be an int in [2, 255]; got max_bins={max_bins!r} (n_bins={n_bins!r}, "
                "which counts the missing-values bin, must be in [3, 256])."
            )
        sub = self.subsample
        if sub is not None and (not isinstance(sub, numbers.Integral) or isinstance(sub, bool) or sub < 1):
            raise ValueError(f"subsample must be a positive int or None; got {sub!r}.")
        if self.is_categorical is None:
            is_cat = np.zeros(n_features, dtype=bool)
        else:
            is_cat = np.asarray(self.is_categorical, dtype=bool).reshape(-1)
            if is_cat.shape[0] != n_features:
                raise ValueError(f"is_categorical has {is_cat.shape[0]} entries but X has {n_features} features.")
        known = [None] * n_features if self.known_categories is None else list(self.known_categories)
        if len(known) != n_features:
            raise ValueError(f"known_categories has {len(known)} entries but X has {n_features} features.")
        max_bins = int(n_bins) - 1
        cats: list[Any] = []
        for f in range(n_features):
            kc = known[f]
            if is_cat[f] and kc is None:
                raise ValueError(f"Known categories for feature {f} must be provided.")
            if not is_cat[f] and kc is not None:
                raise ValueError(f"Feature {f} isn't marked as a categorical feature, but categories were passed.")
            if kc is None:
                cats.append(None)
                continue
            kc = np.asarray(kc, dtype=np.float64).reshape(-1)
            bad = ~np.isfinite(kc) | (kc < 0) | (kc != np.floor(kc))
            if bad.any():
                raise ValueError(
                    f"Categorical feature {f} (column {f}): known categories must be non-negative "
                    f"integers; got {kc[bad][0]!r}."
                )
            kc = np.unique(kc)
            if kc.shape[0] > max_bins:
                raise ValueError(
                    f"Categorical feature {f} has {kc.shape[0]} categories, more than max_bins={max_bins} "
                    f"(n_bins={n_bins}, one bin is for missing values)."
                )
            cats.append(kc)
        return is_cat, cats

    @staticmethod
    def _as_float(X: Any, *, xp: Any) -> Any:
        if getattr(X, "ndim", None) != 2:
            raise ValueError(f"BinMapper needs a 2-D array; got shape {tuple(getattr(X, 'shape', ()))}.")
        dtype = float_dtype(X, xp=xp, device=array_api_compat.device(X))
        return X if X.dtype == dtype else xp.astype(X, dtype)

    def fit(self, X: Any, *, xp: Any, sample_weight: Any = None) -> BinMapper:
        """Compute the thresholds from ``X`` (n, d) in namespace ``xp``, on its device.

        NaN marks missing values (ignored for the thresholds); infinite values are allowed.
        ``sample_weight`` (n,), as scikit-learn: above ``subsample`` rows the subsample is
        drawn with probabilities proportional to the weights (and then unweighted); otherwise
        zero-weight rows are left out and the quantiles are weighted percentiles.
        """
        X = self._as_float(X, xp=xp)
        n, d = X.shape
        if n < 1:
            raise ValueError(f"BinMapper.fit needs at least one sample; got shape {tuple(X.shape)}.")
        is_cat, cats = self._check_params(d)
        max_bins = int(self.n_bins) - 1
        kind = namespace_kind(xp)
        host = _host_view(X, kind) if self._host_fast_path else None
        if host is not None:  # CPU memory: the NumPy path, on zero-copy views
            X, xp = host, _numpy_namespace()
            if sample_weight is not None:
                sample_weight = _host_view(sample_weight, kind)
        dev = array_api_compat.device(X)
        if is_cat.any():
            self._check_categorical_data(X, np.flatnonzero(is_cat), xp=xp)
        rng = _sk_random_state(self.random_state)
        rows = None
        weights = None
        if sample_weight is not None:
            weights = xp.asarray(sample_weight, device=dev)
            wdt = xp.float64 if "float64" in xp.__array_namespace_info__().dtypes(device=dev) else xp.float32
            weights = xp.astype(weights, wdt)
        if self.subsample is not None and n > self.subsample:
            p = None
            if weights is not None:  # frequency semantics: rows drawn by weight, then unweighted
                hw = _to_host(weights).astype(np.float64)
                p = hw / np.sum(hw)
                weights = None
            drawn = rng.choice(n, int(self.subsample), p=p, replace=True)  # scikit-learn's draw
            rows = xp.asarray(drawn, dtype=_int_dtype(xp, dev), device=dev)
        numeric = np.flatnonzero(~is_cat)
        num_thresholds: list[np.ndarray] = []
        if numeric.size:
            num_thresholds = _numeric_thresholds(X, max_bins, xp=xp, cols=numeric, rows=rows, weights=weights)
        thresholds: list[np.ndarray] = []
        it = iter(num_thresholds)
        for f in range(d):
            thresholds.append(cats[f] if is_cat[f] else next(it))
        self.bin_thresholds_ = thresholds
        self.n_bins_non_missing_ = np.array(
            [t.shape[0] if is_cat[f] else t.shape[0] + 1 for f, t in enumerate(thresholds)], dtype=np.uint32)
        self.missing_values_bin_idx_ = int(self.n_bins) - 1
        self.is_categorical_ = is_cat
        self.n_features_in_ = d
        self._prepare()
        return self

    @staticmethod
    def _check_categorical_data(X: Any, cat_idx: np.ndarray, *, xp: Any) -> None:
        dev = array_api_compat.device(X)
        C = _take(X, xp.asarray(cat_idx, dtype=_int_dtype(xp, dev), device=dev), xp=xp, axis=1)
        present = ~xp.isnan(C) & (C >= 0)  # negative values are missing values (scikit-learn's rule)
        bad = present & (~xp.isfinite(C) | (xp.floor(C) != C))
        bad_cols = _to_host(xp.any(bad, axis=0))
        if bad_cols.any():
            c = int(np.flatnonzero(bad_cols)[0])
            col = xp.astype(bad[:, c], xp.int8)
            row = int(_to_host(xp.argmax(col)))
            value = float(_to_host(C[row, c]))
            raise ValueError(
                f"Categorical feature {int(cat_idx[c])} (column {int(cat_idx[c])}) holds {value!r} at row {row}; "
                "categorical values must be non-negative integers (NaN or a negative value for missing). "
                "Encode them first, "
                "e.g. with an OrdinalEncoder."
            )

    def _prepare(self) -> None:
        """Host matrices for ``transform`` (float64, padded with +inf) and per-feature flags."""
        d = len(self.bin_thresholds_)
        L = np.array([t.shape[0] for t in self.bin_thresholds_], dtype=np.int64)
        self._L = L
        self._n_levels = int(L.max()).bit_length() if d else 0
        width = max(1, (1 << self._n_levels) - 1)
        T = np.full((d, width), np.inf)
        for f, t in enumerate(self.bin_thresholds_):
            T[f, :t.shape[0]] = t
        self._T = T
        self._exact = np.array([bool(np.isnan(t).any()) for t in self.bin_thresholds_], dtype=bool)
        self._cache: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The fitted state without the per-device copies (rebuilt on use): what model files store."""
        state = dict(vars(self))
        if "_cache" in state:
            state["_cache"] = {}
        return state

    # ------------------------------------------------------------------ device matrices

    def _device_matrix(self, width: int, xp: Any, device: Any, dtype: Any) -> Any:
        key = (width, xp, device, dtype)
        try:
            hit = self._cache.get(key)
        except TypeError:  # an unhashable device: no caching
            key, hit = None, None
        if hit is not None:
            return hit
        T = self._T[:, :width] if width <= self._T.shape[1] else np.pad(
            self._T, ((0, 0), (0, width - self._T.shape[1])), constant_values=np.inf)
        host = _round_down_f32(T) if dtype == xp.float32 else T
        out = xp.asarray(np.ascontiguousarray(host), dtype=dtype, device=device)
        if key is not None:
            self._cache[key] = out
        return out

    def thresholds_matrix(self, xp: Any, device: Any, dtype: Any) -> Any:
        """The thresholds (or sorted categories) as a (n_features, n_bins - 1) array padded with +inf.

        On ``device`` in ``dtype`` (float64, or float32: each threshold rounded down,
        so that ``x <= t`` holds for float32 ``x`` exactly as in float64). Cached per
        ``(xp, device, dtype)``.
        """
        self._check_fitted()
        return self._device_matrix(int(self.n_bins) - 1, xp, device, dtype)

    def _check_fitted(self) -> None:
        if not hasattr(self, "bin_thresholds_"):
            raise AttributeError("This BinMapper is not fitted yet; call fit(X, xp=xp) first.")

    # ------------------------------------------------------------------ transform

    def transform(self, X: Any, *, xp: Any, order: str = "C") -> Any:
        """Codes of ``X`` (n, d): a uint8 array in ``xp`` on ``X``'s device (on NumPy in ``order``, "C" or "F").

        NaN goes to ``missing_values_bin_idx_``; a numeric value to the number of
        thresholds below it; a categorical value to its position among the known
        categories (unknown values: the missing-values bin).
        """
        self._check_fitted()
        X = self._as_float(X, xp=xp)
        d = X.shape[1]
        if d != self.n_features_in_:
            raise ValueError(
                f"This BinMapper was fitted with {self.n_features_in_} features but {d} got passed to transform()."
            )
        kind = namespace_kind(xp)
        host = _host_view(X, kind) if (kind == "numpy" or self._host_fast_path) else None
        if host is None:
            return self._transform_generic(X, xp=xp)
        codes = self._transform_host(host, numba_ok=numba_active() if kind == "numpy" else True, order=order)
        if kind == "numpy":
            return codes if order == "C" else np.asfortranarray(codes)
        return get_framework(kind).from_host(codes, array_api_compat.device(X))

    def _transform_host(self, X: np.ndarray, *, numba_ok: bool, order: str = "C") -> np.ndarray:
        """Codes of a NumPy ``X``: numba kernels where allowed and installed, else NumPy."""
        if numba_ok and X.dtype in (np.float32, np.float64):
            try:
                from . import _binning_numba
            except ImportError:  # numba not installed
                pass
            else:
                return _binning_numba.map_to_bins(X, self._T, self._L, self._n_levels, self.is_categorical_,
                                                  self._exact, self.missing_values_bin_idx_, order=order)
        if self._exact.any():
            return np.ascontiguousarray(self._transform_generic(X, xp=_numpy_namespace()))
        return self._transform_numpy(X)

    def _transform_numpy(self, X: np.ndarray) -> np.ndarray:
        n, d = X.shape
        out = np.empty((n, d), dtype=X_BINNED_DTYPE)
        missing = self.missing_values_bin_idx_
        for f, t in enumerate(self.bin_thresholds_):
            col = X[:, f].astype(np.float64)
            codes = np.searchsorted(t, col, side="left")
            bad = np.isnan(col)
            if self.is_categorical_[f]:
                known = codes < t.shape[0]
                known[known] = t[codes[known]] == col[known]
                bad |= ~known
            codes[bad] = missing
            out[:, f] = codes
        return out

    def _transform_generic(self, X: Any, *, xp: Any) -> Any:
        n, d = X.shape
        dev = array_api_compat.device(X)
        ity = _int_dtype(xp, dev)
        width = max(1, (1 << self._n_levels) - 1)
        T = self._device_matrix(width, xp, dev, X.dtype)
        T_flat = xp.reshape(T, (d * width,))
        base = xp.arange(d, dtype=ity, device=dev) * width
        L = xp.asarray(self._L, dtype=ity, device=dev)
        is_cat = xp.asarray(self.is_categorical_, dtype=xp.bool, device=dev)
        kwargs = dict(n_levels=self._n_levels, exact=bool(self._exact.any()),
                      has_cat=bool(self.is_categorical_.any()), missing=self.missing_values_bin_idx_, xp=xp)
        step = primitives.chunk_rows(n, max(1, d) * _TRANSFORM_BYTES_PER_ELEMENT)
        parts = []
        for start in range(0, n, step):
            codes = _bin_chunk(X[start:min(n, start + step), :], T_flat, base, L, is_cat, **kwargs)
            parts.append(xp.astype(codes, xp.uint8))
        if not parts:
            return xp.zeros((0, d), dtype=xp.uint8, device=dev)
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
