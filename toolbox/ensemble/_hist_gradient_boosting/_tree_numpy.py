"""The host grower's kernels in plain NumPy (NumPy arrays without numba: the ``"numpy"`` backend).

The kernels :func:`._grower_host.grow` calls: histograms by ``np.bincount`` over
the node's rows, the split by :func:`._splitting.best_splits` (the vectorized
scans every backend uses) on one node, stable partitions by boolean masks.
"""

from __future__ import annotations

from typing import Any

import array_api_compat.numpy as anp
import numpy as np

from ...backends import primitives
from ._splitting import SplitSpec, best_splits

__all__ = ["find_split", "histogram", "leaf_ids", "split_indices", "update_raw"]


def _node_value(sg: float, sh: float, lower: float, upper: float, l2: float) -> float:
    return float(min(max(-sg / (sh + l2 + 1e-15), lower), upper))


def histogram(Xb: np.ndarray, idx: np.ndarray, start: int, stop: int, g: np.ndarray,
              h: np.ndarray | None, n_bins: int) -> np.ndarray:
    """Histogram of rows ``idx[start:stop]`` of ``Xb`` (n, d) uint8: shape (d, n_bins, 3) float64."""
    rows = idx[start:stop]
    gr = g[rows].astype(np.float64)
    ones = np.ones_like(gr)
    W = np.stack([gr, ones if h is None else h[rows].astype(np.float64), ones], axis=1)
    return primitives.histogram(Xb[rows], W, n_bins, xp=anp)


_SPECS: dict[int, tuple[Any, SplitSpec]] = {}


def _spec(n_bins_non_missing: np.ndarray, has_missing: np.ndarray, is_categorical: np.ndarray,
          monotonic: np.ndarray, min_samples_leaf: int, min_hessian: float, min_gain: float, l2: float,
          n_bins: int) -> SplitSpec:
    key = (n_bins_non_missing.tobytes(), has_missing.tobytes(), is_categorical.tobytes(), monotonic.tobytes(),
           min_samples_leaf, min_hessian, min_gain, l2, n_bins)
    hit = _SPECS.get(id(n_bins_non_missing))
    if hit is not None and hit[0] == key:
        return hit[1]
    spec = SplitSpec(n_bins=n_bins, nnm=n_bins_non_missing.astype(np.int64), has_missing=has_missing.astype(bool),
                     is_categorical=is_categorical.astype(bool), monotonic=monotonic.astype(np.int64),
                     any_categorical=bool(is_categorical.any()), min_samples_leaf=min_samples_leaf,
                     min_hessian=min_hessian, min_gain=min_gain, l2=l2)
    _SPECS[id(n_bins_non_missing)] = (key, spec)
    return spec


def find_split(hist, n_samples, sum_g, sum_h, value, lower, upper, n_bins_non_missing, has_missing,
               is_categorical, monotonic, allowed, min_samples_leaf, min_hessian, min_gain, l2,
               missing_bin, bitset):
    """Best split of one node, through the vectorized scans: ``(gain, feature, bin, missing_left,
    sum_g_left, sum_h_left, n_left, is_categorical)``, gain -1 when none; the left categories go to ``bitset``."""
    spec = _spec(n_bins_non_missing, has_missing, is_categorical, monotonic, min_samples_leaf, min_hessian,
                 min_gain, l2, missing_bin + 1)
    a = lambda v: np.asarray([v], dtype=np.float64)  # noqa: E731
    res = best_splits(hist[None, ...], a(n_samples), a(sum_g), a(sum_h), a(value), a(lower), a(upper),
                      np.asarray(allowed, dtype=bool)[None, :], spec, xp=anp)
    bitset[:] = 0
    is_cat = bool(res["is_categorical"][0])
    if is_cat:
        bins = np.flatnonzero(res["left_bins"][0])
        np.bitwise_or.at(bitset, bins >> 5, (np.uint32(1) << (bins & 31).astype(np.uint32)))
    return (float(res["gain"][0]), int(res["feature"][0]), int(res["bin"][0]), bool(res["missing_left"][0]),
            float(res["sgl"][0]), float(res["shl"][0]), round(float(res["nl"][0])), is_cat)


def _goes_left(col: np.ndarray, bin_idx: int, missing_left: bool, missing_bin: int, is_cat: bool,
               bitset: np.ndarray) -> np.ndarray:
    if is_cat:
        c = col.astype(np.int64)
        return ((bitset[c >> 5] >> (c & 31).astype(np.uint32)) & 1) != 0
    return (col <= bin_idx) | ((col == missing_bin) & missing_left)


def split_indices(idx: np.ndarray, start: int, stop: int, Xb: np.ndarray, feature: int, bin_idx: int,
                  missing_left: bool, missing_bin: int, is_cat: bool, bitset: np.ndarray, buf: np.ndarray,
                  mask: np.ndarray) -> int:
    """Stable partition of ``idx[start:stop]``, rows going left first; returns how many go left."""
    rows = idx[start:stop]
    left = _goes_left(Xb[rows, feature], bin_idx, missing_left, missing_bin, is_cat, bitset)
    n_left = int(np.count_nonzero(left))
    idx[start:stop] = np.concatenate([rows[left], rows[~left]])
    return n_left


def update_raw(raw: np.ndarray, idx: np.ndarray, starts: np.ndarray, stops: np.ndarray, values: np.ndarray) -> None:
    """``raw[idx[starts[l]:stops[l]]] += values[l]`` for every leaf ``l``."""
    leaf, pos = _leaf_rows(starts, stops)
    raw[idx[pos]] += values[leaf]


def leaf_ids(idx: np.ndarray, starts: np.ndarray, stops: np.ndarray, out: np.ndarray) -> None:
    """``out[idx[starts[l]:stops[l]]] = l`` for every leaf ``l``."""
    leaf, pos = _leaf_rows(starts, stops)
    out[idx[pos]] = leaf


def _leaf_rows(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every row position covered by a leaf: (its leaf number, the position)."""
    lengths = stops - starts
    leaf = np.repeat(np.arange(len(starts)), lengths)
    pos = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths) + np.repeat(starts, lengths)
    return leaf, pos

