"""numba kernels of the CPU tree grower and predictor (NumPy arrays, numba installed).

Imported lazily, only on the numba path, so that ``import toolbox`` never imports numba.

- Histograms are built row-wise (LightGBM's finding for few threads): each row
  of the C-ordered ``uint8`` bin codes is one cache line, read once, and adds
  its gradient, hessian and a count to one bin of every feature. Rows are cut
  into fixed parts of :data:`PART_ROWS` rows, each with its own histogram,
  summed in part order: the result does not depend on the number of threads.
  Parts run on the shared GIL-free pool (:func:`toolbox.backends._threaded.parallel_map`).
- The split finder is a port of scikit-learn's ``splitting.pyx`` scans
  (left-to-right with missing values right, right-to-left with them left,
  categorical splits by sorted gradient ratios), so ties break the same way.
- Rows of a node are a contiguous range of one index array, partitioned
  stably when the node splits (scikit-learn's ``split_indices``).

Histogram layout: ``hist[f, b, c]``, float64, ``c`` = 0 sum of gradients,
1 sum of hessians, 2 count.
"""

from __future__ import annotations

import numba
import numpy as np

from ...backends import _threaded

__all__ = [
    "PART_ROWS",
    "find_split",
    "histogram",
    "leaf_ids",
    "predict_raw",
    "split_indices",
    "update_raw",
]

#: Rows per histogram part (the unit of work and of partial sums; fixed for determinism).
PART_ROWS = 16384

_MIN_CAT_SUPPORT = 10.0


# --------------------------------------------------------------------------- #
# histograms
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True)
def _gather(idx, a, b, g, h, g_out, h_out):  # pragma: no cover - compiled
    for r in range(a, b):
        i = idx[r]
        g_out[r - a] = g[i]
        if h_out.shape[0]:
            h_out[r - a] = h[i]


@numba.njit(cache=True, nogil=True)
def _hist_features(XbT, idx, a, b, g, h, const, f0, f1, out):  # pragma: no cover - compiled
    """Histograms of features f0..f1-1 over rows idx[a:b] (``g``/``h`` ordered like those rows)."""
    nb = out.shape[1]
    n = b - a
    contiguous = n > 0 and idx[a] == a and idx[b - 1] == b - 1
    acc = np.empty(nb * 3)
    rows = idx[a:b]
    for f in range(f0, f1):
        col = XbT[f, a:b] if contiguous else XbT[f]
        acc[:] = 0.0
        if const and contiguous:
            for r in range(n):
                k = 3 * col[r]
                acc[k] += g[r]
                acc[k + 2] += 1.0
        elif const:
            for r in range(n):
                k = 3 * col[rows[r]]
                acc[k] += g[r]
                acc[k + 2] += 1.0
        elif contiguous:
            for r in range(n):
                k = 3 * col[r]
                acc[k] += g[r]
                acc[k + 1] += h[r]
                acc[k + 2] += 1.0
        else:
            for r in range(n):
                k = 3 * col[rows[r]]
                acc[k] += g[r]
                acc[k + 1] += h[r]
                acc[k + 2] += 1.0
        for k in range(nb):
            out[f, k, 0] = acc[3 * k]
            out[f, k, 2] = acc[3 * k + 2]
            out[f, k, 1] = acc[3 * k + 2] if const else acc[3 * k + 1]


#: Below this many (row, feature) updates a histogram is built by one thread.
_PARALLEL_WORK = 200_000


def histogram(XbT: np.ndarray, idx: np.ndarray, start: int, stop: int, g: np.ndarray,
              h: np.ndarray | None, n_bins: int) -> np.ndarray:
    """Histogram of rows ``idx[start:stop]`` of the bin codes ``XbT`` (d, n) uint8: shape (d, n_bins, 3) float64.

    ``h=None`` means constant hessians (hessian sums are the counts). Features
    are spread over the shared thread pool; each feature's histogram is built by
    one thread, so the result does not depend on the number of threads.
    """
    d = XbT.shape[0]
    n_rows = stop - start
    const = h is None
    out = np.zeros((d, n_bins, 3))
    if n_rows == 0:
        return out
    g_ord = np.empty(n_rows, dtype=g.dtype)
    h_ord = np.empty(0 if const else n_rows, dtype=g.dtype)
    _gather(idx, start, stop, g, g if const else h, g_ord, h_ord)
    if n_rows * d < _PARALLEL_WORK:
        _hist_features(XbT, idx, start, stop, g_ord, h_ord, const, 0, d, out)
        return out
    _threaded.parallel_map(
        lambda f: _hist_features(XbT, idx, start, stop, g_ord, h_ord, const, f, f + 1, out), d)
    return out


# --------------------------------------------------------------------------- #
# split finding (scikit-learn's splitting.pyx, scan for scan)
# --------------------------------------------------------------------------- #


@numba.njit(inline="always", nogil=True)
def _node_value(sg, sh, lower, upper, l2):  # pragma: no cover - compiled
    v = -sg / (sh + l2 + 1e-15)
    if v < lower:
        v = lower
    elif v > upper:
        v = upper
    return v


@numba.njit(inline="always", nogil=True)
def _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2):  # pragma: no cover - compiled
    vl = _node_value(sgl, shl, lower, upper, l2)
    vr = _node_value(sgr, shr, lower, upper, l2)
    if (mono == 1 and vl > vr) or (mono == -1 and vl < vr):
        return -1.0
    return loss_node - sgl * vl - sgr * vr


@numba.njit(cache=True, nogil=True)
def find_split(hist, n_samples, sum_g, sum_h, value, lower, upper, n_bins_non_missing, has_missing,
               is_categorical, monotonic, allowed, min_samples_leaf, min_hessian, min_gain, l2,
               missing_bin, bitset):  # pragma: no cover - compiled
    """Best split of one node.

    Returns ``(gain, feature, bin, missing_left, sum_g_left, sum_h_left, n_left)``;
    gain -1 when no split satisfies the constraints. ``bitset`` (8,) uint32 receives
    the left categories of a categorical split. ``allowed`` (d,) uint8 masks features
    (interaction constraints, feature subsampling).
    """
    d = hist.shape[0]
    loss_node = sum_g * value
    best_gain = -1.0
    best_f = 0
    best_bin = 0
    best_ml = False
    best_sgl = 0.0
    best_shl = 0.0
    best_nl = 0
    best_cat = False
    cat_vals = np.empty(missing_bin + 1)
    cat_bins = np.empty(missing_bin + 1, dtype=np.int64)
    best_cat_bins = np.empty(missing_bin + 1, dtype=np.int64)
    n_best_cat = 0
    for f in range(d):
        if not allowed[f]:
            continue
        mono = monotonic[f]
        fgain = -1.0
        fbin = 0
        fml = False
        fsgl = 0.0
        fshl = 0.0
        fnl = 0
        nnm = n_bins_non_missing[f]
        hm = has_missing[f]
        if is_categorical[f]:
            support = n_samples / sum_h
            n_used = 0
            for b in range(nnm):
                shb = hist[f, b, 1]
                if shb * support >= _MIN_CAT_SUPPORT:
                    cat_bins[n_used] = b
                    cat_vals[n_used] = hist[f, b, 0] / (shb + _MIN_CAT_SUPPORT)
                    n_used += 1
            if hm:
                shb = hist[f, missing_bin, 1]
                if shb * support >= _MIN_CAT_SUPPORT:
                    cat_bins[n_used] = missing_bin
                    cat_vals[n_used] = hist[f, missing_bin, 0] / (shb + _MIN_CAT_SUPPORT)
                    n_used += 1
            if n_used <= 1:
                continue
            order = np.argsort(cat_vals[:n_used], kind="mergesort")
            sbins = cat_bins[:n_used][order]
            fdir = 0
            fthr = 0
            for direction in (1, -1):
                middle = (n_used + 1) // 2 if direction == 1 else (n_used + 1) // 2 - 1
                sgl = 0.0
                shl = 0.0
                nl = 0
                for i in range(middle):
                    s = i if direction == 1 else n_used - 1 - i
                    b = sbins[s]
                    nl += int(hist[f, b, 2])
                    nr = n_samples - nl
                    shl += hist[f, b, 1]
                    shr = sum_h - shl
                    sgl += hist[f, b, 0]
                    sgr = sum_g - sgl
                    if nl < min_samples_leaf or shl < min_hessian:
                        continue
                    if nr < min_samples_leaf or shr < min_hessian:
                        break
                    gn = _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2)
                    if gn > fgain and gn > min_gain:
                        fgain = gn
                        fthr = s
                        fsgl = sgl
                        fshl = shl
                        fnl = nl
                        fdir = direction
            if fgain > best_gain:
                best_gain = fgain
                best_f = f
                best_bin = 0
                best_sgl = fsgl
                best_shl = fshl
                best_nl = fnl
                best_cat = True
                n_best_cat = 0
                if fdir == 1:
                    for s in range(fthr + 1):
                        best_cat_bins[n_best_cat] = sbins[s]
                        n_best_cat += 1
                else:
                    for s in range(n_used - 1, fthr - 1, -1):
                        best_cat_bins[n_best_cat] = sbins[s]
                        n_best_cat += 1
                best_ml = False
                if hm:
                    for s in range(n_best_cat):
                        if best_cat_bins[s] == missing_bin:
                            best_ml = True
            continue
        # numeric: left to right, missing values to the right
        end = nnm - 1 + hm
        sgl = 0.0
        shl = 0.0
        nl = 0
        for b in range(end):
            nl += int(hist[f, b, 2])
            nr = n_samples - nl
            shl += hist[f, b, 1]
            shr = sum_h - shl
            sgl += hist[f, b, 0]
            sgr = sum_g - sgl
            if nl < min_samples_leaf:
                continue
            if nr < min_samples_leaf:
                break
            if shl < min_hessian:
                continue
            if shr < min_hessian:
                break
            gn = _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2)
            if gn > fgain and gn > min_gain:
                fgain = gn
                fbin = b
                fml = False
                fsgl = sgl
                fshl = shl
                fnl = nl
        if hm:
            # right to left, missing values to the left
            sgr = 0.0
            shr = 0.0
            nr = 0
            for b in range(nnm - 2, -1, -1):
                nr += int(hist[f, b + 1, 2])
                nl = n_samples - nr
                shr += hist[f, b + 1, 1]
                shl = sum_h - shr
                sgr += hist[f, b + 1, 0]
                sgl = sum_g - sgr
                if nr < min_samples_leaf:
                    continue
                if nl < min_samples_leaf:
                    break
                if shr < min_hessian:
                    continue
                if shl < min_hessian:
                    break
                gn = _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2)
                if gn > fgain and gn > min_gain:
                    fgain = gn
                    fbin = b
                    fml = True
                    fsgl = sgl
                    fshl = shl
                    fnl = nl
        if fgain > best_gain:
            best_gain = fgain
            best_f = f
            best_bin = fbin
            best_ml = fml
            best_sgl = fsgl
            best_shl = fshl
            best_nl = fnl
            best_cat = False
    for w in range(bitset.shape[0]):
        bitset[w] = 0
    if best_cat:
        for s in range(n_best_cat):
            b = best_cat_bins[s]
            bitset[b >> 5] |= np.uint32(1) << np.uint32(b & 31)
    return best_gain, best_f, best_bin, best_ml, best_sgl, best_shl, best_nl, best_cat


# --------------------------------------------------------------------------- #
# partitioning, leaves
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True)
def split_indices(idx, start, stop, XbT, feature, bin_idx, missing_left, missing_bin, is_cat, bitset,
                  buf):  # pragma: no cover - compiled
    """Stable partition of ``idx[start:stop]``: rows going left first. Returns how many go left."""
    nl = start
    nr = 0
    col = XbT[feature]
    for r in range(start, stop):
        i = idx[r]
        b = col[i]
        if is_cat:
            left = (bitset[b >> 5] >> np.uint32(b & 31)) & np.uint32(1) != 0
        else:
            left = (missing_left and b == missing_bin) or b <= bin_idx
        if left:
            idx[nl] = i
            nl += 1
        else:
            buf[nr] = i
            nr += 1
    for r in range(nr):
        idx[nl + r] = buf[r]
    return nl - start


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
    """Rows a..b-1 through every tree. ``ints[node] = (feature, left, right, flags)`` with flags
    1 leaf, 2 missing values left, 4 categorical; ``floats[node] = (threshold, value)``."""
    n_trees = roots.shape[0]
    for i in range(a, b):
        row = X[i]
        for t in range(n_trees):
            node = roots[t]
            flags = ints[node, 3]
            while not flags & 1:
                x = row[ints[node, 0]]
                if x != x:
                    go_left = flags & 2
                elif flags & 4:
                    if x < 0 or x > 255:
                        go_left = flags & 2
                    else:
                        c = np.int64(x)
                        word = bitsets[ints[node, 4], c >> 5]
                        go_left = (word >> np.uint32(c & 31)) & np.uint32(1)
                else:
                    go_left = x <= floats[node, 0]
                node = ints[node, 1] if go_left else ints[node, 2]
                flags = ints[node, 3]
            out[tree_out[t], i] += floats[node, 1]


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
    step = 2048
    n_parts = max(1, -(-n // step))
    ints, floats = packed

    def work(p: int) -> None:
        _predict_part(X, p * step, min(n, (p + 1) * step), ints, floats, bitsets, roots, tree_out, out)

    _threaded.parallel_map(work, n_parts)
