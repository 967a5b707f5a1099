"""numba kernels of the CPU boosting loop and predictor (NumPy arrays, numba installed).

Imported lazily, only on the numba path, so that ``import toolbox`` never imports numba.
The trees themselves are grown by :mod:`._grower_numba`; here are what uses them:
adding the leaves' values to the raw predictions of the training rows, the rows'
leaf ids, and the predictor (rows in blocks through every tree, parts of rows on
the shared GIL-free pool, :func:`toolbox.backends._threaded.parallel_map`).
"""

from __future__ import annotations

import numba
import numpy as np

from ...backends import _threaded

__all__ = ["leaf_ids", "pack", "predict_raw", "update_raw"]

#: Rows that walk one tree together in the predictor, and rows stepping down it in lockstep.
_PREDICT_BLOCK = 256
_LANES = 6


# --------------------------------------------------------------------------- #
# leaves
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True)
def update_raw(raw, idx, starts, stops, values):  # pragma: no cover - compiled
    """``raw[idx[starts[l]:stops[l]]] += values[l]`` for every leaf ``l``."""
    for leaf in range(starts.shape[0]):
        v = values[leaf]
        for r in range(starts[leaf], stops[leaf]):
            raw[idx[r]] += v


@numba.njit(cache=True, nogil=True)
def leaf_ids(idx, starts, stops, out):  # pragma: no cover - compiled
    """``out[idx[starts[l]:stops[l]]] = l`` for every leaf ``l``."""
    for leaf in range(starts.shape[0]):
        for r in range(starts[leaf], stops[leaf]):
            out[idx[r]] = leaf


# --------------------------------------------------------------------------- #
# prediction
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True)
def _predict_part(X, a, b, ints, floats, bitsets, roots, tree_out, out):  # pragma: no cover - compiled
    """Rows a..b-1 through every tree, in blocks of rows (a tree's nodes stay in cache while a block
    walks it; the rows' walks are independent, so their loads overlap).

    ``ints[node] = (feature, left, right, flags, bitset row)`` with flags 1 leaf, 2 missing values
    left, 4 categorical; ``floats[node] = (threshold, value)``.
    """
    n_trees = roots.shape[0]
    nd = np.empty(_LANES, dtype=np.int64)
    for i0 in range(a, b, _PREDICT_BLOCK):
        i1 = min(b, i0 + _PREDICT_BLOCK)
        for t in range(n_trees):
            root = roots[t]
            o = tree_out[t]
            for g0 in range(i0, i1, _LANES):
                m = min(_LANES, i1 - g0)
                for k in range(m):
                    nd[k] = root
                # the lanes step down together, a lane at its leaf staying put: one loop exit per
                # group of rows instead of a mispredicted one per row
                done = False
                while not done:
                    done = True
                    for k in range(m):
                        node = nd[k]
                        flags = ints[node, 3]
                        x = X[g0 + k, ints[node, 0]]
                        if x != x:
                            go_left = (flags >> 1) & 1
                        elif flags & 4:
                            if x < 0 or x > 255:
                                go_left = (flags >> 1) & 1
                            else:
                                c = np.int64(x)
                                word = bitsets[ints[node, 4], c >> 5]
                                go_left = np.int64((word >> np.uint32(c & 31)) & np.uint32(1))
                        else:
                            go_left = np.int64(x <= floats[node, 0])
                        leaf = flags & 1
                        # the child by index, not by branch: the direction is data
                        child = ints[node, 2 - go_left]
                        nd[k] = node if leaf else child
                        done &= leaf != 0
                for k in range(m):
                    out[o, g0 + k] += floats[nd[k], 1]


def pack(trees: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The node arrays packed for :func:`predict_raw`: ints (n_nodes, 5) int64, floats (n_nodes, 2)."""
    flags = (trees["is_leaf"].astype(np.int64) | (trees["missing_left"].astype(np.int64) << 1)
             | (trees["is_categorical"].astype(np.int64) << 2))
    ints = np.stack([trees["feature"], trees["left"], trees["right"], flags, trees["bitset_row"]], axis=1)
    floats = np.stack([trees["threshold"], trees["value"]], axis=1)
    return np.ascontiguousarray(ints, dtype=np.int64), np.ascontiguousarray(floats, dtype=np.float64)


def predict_raw(X: np.ndarray, packed: tuple[np.ndarray, np.ndarray], bitsets: np.ndarray, roots: np.ndarray,
                tree_out: np.ndarray, out: np.ndarray) -> None:
    """Add the values of trees ``roots`` (node ids into the packed arrays) to ``out[tree_out[t], :]``.

    ``X`` (n, d) float, C order, holds raw numeric values and encoded categories (NaN: missing).
    """
    n = X.shape[0]
    step = 8192
    n_parts = max(1, -(-n // step))
    ints, floats = packed

    def work(p: int) -> None:
        _predict_part(X, p * step, min(n, (p + 1) * step), ints, floats, bitsets, roots, tree_out, out)

    _threaded.parallel_map(work, n_parts)
