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
PART_ROWS = 65536

_MIN_CAT_SUPPORT = 10.0
#: Rows that walk one tree together in the predictor.
_PREDICT_BLOCK = 256


# --------------------------------------------------------------------------- #
# histograms
# --------------------------------------------------------------------------- #


@numba.njit(cache=True, nogil=True)
def _hist_const(Xb, rows, g, f0, f1, acc):  # pragma: no cover - compiled
    """Constant hessians: ``acc[(f * nb + bin) * 2 + (0, 1)] += (g, 1)`` over ``rows`` (None: all)."""
    nb = acc.shape[0] // (Xb.shape[1] * 2)
    m = rows.shape[0]
    for r in range(m):
        i = rows[r]
        x = Xb[i]
        gi = np.float64(g[i])
        for f in range(f0, f1):
            k = (f * nb + x[f]) * 2
            acc[k] += gi
            acc[k + 1] += 1.0


@numba.njit(cache=True, nogil=True)
def _hist_const_range(Xb, a, b, g, f0, f1, acc):  # pragma: no cover - compiled
    """:func:`_hist_const` over the contiguous rows a..b-1 (the root: no index gather)."""
    nb = acc.shape[0] // (Xb.shape[1] * 2)
    for i in range(a, b):
        x = Xb[i]
        gi = np.float64(g[i])
        for f in range(f0, f1):
            k = (f * nb + x[f]) * 2
            acc[k] += gi
            acc[k + 1] += 1.0


@numba.njit(cache=True, nogil=True)
def _hist_full(Xb, rows, g, h, f0, f1, acc):  # pragma: no cover - compiled
    """``acc[(f * nb + bin) * 3 + (0, 1, 2)] += (g, h, 1)`` over ``rows``."""
    nb = acc.shape[0] // (Xb.shape[1] * 3)
    m = rows.shape[0]
    for r in range(m):
        i = rows[r]
        x = Xb[i]
        gi = np.float64(g[i])
        hi = np.float64(h[i])
        for f in range(f0, f1):
            k = (f * nb + x[f]) * 3
            acc[k] += gi
            acc[k + 1] += hi
            acc[k + 2] += 1.0


@numba.njit(cache=True, nogil=True)
def _hist_full_range(Xb, a, b, g, h, f0, f1, acc):  # pragma: no cover - compiled
    nb = acc.shape[0] // (Xb.shape[1] * 3)
    for i in range(a, b):
        x = Xb[i]
        gi = np.float64(g[i])
        hi = np.float64(h[i])
        for f in range(f0, f1):
            k = (f * nb + x[f]) * 3
            acc[k] += gi
            acc[k + 1] += hi
            acc[k + 2] += 1.0


@numba.njit(cache=True, nogil=True)
def _hist_into(Xb, rows, g, h, const, f0, f1, out):  # pragma: no cover - compiled
    """Rows ``rows`` straight into the (d, nb, 3) histogram ``out`` (small nodes: no parts to add up)."""
    for r in range(rows.shape[0]):
        i = rows[r]
        x = Xb[i]
        gi = np.float64(g[i])
        if const:
            for f in range(f0, f1):
                out[f, x[f], 0] += gi
                out[f, x[f], 2] += 1.0
        else:
            hi = np.float64(h[i])
            for f in range(f0, f1):
                b = x[f]
                out[f, b, 0] += gi
                out[f, b, 1] += hi
                out[f, b, 2] += 1.0
    if const:
        for f in range(f0, f1):
            for b in range(out.shape[1]):
                out[f, b, 1] = out[f, b, 2]


def _hist_part(Xb: np.ndarray, idx: np.ndarray, a: int, b: int, g: np.ndarray, h: np.ndarray | None,
               f0: int, f1: int, acc: np.ndarray, contiguous: bool) -> None:
    if h is None:
        if contiguous:
            _hist_const_range(Xb, a, b, g, f0, f1, acc)
        else:
            _hist_const(Xb, idx[a:b], g, f0, f1, acc)
    elif contiguous:
        _hist_full_range(Xb, a, b, g, h, f0, f1, acc)
    else:
        _hist_full(Xb, idx[a:b], g, h, f0, f1, acc)


@numba.njit(cache=True, nogil=True)
def _finish_hist(parts, const, out):  # pragma: no cover - compiled
    """Sum the parts' flat histograms (in part order) into ``out`` (d, nb, 3)."""
    d, nb = out.shape[0], out.shape[1]
    w = 2 if const else 3
    for p in range(parts.shape[0]):
        src = parts[p]
        for f in range(d):
            for k in range(nb):
                j = (f * nb + k) * w
                out[f, k, 0] += src[j]
                if const:
                    out[f, k, 2] += src[j + 1]
                else:
                    out[f, k, 1] += src[j + 1]
                    out[f, k, 2] += src[j + 2]
    if const:
        for f in range(d):
            for k in range(nb):
                out[f, k, 1] = out[f, k, 2]


#: Below this many (row, feature) updates a histogram is built by one thread.
_PARALLEL_WORK = 100_000


def histogram(Xb: np.ndarray, idx: np.ndarray, start: int, stop: int, g: np.ndarray,
              h: np.ndarray | None, n_bins: int) -> np.ndarray:
    """Histogram of rows ``idx[start:stop]`` of the bin codes ``Xb`` (n, d) uint8, C order: (d, n_bins, 3) float64.

    Row-wise (each row's codes are one cache line, read once). ``h=None`` means
    constant hessians (hessian sums are the counts). Large nodes are cut into
    fixed parts of :data:`PART_ROWS` rows, each with its own histogram, summed
    in part order; smaller ones split the features between threads. Either way
    the result does not depend on the number of threads.
    """
    d = Xb.shape[1]
    n_rows = stop - start
    const = h is None
    w = 2 if const else 3
    out = np.zeros((d, n_bins, 3))
    contiguous = n_rows > 0 and int(idx[start]) == start and int(idx[stop - 1]) == stop - 1
    n_parts = -(-n_rows // PART_ROWS)
    if n_parts >= 2:
        parts = np.zeros((n_parts, d * n_bins * w))

        def rows(p: int) -> None:
            a = start + p * PART_ROWS
            _hist_part(Xb, idx, a, min(stop, a + PART_ROWS), g, h, 0, d, parts[p], contiguous)

        _threaded.parallel_map(rows, n_parts)
    else:
        threads = min(_threaded.worker_threads(), d) if n_rows * d >= _PARALLEL_WORK else 1
        edges = [d * t // threads for t in range(threads + 1)]
        rows = idx[start:stop]
        hh = g if const else h

        def features(t: int) -> None:
            _hist_into(Xb, rows, g, hh, const, edges[t], edges[t + 1], out)

        if threads == 1:
            features(0)
        else:
            _threaded.parallel_map(features, threads)
        return out
    _finish_hist(parts, const, out)
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
            cb = hist[f, b, 2]
            if cb == 0.0 and b > 0:
                continue  # same sums as bin b - 1: never a strictly larger gain
            nl += int(cb)
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
                cb = hist[f, b + 1, 2]
                if cb == 0.0 and b < nnm - 2:
                    continue  # same sums as threshold b + 1
                nr += int(cb)
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


@numba.njit(inline="always", nogil=True)
def _goes_left(b, bin_idx, missing_left, missing_bin, is_cat, bitset):  # pragma: no cover - compiled
    if is_cat:
        return (bitset[b >> 5] >> np.uint32(b & 31)) & np.uint32(1) != 0
    return (missing_left and b == missing_bin) or b <= bin_idx


@numba.njit(cache=True, nogil=True)
def _mark(idx, a, b, Xb, feature, bin_idx, missing_left, missing_bin, is_cat, bitset, mask):  # pragma: no cover
    """``mask[r] = goes left`` for r in [a, b); returns how many go left."""
    nl = 0
    for r in range(a, b):
        left = _goes_left(Xb[idx[r], feature], bin_idx, missing_left, missing_bin, is_cat, bitset)
        mask[r] = left
        nl += left
    return nl


@numba.njit(cache=True, nogil=True)
def _scatter(idx, a, b, mask, lpos, rpos, buf):  # pragma: no cover - compiled
    for r in range(a, b):
        i = idx[r]
        if mask[r]:
            buf[lpos] = i
            lpos += 1
        else:
            buf[rpos] = i
            rpos += 1


@numba.njit(cache=True, nogil=True)
def _partition_serial(idx, start, stop, Xb, feature, bin_idx, missing_left, missing_bin, is_cat, bitset,
                      buf):  # pragma: no cover - compiled
    nl = start
    nr = 0
    for r in range(start, stop):
        i = idx[r]
        if _goes_left(Xb[i, feature], bin_idx, missing_left, missing_bin, is_cat, bitset):
            idx[nl] = i
            nl += 1
        else:
            buf[nr] = i
            nr += 1
    for r in range(nr):
        idx[nl + r] = buf[r]
    return nl - start


#: Rows per part of a parallel partition; smaller nodes are partitioned by one thread in one pass.
_SPLIT_PART = 16384


def split_indices(idx: np.ndarray, start: int, stop: int, Xb: np.ndarray, feature: int, bin_idx: int,
                  missing_left: bool, missing_bin: int, is_cat: bool, bitset: np.ndarray, buf: np.ndarray,
                  mask: np.ndarray) -> int:
    """Stable partition of ``idx[start:stop]`` (rows going left first); returns how many go left.

    Two passes over fixed parts (mark and count, then scatter), parts on the thread pool.
    """
    if stop - start < 2 * _SPLIT_PART or _threaded.worker_threads() < 2:
        return int(_partition_serial(idx, start, stop, Xb, feature, bin_idx, missing_left, missing_bin,
                                     is_cat, bitset, buf))
    bounds = [*range(start, stop, _SPLIT_PART), stop]
    n_parts = len(bounds) - 1
    args = (Xb, feature, bin_idx, missing_left, missing_bin, is_cat, bitset, mask)
    counts = _threaded.parallel_map(lambda p: _mark(idx, bounds[p], bounds[p + 1], *args), n_parts) \
        if n_parts > 1 else [_mark(idx, start, stop, *args)]
    n_left = int(sum(counts))
    lpos = start + np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    rights = [bounds[p + 1] - bounds[p] - counts[p] for p in range(n_parts)]
    rpos = start + n_left + np.concatenate([[0], np.cumsum(rights)[:-1]]).astype(np.int64)

    def scatter(p: int) -> None:
        _scatter(idx, bounds[p], bounds[p + 1], mask, int(lpos[p]), int(rpos[p]), buf)

    if n_parts > 1:
        _threaded.parallel_map(scatter, n_parts)
    else:
        scatter(0)
    idx[start:stop] = buf[start:stop]
    return n_left


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
    for i0 in range(a, b, _PREDICT_BLOCK):
        i1 = min(b, i0 + _PREDICT_BLOCK)
        for t in range(n_trees):
            root = roots[t]
            o = tree_out[t]
            for i in range(i0, i1):
                node = root
                flags = ints[node, 3]
                while not flags & 1:
                    x = X[i, ints[node, 0]]
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
                out[o, i] += floats[node, 1]


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
