"""Best-first tree growth compiled with numba: the loop over nodes runs in one kernel, parallel where it pays.

The tree is scikit-learn's ``TreeGrower`` tree, split for split (the node with
the largest gain next, ties to the node created first; the smaller child's
histogram from its rows, the larger one's by subtraction; the same leaf rules
as :mod:`._grower_host`). What differs is how the work is laid out:

- Bin codes are Fortran-ordered (n, d) uint8: a node's rows are partitioned
  by reading one contiguous column, and a histogram is built feature by
  feature (each feature's (n_bins, 3) histogram stays in L1), its split scan
  run right after while it is still there.
- Expanding a node (partition, the children's histograms, their best splits)
  depends on that node only, so it may run before the node's turn comes:
  while the node with the largest gain is expanded, the next candidates of the
  heap are expanded beside it (speculatively: the split is committed only when
  best-first order reaches it; an expansion never committed is wasted work,
  never a different tree).
- :func:`advance` runs the best-first loop in compiled code and returns to
  Python only when a batch of expansions is large enough to be worth the
  shared pool's handoff (about 0.1 ms on the 2-core development machine):
  the batch is cut into (node, feature block) items, run by
  :func:`toolbox.backends._threaded.parallel_map`. Every feature's histogram
  and scan is computed by one thread, whole: the tree does not depend on the
  number of threads or on the batching.

Histogram layout: ``pool[k, f, b, c]`` float64, ``c`` = 0 sum of gradients,
1 sum of hessians, 2 count.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from ...backends import _spin, _threaded
from . import _tree_numba
from ._grower_host import GrownTree
from ._tree import GrowerParams, TreeBuilder

__all__ = ["Grower", "compile_kernels"]

# slot integer fields
_START, _STOP, _DEPTH, _ID, _STATE, _HIST, _FEAT, _BIN, _ML, _CAT, _NLEFT, _LEFT, _RIGHT, _NEED, _SMALL, _NBLK = \
    range(16)
_NI = 16
# slot float fields
_SG, _SH, _VALUE, _LOWER, _UPPER, _GAIN, _SGL, _SHL = range(8)
_NF = 8
# slot states
_NEW, _CAND, _PREPARED, _EXPANDED, _SPLIT, _LEAF = range(6)
# control fields
_NSLOTS, _HEAP, _NEXT_ID, _NLEAVES, _NBATCH, _NFREE, _NITEMS, _PENDING, _NPARTS, _LAST, _WORK = range(11)
# advance() results
DONE, BATCH, GROW, PARTITION, FAILED = 0, 1, 2, 3, 4
# the spinning helpers' control array (lane_ctl): request number, stop, kind and size of the work, a
# helper failed, the next unit to claim (request number << 32 | unit), units finished; kinds of work
_L_REQ, _L_STOP, _L_KIND, _L_N, _L_FAILED, _L_CLAIM, _L_FINISHED = range(7)
_L_SIZE = 8
_K_ITEMS, _K_PARTS = 0, 1

#: (row, feature) updates below which a batch is expanded inline, without a handoff to the pool (the
#: handoff costs 40-80 us on the 2-core development machine; 10,000 x 50 fits: 400,000 -> 200,000 took
#: 1.05 -> 0.85 s (classifier) and 0.73 -> 0.58 s (regressor), 1,000 and 100,000 rows unchanged).
PAR_WORK = 200_000
#: The same with spinning helpers (:mod:`toolbox.backends._spin`: a handoff of about 1 us).
LANE_WORK = 20_000
#: Node work (rows x features of the root) from which the helpers spin beside a tree's growth.
LANE_MIN_WORK = 20_000
#: Rows from which a tree's leaf values are added to the raw predictions by every thread.
PAR_LEAF_ROWS = 100_000
#: Target (row, feature) updates per item of a batch.
BLOCK_WORK = 150_000
#: Rows of a node from which its partition runs on the pool, and rows per part of it.
PAR_ROWS = 131072
PART_ROWS = 65536
#: Most parts of the partitions of one batch.
MAX_PARTS = 64
#: The split scan of one feature, in histogram updates per bin (measured: about 4 ns per bin, 1 ns per update).
SCAN_COST = 4
#: Most feature blocks per node and most nodes per batch.
MAX_BLOCKS = 8
MAX_BATCH = 4
_MIN_CAT_SUPPORT = 10.0


# --------------------------------------------------------------------------- #
# small helpers
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


@numba.njit(inline="always", nogil=True)
def _before(k1, i1, k2, i2):  # pragma: no cover - compiled
    return k1 < k2 or (k1 == k2 and i1 < i2)


@numba.njit(inline="always", nogil=True)
def _heap_put(hkey, hid, hslot, i, key, nid, slot):  # pragma: no cover - compiled
    hkey[i] = key
    hid[i] = nid
    hslot[i] = slot


@numba.njit(cache=True, nogil=True)
def _heap_push(hkey, hid, hslot, ctl, key, nid, slot):  # pragma: no cover - compiled
    """Push ``slot`` with key ``(key, nid)`` on the binary heap (smallest first)."""
    i = ctl[_HEAP]
    ctl[_HEAP] = i + 1
    while i > 0:  # sift up
        p = (i - 1) >> 1
        if not _before(key, nid, hkey[p], hid[p]):
            break
        _heap_put(hkey, hid, hslot, i, hkey[p], hid[p], hslot[p])
        i = p
    _heap_put(hkey, hid, hslot, i, key, nid, slot)


@numba.njit(cache=True, nogil=True)
def _heap_pop(hkey, hid, hslot, ctl):  # pragma: no cover - compiled
    """Pop the slot with the smallest key."""
    top = hslot[0]
    n = ctl[_HEAP] - 1
    ctl[_HEAP] = n
    if n > 0:
        key, nid, slot = hkey[n], hid[n], hslot[n]
        i = 0
        while True:  # sift the last entry down from the root
            c = 2 * i + 1
            if c >= n:
                break
            if c + 1 < n and _before(hkey[c + 1], hid[c + 1], hkey[c], hid[c]):
                c += 1
            if not _before(hkey[c], hid[c], key, nid):
                break
            _heap_put(hkey, hid, hslot, i, hkey[c], hid[c], hslot[c])
            i = c
        _heap_put(hkey, hid, hslot, i, key, nid, slot)
    return top


# --------------------------------------------------------------------------- #
# histograms and the split scan of one feature
# --------------------------------------------------------------------------- #


@numba.njit(inline="always", nogil=True)
def _one_rows(col, idx, a, b, og, oh, const, contiguous, hf):  # pragma: no cover - compiled
    """The row loop of :func:`_hist_feature`; inlined with literal ``const`` / ``contiguous`` (a
    loop of its own for each: a run-time test inside the loop made it about 1.8x slower)."""
    for r in range(a, b):
        k = col[r] if contiguous else col[idx[r]]
        hf[k, 0] += og[r]
        if not const:
            hf[k, 1] += oh[r]
        hf[k, 2] += 1.0


@numba.njit(cache=True, nogil=True)
def _hist_feature(col, idx, a, b, og, oh, const, contiguous, hf):  # pragma: no cover - compiled
    """``hf`` (n_bins, 3) = sums over rows ``idx[a:b]`` of ``(g, h, 1)`` in bin ``col[row]``.

    ``og``/``oh`` hold the rows' gradients/hessians in ``idx`` order (positions a..b-1);
    ``contiguous``: the rows are a..b-1 themselves (the root).
    """
    for k in range(hf.shape[0]):
        hf[k, 0] = 0.0
        hf[k, 1] = 0.0
        hf[k, 2] = 0.0
    if contiguous:
        if const:
            _one_rows(col, idx, a, b, og, oh, True, True, hf)
        else:
            _one_rows(col, idx, a, b, og, oh, False, True, hf)
    elif const:
        _one_rows(col, idx, a, b, og, oh, True, False, hf)
    else:
        _one_rows(col, idx, a, b, og, oh, False, False, hf)
    if const:
        for k in range(hf.shape[0]):
            hf[k, 1] = hf[k, 2]


@numba.njit(inline="always", nogil=True)
def _four_rows(c0, c1, c2, c3, h0, h1, h2, h3, idx, a, b, og, oh, const, contiguous):  # pragma: no cover
    """The row loop of :func:`_hist_four`, inlined with literal ``const`` / ``contiguous``."""
    for r in range(a, b):
        i = r if contiguous else idx[r]
        gv = np.float64(og[r])
        k0, k1, k2, k3 = c0[i], c1[i], c2[i], c3[i]
        h0[k0, 0] += gv
        h1[k1, 0] += gv
        h2[k2, 0] += gv
        h3[k3, 0] += gv
        h0[k0, 2] += 1.0
        h1[k1, 2] += 1.0
        h2[k2, 2] += 1.0
        h3[k3, 2] += 1.0
        if not const:
            hv = np.float64(oh[r])
            h0[k0, 1] += hv
            h1[k1, 1] += hv
            h2[k2, 1] += hv
            h3[k3, 1] += hv


@numba.njit(cache=True, nogil=True)
def _hist_four(X, f, idx, a, b, og, oh, const, contiguous, H):  # pragma: no cover - compiled
    """:func:`_hist_feature` for features f..f+3 side by side: each row's index, gradient and hessian
    are read once for four features (four independent histograms in L1, four load chains)."""
    c0, c1, c2, c3 = X[:, f], X[:, f + 1], X[:, f + 2], X[:, f + 3]
    h0, h1, h2, h3 = H[f], H[f + 1], H[f + 2], H[f + 3]
    for k in range(h0.shape[0]):
        for c in range(3):
            h0[k, c] = 0.0
            h1[k, c] = 0.0
            h2[k, c] = 0.0
            h3[k, c] = 0.0
    if contiguous:
        if const:
            _four_rows(c0, c1, c2, c3, h0, h1, h2, h3, idx, a, b, og, oh, True, True)
        else:
            _four_rows(c0, c1, c2, c3, h0, h1, h2, h3, idx, a, b, og, oh, False, True)
    elif const:
        _four_rows(c0, c1, c2, c3, h0, h1, h2, h3, idx, a, b, og, oh, True, False)
    else:
        _four_rows(c0, c1, c2, c3, h0, h1, h2, h3, idx, a, b, og, oh, False, False)
    if const:
        for k in range(h0.shape[0]):
            h0[k, 1] = h0[k, 2]
            h1[k, 1] = h1[k, 2]
            h2[k, 1] = h2[k, 2]
            h3[k, 1] = h3[k, 2]


@numba.njit(cache=True, nogil=True)
def _hist_range(X, f0, f1, idx, a, b, og, oh, const, contiguous, H):  # pragma: no cover - compiled
    """Histograms of features f0..f1-1 into ``H[f]``: four at a time, the rest one by one."""
    f = f0
    while f + 4 <= f1:
        _hist_four(X, f, idx, a, b, og, oh, const, contiguous, H)
        f += 4
    while f < f1:
        _hist_feature(X[:, f], idx, a, b, og, oh, const, contiguous, H[f])
        f += 1


@numba.njit(inline="always", nogil=True)
def _surely_not_better(sgl, shl, sgr, shr, l2, loss_node, fgain, min_gain):  # pragma: no cover - compiled
    """Whether a threshold's gain is surely not above ``max(fgain, min_gain)``, without dividing.

    Unbounded and unconstrained, the gain is ``loss_node + sgl**2 / dl + sgr**2 / dr`` (``dl``, ``dr``
    the hessian sums plus ``l2``, both > 0): compared after multiplying by ``dl * dr``, with a margin
    (1e-9 relative) far above the rounding of either side. A threshold not ruled out gets its exact
    gain, so the split found is the one of the exact scan.
    """
    dl = shl + l2 + 1e-15
    dr = shr + l2 + 1e-15
    t = sgl * sgl * dr + sgr * sgr * dl
    r = (max(fgain, min_gain) - loss_node) * dl * dr
    return t < r - 1e-9 * (t + abs(r))


@numba.njit(inline="always", nogil=True)
def _sweep(hf, reverse, n_thr, n_samples, sum_g, sum_h, loss_node, mono, lower, upper, l2, msl, min_hessian, min_gain,
           fast, fgain, fbin, fsgl, fshl, fnl):  # pragma: no cover - compiled
    """One direction of a numeric scan, continuing from the best so far ``(fgain, fbin, fsgl, fshl, fnl)``.

    Forward, threshold ``b`` (0..n_thr-1) has bins 0..b on the left; reverse (n_thr-1..0), bins
    b+1..n_thr on the right (the missing-values bin goes left). The side being accumulated is the
    "near" one; the constraints are checked near side first, as scikit-learn's loops do (a failing
    far side ends the scan: it only shrinks). Returns the best and whether this scan improved it.
    """
    near_g = 0.0
    near_h = 0.0
    near_n = 0
    improved = False
    for t in range(n_thr):
        b = n_thr - 1 - t if reverse else t
        k = b + 1 if reverse else b
        cb = hf[k, 2]
        if cb == 0.0 and t > 0:
            continue  # the same sums as the threshold before: never a strictly larger gain
        near_n += int(cb)
        near_h += hf[k, 1]
        near_g += hf[k, 0]
        far_n = n_samples - near_n
        far_h = sum_h - near_h
        far_g = sum_g - near_g
        if near_n < msl:
            continue
        if far_n < msl:
            break
        if near_h < min_hessian:
            continue
        if far_h < min_hessian:
            break
        if reverse:
            sgl, shl, nl, sgr, shr = far_g, far_h, far_n, near_g, near_h
        else:
            sgl, shl, nl, sgr, shr = near_g, near_h, near_n, far_g, far_h
        if fast and _surely_not_better(sgl, shl, sgr, shr, l2, loss_node, fgain, min_gain):
            continue
        gn = _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2)
        if gn > fgain and gn > min_gain:
            fgain = gn
            fbin = b
            fsgl = sgl
            fshl = shl
            fnl = nl
            improved = True
    return fgain, fbin, fsgl, fshl, fnl, improved


@numba.njit(cache=True, nogil=True)
def _scan(hf, n_samples, sum_g, sum_h, value, lower, upper, nnm, hm, is_cat, mono, msl, min_hessian,
          min_gain, l2, missing_bin, cat_vals, cat_bins, fbits):  # pragma: no cover - compiled
    """Best split of one feature of one node (scikit-learn's ``splitting.pyx`` scans, step for step).

    Returns ``(gain, bin, missing_left, sum_g_left, sum_h_left, n_left)``; gain -1 when no split
    satisfies the constraints. A categorical feature's left categories go to ``fbits`` (8,) uint32.
    """
    loss_node = sum_g * value
    fgain = -1.0
    fbin = 0
    fml = False
    fsgl = 0.0
    fshl = 0.0
    fnl = 0
    if is_cat:
        support = n_samples / sum_h
        n_used = 0
        for b in range(nnm):
            shb = hf[b, 1]
            if shb * support >= _MIN_CAT_SUPPORT:
                cat_bins[n_used] = b
                cat_vals[n_used] = hf[b, 0] / (shb + _MIN_CAT_SUPPORT)
                n_used += 1
        if hm:
            shb = hf[missing_bin, 1]
            if shb * support >= _MIN_CAT_SUPPORT:
                cat_bins[n_used] = missing_bin
                cat_vals[n_used] = hf[missing_bin, 0] / (shb + _MIN_CAT_SUPPORT)
                n_used += 1
        if n_used <= 1:
            return fgain, fbin, fml, fsgl, fshl, fnl
        # categories by gradient ratio, ties in bin order (a stable sort: scikit-learn's mergesort order)
        for i in range(1, n_used):
            v, cb_ = cat_vals[i], cat_bins[i]
            j = i
            while j > 0 and cat_vals[j - 1] > v:
                cat_vals[j] = cat_vals[j - 1]
                cat_bins[j] = cat_bins[j - 1]
                j -= 1
            cat_vals[j] = v
            cat_bins[j] = cb_
        sbins = cat_bins
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
                nl += int(hf[b, 2])
                nr = n_samples - nl
                shl += hf[b, 1]
                shr = sum_h - shl
                sgl += hf[b, 0]
                sgr = sum_g - sgl
                if nl < msl or shl < min_hessian:
                    continue
                if nr < msl or shr < min_hessian:
                    break
                gn = _gain(sgl, shl, sgr, shr, loss_node, mono, lower, upper, l2)
                if gn > fgain and gn > min_gain:
                    fgain = gn
                    fthr = s
                    fsgl = sgl
                    fshl = shl
                    fnl = nl
                    fdir = direction
        if fgain > -1.0:
            for w in range(fbits.shape[0]):
                fbits[w] = 0
            if fdir == 1:
                lo, hi = 0, fthr + 1
            else:
                lo, hi = fthr, n_used
            for s in range(lo, hi):
                b = sbins[s]
                fbits[b >> 5] |= np.uint32(1) << np.uint32(b & 31)
                if b == missing_bin:
                    fml = True
        return fgain, fbin, fml, fsgl, fshl, fnl
    # numeric: left to right with missing values to the right, then (missing values seen) right to left
    # with them to the left; a threshold of the second scan wins only when strictly better
    fast = mono == 0 and lower == -np.inf and upper == np.inf
    fgain, fbin, fsgl, fshl, fnl, _ = _sweep(hf, False, nnm - 1 + hm, n_samples, sum_g, sum_h, loss_node, mono,
                                             lower, upper, l2, msl, min_hessian, min_gain, fast, fgain, fbin, fsgl,
                                             fshl, fnl)
    if hm:
        fgain, fbin, fsgl, fshl, fnl, fml = _sweep(hf, True, nnm - 1, n_samples, sum_g, sum_h, loss_node, mono,
                                                   lower, upper, l2, msl, min_hessian, min_gain, fast, fgain, fbin,
                                                   fsgl, fshl, fnl)
    return fgain, fbin, fml, fsgl, fshl, fnl


@numba.njit(cache=True, nogil=True)
def _scan_into(c, blk, f, hf, si, sf, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono,
               cat_vals, cat_bins, fbits):  # pragma: no cover - compiled
    """Scan feature ``f`` of slot ``c`` (histogram ``hf``); keep it in block ``blk``'s best when strictly better."""
    msl, missing_bin = spec_i[0], spec_i[1]
    min_hessian, min_gain, l2 = spec_f[0], spec_f[1], spec_f[2]
    n = si[c, _STOP] - si[c, _START]
    cat = is_cat[f] != 0
    gain, b, ml, sgl, shl, nl = _scan(hf, n, sf[c, _SG], sf[c, _SH], sf[c, _VALUE], sf[c, _LOWER], sf[c, _UPPER],
                                      nnm[f], has_missing[f] != 0, cat, mono[f], msl, min_hessian, min_gain, l2,
                                      missing_bin, cat_vals, cat_bins, fbits)
    if gain > bg[c, blk]:
        bg[c, blk] = gain
        bi[c, blk, 0] = f
        bi[c, blk, 1] = b
        bi[c, blk, 2] = ml
        bi[c, blk, 3] = nl
        bi[c, blk, 4] = cat
        bs[c, blk, 0] = sgl
        bs[c, blk, 1] = shl
        if cat:
            for w in range(8):
                bb[c, blk, w] = fbits[w]


@numba.njit(cache=True, nogil=True)
def expand_block(s, blk, f0, f1, XbF, idx, og, oh, const, si, sf, allowed, pool, bg, bi, bs, bb, spec_i, spec_f,
                 nnm, has_missing, is_cat, mono):  # pragma: no cover - compiled
    """Features f0..f1-1 of the expansion of slot ``s`` (prepared): the smaller child's histograms from
    its rows, the larger child's by subtraction from the parent's, and both children's best splits
    over these features, kept as block ``blk``'s results. ``s = -1``: the root's histograms only."""
    nb = pool.shape[2]
    cat_vals = np.empty(nb)
    cat_bins = np.empty(nb, dtype=np.int64)
    fbits = np.zeros(8, dtype=np.uint32)
    # (row bounds and `contiguous` passed as run-time values, never literals: literal arguments would
    # make numba compile the histogram kernels once more for each constant)
    if s < 0:  # the root: all rows, contiguous
        hp = pool[si[0, _HIST]]
        _hist_range(XbF, f0, f1, idx, si[0, _START], si[0, _STOP], og, oh, const, s < 0, hp)
        return
    small = si[s, _SMALL]
    large = si[s, _LEFT] if small == si[s, _RIGHT] else si[s, _RIGHT]
    hs = pool[si[small, _HIST]]
    need_s = si[small, _NEED] != 0
    need_l = si[large, _NEED] != 0
    hl = pool[si[s, _HIST]]  # the parent's, turned into the larger child's
    a, b = si[small, _START], si[small, _STOP]
    _hist_range(XbF, f0, f1, idx, a, b, og, oh, const, s < 0, hs)
    for f in range(f0, f1):
        hsf = hs[f]
        if need_l:
            hlf = hl[f]
            for k in range(nb):
                hlf[k, 0] -= hsf[k, 0]
                hlf[k, 1] -= hsf[k, 1]
                hlf[k, 2] -= hsf[k, 2]
            if allowed[large, f]:
                _scan_into(large, blk, f, hlf, si, sf, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat,
                           mono, cat_vals, cat_bins, fbits)
        if need_s and allowed[small, f]:
            _scan_into(small, blk, f, hsf, si, sf, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat,
                       mono, cat_vals, cat_bins, fbits)


@numba.njit(cache=True, nogil=True)
def run_items(lane, items, nitems, XbF, idx, og, oh, const, si, sf, allowed, pool, bg, bi, bs, bb, spec_i, spec_f,
              nnm, has_missing, is_cat, mono):  # pragma: no cover - compiled
    """The items of a batch given to thread ``lane`` (one call per thread and batch)."""
    for i in range(nitems):
        if items[i, 5] == lane:
            expand_block(items[i, 0], items[i, 1], items[i, 2], items[i, 3], XbF, idx, og, oh, const, si, sf,
                         allowed, pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)


@numba.njit(cache=True, nogil=True)
def scan_root(XbF, si, sf, bits, allowed, pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat,
              mono):  # pragma: no cover - compiled
    """The root's best split from its histograms (slot 0, one block)."""
    nb = pool.shape[2]
    cat_vals = np.empty(nb)
    cat_bins = np.empty(nb, dtype=np.int64)
    fbits = np.zeros(8, dtype=np.uint32)
    hp = pool[si[0, _HIST]]
    bg[0, 0] = -1.0
    root = np.int64(0)  # not a literal 0: the kernels below keep one compiled specialization
    for f in range(XbF.shape[1]):
        if allowed[0, f]:
            _scan_into(root, root, f, hp[f], si, sf, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono,
                       cat_vals, cat_bins, fbits)
    si[0, _NBLK] = 1
    _reduce(root, si, sf, bg, bi, bs, bb, bits, root + 1)


@numba.njit(cache=True, nogil=True)
def _reduce(c, si, sf, bg, bi, bs, bb, bits, nblk):  # pragma: no cover - compiled
    """Slot ``c``'s split: the best of its blocks' results, blocks in feature order (strictly better wins)."""
    best = -1.0
    kb = -1
    for k in range(nblk):
        if bg[c, k] > best:
            best = bg[c, k]
            kb = k
    sf[c, _GAIN] = best
    if kb >= 0:
        si[c, _FEAT] = bi[c, kb, 0]
        si[c, _BIN] = bi[c, kb, 1]
        si[c, _ML] = bi[c, kb, 2]
        si[c, _NLEFT] = bi[c, kb, 3]
        si[c, _CAT] = bi[c, kb, 4]
        sf[c, _SGL] = bs[c, kb, 0]
        sf[c, _SHL] = bs[c, kb, 1]
        for w in range(8):
            bits[c, w] = bb[c, kb, w]


# --------------------------------------------------------------------------- #
# the best-first loop
# --------------------------------------------------------------------------- #


@numba.njit(inline="always", nogil=True)
def _goes_left(b, bin_idx, missing_left, missing_bin, is_cat, bitset):  # pragma: no cover - compiled
    if is_cat:
        return (bitset[b >> 5] >> np.uint32(b & 31)) & np.uint32(1) != 0
    return (missing_left and b == missing_bin) or b <= bin_idx


@numba.njit(cache=True, nogil=True)
def _new_slot(ctl, si, sf, start, stop, depth):  # pragma: no cover - compiled
    c = ctl[_NSLOTS]
    ctl[_NSLOTS] = c + 1
    for j in range(_NI):
        si[c, j] = 0
    si[c, _START] = start
    si[c, _STOP] = stop
    si[c, _DEPTH] = depth
    si[c, _ID] = -1
    si[c, _HIST] = -1
    si[c, _SMALL] = -1
    sf[c, _LOWER] = -np.inf
    sf[c, _UPPER] = np.inf
    sf[c, _GAIN] = -1.0
    return c


@numba.njit(inline="always", nogil=True)
def _take_hist(ctl, free):  # pragma: no cover - compiled
    ctl[_NFREE] -= 1
    return free[ctl[_NFREE]]


@numba.njit(inline="always", nogil=True)
def _give_hist(ctl, free, si, c):  # pragma: no cover - compiled
    k = si[c, _HIST]
    if k >= 0:
        free[ctl[_NFREE]] = k
        ctl[_NFREE] += 1
        si[c, _HIST] = -1


@numba.njit(cache=True, nogil=True)
def _work(s, si, spec_i):  # pragma: no cover - compiled
    """The cost of expanding slot ``s``, in histogram updates: its smaller child's rows times the
    features, plus the split scans of the children that need one (0: no histograms needed)."""
    n = si[s, _STOP] - si[s, _START]
    nl = si[s, _NLEFT]
    nr = n - nl
    msl, max_depth = spec_i[0], spec_i[3]
    if max_depth >= 0 and si[s, _DEPTH] + 1 == max_depth:
        return 0
    scans = (nl >= 2 * msl) + (nr >= 2 * msl)
    if scans == 0:
        return 0
    return (min(nl, nr) + scans * SCAN_COST * spec_i[10]) * spec_i[5]


@numba.njit(inline="always", nogil=True)
def _partition_rows(idx, buf, a, b, col, bin_idx, ml, missing_bin, cat, bitset):  # pragma: no cover - compiled
    """The row loop of :func:`_partition`, inlined with a literal ``cat``."""
    nl = a
    nr = a
    for r in range(a, b):
        i = idx[r]
        go = _goes_left(col[i], bin_idx, ml, missing_bin, cat, bitset)
        idx[nl] = i
        buf[nr] = i
        nl += go
        nr += 1 - go
    return nl - a


@numba.njit(cache=True, nogil=True)
def _partition(idx, buf, a, b, col, bin_idx, ml, missing_bin, cat, bitset):  # pragma: no cover - compiled
    """Stable partition of ``idx[a:b]`` by a split: the rows going left stay in ``idx`` from ``a`` on,
    the others go to ``buf`` from ``a`` on, both in order; returns how many go left. Branch-free: the
    split's direction is data, not control flow."""
    if cat:
        return _partition_rows(idx, buf, a, b, col, bin_idx, ml, missing_bin, True, bitset)
    return _partition_rows(idx, buf, a, b, col, bin_idx, ml, missing_bin, False, bitset)


@numba.njit(cache=True, nogil=True)
def run_parts(lane, lanes, parts, nparts, XbF, idx, buf, si, bits, spec_i):  # pragma: no cover - compiled
    """Thread ``lane``'s parts of a batch's partitions (``parts`` rows: slot, a, b, and how many go left)."""
    for i in range(lane, nparts, lanes):
        s = parts[i, 0]
        parts[i, 3] = _partition(idx, buf, parts[i, 1], parts[i, 2], XbF[:, si[s, _FEAT]], si[s, _BIN],
                                 si[s, _ML] != 0, spec_i[1], si[s, _CAT] != 0, bits[s])


@numba.njit(cache=True, nogil=True)
def _prepare(s, last, XbF, idx, buf, g, h, og, oh, const, ctl, si, sf, bits, act, allowed, free, spec_i, spec_f,
             mono, members, parts, nparts):  # pragma: no cover - compiled
    """Partition slot ``s``'s rows by its split (stable, rows going left first), create its children,
    decide which need a split (and so histograms), gather the smaller child's gradients in row order.
    ``last``: this split is known to be the tree's last (its children are leaves). Where ``parts``
    holds parts of ``s`` (partitioned on the pool), their results are put together instead."""
    msl, missing_bin, max_depth, with_mono, n_sets = spec_i[0], spec_i[1], spec_i[3], spec_i[4], spec_i[6]
    l2 = spec_f[2]
    start, stop = si[s, _START], si[s, _STOP]
    feat = si[s, _FEAT]
    pos = start
    split_in_parts = False
    for q in range(nparts):  # each part's left rows, moved down (never past where they are), in order
        if parts[q, 0] == s:
            split_in_parts = True
            a = parts[q, 1]
            for r in range(a, a + parts[q, 3]):
                idx[pos] = idx[r]
                pos += 1
    if split_in_parts:
        nl = pos
        for q in range(nparts):  # then each part's right rows
            if parts[q, 0] == s:
                a = parts[q, 1]
                for r in range(a, a + (parts[q, 2] - a - parts[q, 3])):
                    idx[pos] = buf[r]
                    pos += 1
    else:
        nl = start + _partition(idx, buf, start, stop, XbF[:, feat], si[s, _BIN], si[s, _ML] != 0, missing_bin,
                                si[s, _CAT] != 0, bits[s])
        for r in range(stop - nl):
            idx[nl + r] = buf[start + r]
    depth = si[s, _DEPTH] + 1
    left = _new_slot(ctl, si, sf, start, nl, depth)
    right = _new_slot(ctl, si, sf, nl, stop, depth)
    si[s, _LEFT] = left
    si[s, _RIGHT] = right
    sgl, shl = sf[s, _SGL], sf[s, _SHL]
    sgr, shr = sf[s, _SG] - sgl, sf[s, _SH] - shl
    lower, upper = sf[s, _LOWER], sf[s, _UPPER]
    sf[left, _SG], sf[left, _SH] = sgl, shl
    sf[right, _SG], sf[right, _SH] = sgr, shr
    vl = _node_value(sgl, shl, lower, upper, l2)
    vr = _node_value(sgr, shr, lower, upper, l2)
    sf[left, _VALUE] = vl
    sf[right, _VALUE] = vr
    deepest = max_depth >= 0 and depth == max_depth
    need_l = not (last or deepest) and nl - start >= 2 * msl
    need_r = not (last or deepest) and stop - nl >= 2 * msl
    si[left, _NEED] = need_l
    si[right, _NEED] = need_r
    si[s, _SMALL] = -1
    if not (need_l or need_r):
        si[s, _STATE] = _PREPARED
        return
    if with_mono:
        c = mono[feat]
        if c != 0:
            m = (vl + vr) / 2
            if c == 1:
                sf[left, _LOWER], sf[left, _UPPER] = lower, m
                sf[right, _LOWER], sf[right, _UPPER] = m, upper
            else:
                sf[left, _LOWER], sf[left, _UPPER] = m, upper
                sf[right, _LOWER], sf[right, _UPPER] = lower, m
        else:
            sf[left, _LOWER], sf[left, _UPPER] = lower, upper
            sf[right, _LOWER], sf[right, _UPPER] = lower, upper
    d = allowed.shape[1]
    for c in (left, right):
        if n_sets == 0:
            for f in range(d):
                allowed[c, f] = 1
        else:  # interaction constraints: the sets that hold the split feature stay active
            for f in range(d):
                allowed[c, f] = 0
            for k in range(n_sets):
                a = act[s, k] != 0 and members[k, feat] != 0
                act[c, k] = a
                if a:
                    for f in range(d):
                        if members[k, f]:
                            allowed[c, f] = 1
    small = left if nl - start < stop - nl else right
    si[s, _SMALL] = small
    si[small, _HIST] = _take_hist(ctl, free)
    if const:  # (two loops: a test inside the loop is paid on every row)
        for r in range(si[small, _START], si[small, _STOP]):
            og[r] = g[idx[r]]
    else:
        for r in range(si[small, _START], si[small, _STOP]):
            i = idx[r]
            og[r] = g[i]
            oh[r] = h[i]
    si[s, _STATE] = _PREPARED


@numba.njit(cache=True, nogil=True)
def _finish(s, ctl, si, sf, bg, bi, bs, bb, bits, free):  # pragma: no cover - compiled
    """After its blocks ran: the children's splits, the histograms handed over or freed."""
    small = si[s, _SMALL]
    if small >= 0:
        large = si[s, _LEFT] if small == si[s, _RIGHT] else si[s, _RIGHT]
        nblk = si[s, _NBLK]
        for c in (small, large):
            if si[c, _NEED]:
                _reduce(c, si, sf, bg, bi, bs, bb, bits, nblk)
        if si[large, _NEED]:
            si[large, _HIST] = si[s, _HIST]
            si[s, _HIST] = -1
        else:
            _give_hist(ctl, free, si, s)
        if not si[small, _NEED]:
            _give_hist(ctl, free, si, small)
    else:
        _give_hist(ctl, free, si, s)
    si[s, _STATE] = _EXPANDED


@numba.njit(cache=True, nogil=True)
def _leaf(c, ctl, si, free):  # pragma: no cover - compiled
    si[c, _STATE] = _LEAF
    ctl[_NLEAVES] += 1
    _give_hist(ctl, free, si, c)


@numba.njit(cache=True, nogil=True)
def _commit(s, ctl, si, sf, free, hkey, hid, hslot, ids, has_missing, spec_i):  # pragma: no cover - compiled
    """Apply the split of ``s`` (expanded, just popped): its children get ids and become leaves or candidates.
    Returns whether the tree is finished (the leaf limit reached)."""
    max_leaf, max_depth = spec_i[2], spec_i[3]
    left, right = si[s, _LEFT], si[s, _RIGHT]
    n_leaf_nodes = ctl[_NLEAVES] + ctl[_HEAP] + 2
    last = max_leaf >= 0 and n_leaf_nodes == max_leaf
    deepest = max_depth >= 0 and si[s, _DEPTH] + 1 == max_depth
    for c in (left, right):
        nid = ctl[_NEXT_ID]
        ctl[_NEXT_ID] = nid + 1
        si[c, _ID] = nid
        ids[nid] = c
    if not has_missing[si[s, _FEAT]]:
        # missing values at predict time follow the larger child
        si[s, _ML] = (si[left, _STOP] - si[left, _START]) > (si[right, _STOP] - si[right, _START])
    si[s, _STATE] = _SPLIT
    if last:  # the children and every candidate left are leaves (the pool is reset for the next tree)
        _leaf(left, ctl, si, free)
        _leaf(right, ctl, si, free)
        while ctl[_HEAP] > 0:
            _leaf(_heap_pop(hkey, hid, hslot, ctl), ctl, si, free)
        return True
    for c in (left, right):
        if deepest or not si[c, _NEED] or sf[c, _GAIN] <= 0:
            _leaf(c, ctl, si, free)
        else:
            si[c, _STATE] = _CAND
            _heap_push(hkey, hid, hslot, ctl, -sf[c, _GAIN], si[c, _ID], c)
    return False


@numba.njit(cache=True, nogil=True)
def _claim(lane_ctl, req, n):  # pragma: no cover - compiled
    """The next unit of request ``req`` (of ``n``) for this thread, or -1: none left, or the request is
    no longer the current one (a helper that woke late never takes a unit of the next request)."""
    while True:
        v = _spin.load_acquire(lane_ctl, _L_CLAIM)
        unit = v & 0xFFFFFFFF
        if (v >> 32) != req or unit >= n:
            return -1
        if _spin.compare_exchange(lane_ctl, _L_CLAIM, v, v + 1):
            return unit


@numba.njit(cache=True, nogil=True)
def _work_units(req, lane_ctl, items, parts, XbF, idx, buf, og, oh, const, si, sf, bits, allowed, pool, bg, bi, bs,
                bb, spec_i, spec_f, nnm, has_missing, is_cat, mono):  # pragma: no cover - compiled
    """Claim and run units of request ``req`` (batch items, or parts of partitions) until none is left.
    Every unit writes its own outputs: who runs it never changes a result."""
    kind, n = lane_ctl[_L_KIND], lane_ctl[_L_N]
    while True:
        i = _claim(lane_ctl, req, n)
        if i < 0:
            return
        if kind == _K_ITEMS:
            expand_block(items[i, 0], items[i, 1], items[i, 2], items[i, 3], XbF, idx, og, oh, const, si, sf,
                         allowed, pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)
        else:
            s = parts[i, 0]
            parts[i, 3] = _partition(idx, buf, parts[i, 1], parts[i, 2], XbF[:, si[s, _FEAT]], si[s, _BIN],
                                     si[s, _ML] != 0, spec_i[1], si[s, _CAT] != 0, bits[s])
        _spin.fetch_add(lane_ctl, _L_FINISHED, 1)


@numba.njit(cache=True, nogil=True)
def lane_loop(lane_ctl, items, parts, XbF, idx, buf, og, oh, const, si, sf, bits, allowed, pool, bg, bi, bs,
              bb, spec_i, spec_f, nnm, has_missing, is_cat, mono):  # pragma: no cover - compiled
    """A spinning helper's loop: take part in each request :func:`advance` posts in ``lane_ctl`` until
    told to stop."""
    seen = 0
    while True:
        req = _spin.load_acquire(lane_ctl, _L_REQ)
        if req == seen:
            if _spin.load_acquire(lane_ctl, _L_STOP) != 0:
                return
            _spin.cpu_yield()
            continue
        seen = req
        _work_units(req, lane_ctl, items, parts, XbF, idx, buf, og, oh, const, si, sf, bits, allowed, pool, bg, bi,
                    bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)


@numba.njit(cache=True, nogil=True)
def _post(lane_ctl, kind, n):  # pragma: no cover - compiled
    """Post ``n`` units of ``kind`` to the spinning helpers; returns the request's number (the caller
    then claims units like any helper, :func:`_work_units`, and waits, :func:`_wait_units`)."""
    lane_ctl[_L_KIND] = kind
    lane_ctl[_L_N] = n
    lane_ctl[_L_FINISHED] = 0
    req = lane_ctl[_L_REQ] + 1
    _spin.store_release(lane_ctl, _L_CLAIM, req << 32)
    _spin.store_release(lane_ctl, _L_REQ, req)
    return req


@numba.njit(cache=True, nogil=True)
def _wait_units(lane_ctl, n):  # pragma: no cover - compiled
    """Wait until the ``n`` units of the current request are finished; False when a helper failed."""
    while _spin.load_acquire(lane_ctl, _L_FINISHED) < n:
        if _spin.load_acquire(lane_ctl, _L_FAILED) != 0:
            return False
        _spin.cpu_yield()
    return True


@numba.njit(cache=True, nogil=True)
def advance(XbF, idx, buf, g, h, og, oh, const, ctl, si, sf, bits, act, allowed, free, pool, hkey, hid, hslot, ids,
            batch, items, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono, members,
            parts, lane_ctl):  # pragma: no cover - compiled
    """Run the best-first loop until the tree is finished (``DONE``), a batch of expansions is worth
    running on the pool (``BATCH``: ``items[:ctl[_NITEMS]]`` rows of (slot, block, f0, f1)), or the
    state needs more room (``GROW``). A pending batch (its items run) is finished first.

    With spinning helpers (``spec_i[16]`` of them, running :func:`lane_loop`), batches and large
    partitions are shared with them here, without returning (``FAILED``: a helper failed). With
    ``spec_i[17]`` (inside a parallel job, where the pool would run them serially anyway), they run
    here one after another: the same items, without the round trip through Python."""
    d = XbF.shape[1]
    max_leaf, threads, speculate = spec_i[2], spec_i[7], spec_i[8]
    par_work, block_work, max_batch, helpers, inline = spec_i[11], spec_i[12], spec_i[13], spec_i[16], spec_i[17]
    while True:
        if ctl[_PENDING] == 1:
            for j in range(ctl[_NBATCH]):
                _finish(batch[j], ctl, si, sf, bg, bi, bs, bb, bits, free)
            ctl[_PENDING] = 0
            ctl[_NBATCH] = 0
        nparts = 0
        if ctl[_PENDING] == 2:  # the batch's large partitions ran on the pool
            nbatch, last, work, nparts = ctl[_NBATCH], ctl[_LAST] != 0, ctl[_WORK], ctl[_NPARTS]
            ctl[_PENDING] = 0
        else:
            if ctl[_HEAP] == 0:
                return DONE
            top = hslot[0]
            if si[top, _STATE] == _EXPANDED:
                _heap_pop(hkey, hid, hslot, ctl)
                if _commit(top, ctl, si, sf, free, hkey, hid, hslot, ids, has_missing, spec_i):
                    return DONE
                continue
            if ctl[_NSLOTS] + 2 * max_batch > si.shape[0] or ctl[_NFREE] < max_batch:
                return GROW
            # the batch: the top candidate, and while the work is small the next ones (speculatively)
            n_leaves = ctl[_NLEAVES] + ctl[_HEAP]
            last = max_leaf >= 0 and n_leaves + 1 == max_leaf
            batch[0] = top
            nbatch = 1
            work = _work(top, si, spec_i) if not last else 0
            if speculate and work < par_work:
                room = max_batch if max_leaf < 0 else min(max_batch, max_leaf - n_leaves)
                m = min(ctl[_HEAP], 15)
                while nbatch < room and work < par_work:
                    best = -1
                    for j in range(1, m):
                        c = hslot[j]
                        if si[c, _STATE] != _CAND:
                            continue
                        taken = False
                        for q in range(nbatch):
                            if batch[q] == c:
                                taken = True
                        if taken:
                            continue
                        if best < 0 or _before(hkey[j], hid[j], hkey[best], hid[best]):
                            best = j
                    if best < 0:
                        break
                    batch[nbatch] = hslot[best]
                    work += _work(hslot[best], si, spec_i)
                    nbatch += 1
            if threads > 1:
                # large nodes: their partitions in parts on the pool first
                big = 0
                for q in range(nbatch):
                    n = si[batch[q], _STOP] - si[batch[q], _START]
                    if n >= spec_i[14]:
                        big += n
                if big > 0:
                    step = max(spec_i[15], -(-big // parts.shape[0]))
                    for q in range(nbatch):
                        b0, b1 = si[batch[q], _START], si[batch[q], _STOP]
                        if b1 - b0 >= spec_i[14]:
                            for a in range(b0, b1, step):
                                parts[nparts, 0] = batch[q]
                                parts[nparts, 1] = a
                                parts[nparts, 2] = min(b1, a + step)
                                nparts += 1
                    ctl[_NBATCH], ctl[_LAST], ctl[_WORK], ctl[_NPARTS] = nbatch, last, work, nparts
                    ctl[_PENDING] = 2
                    if helpers == 0:
                        if not inline:
                            return PARTITION
                        run_parts(0, 1, parts, nparts, XbF, idx, buf, si, bits, spec_i)
                        continue
                    req = _post(lane_ctl, _K_PARTS, nparts)
                    _work_units(req, lane_ctl, items, parts, XbF, idx, buf, og, oh, const, si, sf, bits, allowed,
                                pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)
                    if not _wait_units(lane_ctl, nparts):
                        return FAILED
                    continue
        for q in range(nbatch):
            _prepare(batch[q], last and q == 0, XbF, idx, buf, g, h, og, oh, const, ctl, si, sf, bits, act,
                     allowed, free, spec_i, spec_f, mono, members, parts, nparts)
        # items: (slot, block, f0, f1), larger nodes first
        nitems = 0
        for q in range(nbatch):
            s = batch[q]
            w = _work(s, si, spec_i) if si[s, _SMALL] >= 0 else 0
            if w == 0:
                si[s, _NBLK] = 0
                continue
            nblk = 1
            if work >= par_work and threads > 1:
                nblk = min(MAX_BLOCKS, d, max(1, -(-w // block_work)))
                if nbatch == 1:
                    nblk = max(nblk, min(threads, d))
            si[s, _NBLK] = nblk
            for k in range(nblk):
                for c in (si[s, _LEFT], si[s, _RIGHT]):
                    bg[c, k] = -1.0
                items[nitems, 0] = s
                items[nitems, 1] = k
                items[nitems, 2] = d * k // nblk
                items[nitems, 3] = d * (k + 1) // nblk
                items[nitems, 4] = w // nblk
                nitems += 1
        ctl[_NBATCH] = nbatch
        if (work >= par_work and threads > 1) or spec_i[9]:
            # order the items by work, largest first (insertion sort: a few items), then give each
            # to the least loaded thread (column 5: its lane)
            for i in range(1, nitems):
                j = i
                while j > 0 and items[j - 1, 4] < items[j, 4]:
                    for t in range(5):
                        items[j - 1, t], items[j, t] = items[j, t], items[j - 1, t]
                    j -= 1
            load = np.zeros(max(1, threads), dtype=np.int64)
            for i in range(nitems):
                lane = np.argmin(load)
                items[i, 5] = lane
                load[lane] += items[i, 4] + 1
            ctl[_NITEMS] = nitems
            ctl[_PENDING] = 1
            if helpers == 0:
                if not inline:
                    return BATCH
                for i in range(nitems):
                    expand_block(items[i, 0], items[i, 1], items[i, 2], items[i, 3], XbF, idx, og, oh, const, si,
                                 sf, allowed, pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)
                continue
            req = _post(lane_ctl, _K_ITEMS, nitems)
            _work_units(req, lane_ctl, items, parts, XbF, idx, buf, og, oh, const, si, sf, bits, allowed, pool, bg,
                        bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)
            if not _wait_units(lane_ctl, nitems):
                return FAILED
            continue
        for i in range(nitems):
            expand_block(items[i, 0], items[i, 1], items[i, 2], items[i, 3], XbF, idx, og, oh, const, si, sf,
                         allowed, pool, bg, bi, bs, bb, spec_i, spec_f, nnm, has_missing, is_cat, mono)
        for q in range(nbatch):
            _finish(batch[q], ctl, si, sf, bg, bi, bs, bb, bits, free)
        ctl[_NBATCH] = 0
    return DONE


# --------------------------------------------------------------------------- #
# the driver
# --------------------------------------------------------------------------- #


class Grower:
    """Grows the trees of one boosting run on Fortran-ordered bin codes ``XbF`` (n, d) uint8.

    The workspace (row indices, ordered gradients, node slots, the histogram
    pool) is allocated once and reused by every tree.
    """

    def __init__(self, XbF: np.ndarray, params: GrowerParams) -> None:
        if not XbF.flags.f_contiguous:
            raise ValueError("the numba grower takes Fortran-ordered bin codes")
        self.X = XbF
        self.p = p = params
        n, d = XbF.shape
        self.n, self.d = n, d
        itype = np.int32 if n < 2**31 else np.int64
        self.iota = np.arange(n, dtype=itype)  # the root's rows, copied into ``idx`` for every tree
        self.idx = np.empty(n, dtype=itype)
        self.buf = np.empty(n, dtype=itype)
        self.og = np.empty(n, dtype=np.float32)
        self.oh = np.empty(n, dtype=np.float32)
        self.nnm = np.asarray(p.n_bins_non_missing, dtype=np.int64)
        self.has_missing = np.asarray(p.has_missing, dtype=np.uint8)
        self.is_cat = np.asarray(p.is_categorical, dtype=np.uint8)
        self.mono = np.asarray(p.monotonic, dtype=np.int64)
        sets = p.interaction_cst or []
        self.members = np.zeros((max(1, len(sets)), d), dtype=np.uint8)
        for k, s in enumerate(sets):
            self.members[k, sorted(s)] = 1
        self.threads = max(1, _threaded.worker_threads())
        self.max_batch = MAX_BATCH
        subsample = p.feature_fraction < 1.0
        # one candidate at a time where feature subsampling draws in scikit-learn's order
        self.subsample = subsample
        self.spec_i = np.array([
            p.min_samples_leaf, p.missing_bin, -1 if p.max_leaf_nodes is None else p.max_leaf_nodes,
            -1 if p.max_depth is None else p.max_depth, int(p.with_monotonic), d, len(sets), self.threads,
            int(self.threads > 1 and not subsample), int(subsample), p.n_bins, PAR_WORK, BLOCK_WORK,
            self.max_batch, PAR_ROWS, PART_ROWS, 0, 0], dtype=np.int64)
        self.spec_f = np.array([p.min_hessian_to_split, p.min_gain_to_split, p.l2_regularization])
        self.lane_ctl = np.zeros(_L_SIZE, dtype=np.int64)
        self._lanes: _spin.SpinLanes | None = None
        leaves = p.max_leaf_nodes if p.max_leaf_nodes is not None else 64
        self._alloc(slots=4 * leaves + 4 * self.max_batch + 8, hists=leaves + 2 * self.max_batch + 4)

    def _alloc(self, *, slots: int, hists: int) -> None:
        d, nb = self.d, self.p.n_bins
        self.si = np.zeros((slots, _NI), dtype=np.int64)
        self.sf = np.zeros((slots, _NF))
        self.bits = np.zeros((slots, 8), dtype=np.uint32)
        self.act = np.zeros((slots, self.members.shape[0]), dtype=np.uint8)
        self.allowed = np.zeros((slots, d), dtype=np.uint8)
        self.hkey = np.zeros(slots)
        self.hid = np.zeros(slots, dtype=np.int64)
        self.hslot = np.zeros(slots, dtype=np.int64)
        self.ids = np.zeros(slots, dtype=np.int64)
        self.bg = np.zeros((slots, MAX_BLOCKS))
        self.bi = np.zeros((slots, MAX_BLOCKS, 5), dtype=np.int64)
        self.bs = np.zeros((slots, MAX_BLOCKS, 2))
        self.bb = np.zeros((slots, MAX_BLOCKS, 8), dtype=np.uint32)
        self.pool = np.empty((hists, d, nb, 3))
        self.free = np.arange(hists, dtype=np.int64)[::-1].copy()
        self.batch = np.zeros(self.max_batch, dtype=np.int64)
        self.items = np.zeros((self.max_batch * MAX_BLOCKS, 6), dtype=np.int64)
        self.ctl = np.zeros(11, dtype=np.int64)
        self.parts = np.zeros((MAX_PARTS, 4), dtype=np.int64)

    def _grow_room(self) -> None:
        """Double the node slots (and the histogram pool when it ran short), keeping their contents."""
        ctl = self.ctl
        slots = self.si.shape[0]
        if ctl[_NSLOTS] + 2 * self.max_batch > slots:
            for name in ("si", "sf", "bits", "act", "allowed", "hkey", "hid", "hslot", "ids", "bg", "bi", "bs", "bb"):
                old = getattr(self, name)
                new = np.zeros((2 * old.shape[0], *old.shape[1:]), dtype=old.dtype)
                new[: old.shape[0]] = old
                setattr(self, name, new)
        if ctl[_NFREE] < self.max_batch:
            old = self.pool
            k = old.shape[0]
            self.pool = np.empty((2 * k, *old.shape[1:]))
            self.pool[:k] = old
            free = np.empty(2 * k, dtype=np.int64)
            nfree = int(ctl[_NFREE])
            free[:nfree] = self.free[:nfree]
            free[nfree: nfree + k] = np.arange(2 * k - 1, k - 1, -1)
            self.free = free
            ctl[_NFREE] = nfree + k

    def _state(self) -> tuple[Any, ...]:
        return (self.ctl, self.si, self.sf, self.bits, self.act, self.allowed, self.free, self.pool, self.hkey,
                self.hid, self.hslot, self.ids, self.batch, self.items, self.bg, self.bi, self.bs, self.bb)

    def _block(self, s: int, k: int, f0: int, f1: int, g: np.ndarray, h: np.ndarray, const: bool) -> None:
        expand_block(s, k, f0, f1, self.X, self.idx, self.og if s >= 0 else g, self.oh if s >= 0 else h, const,
                     self.si, self.sf, self.allowed, self.pool, self.bg, self.bi, self.bs, self.bb, self.spec_i,
                     self.spec_f, self.nnm, self.has_missing, self.is_cat, self.mono)

    def grow(self, g: np.ndarray, h: np.ndarray | None) -> GrownTree:
        """One tree on gradients ``g`` (n,) float32 and hessians ``h`` (n,) float32 (None: constant)."""
        p, n, d = self.p, self.n, self.d
        const = h is None
        hh = g if const else h
        self.idx[:] = self.iota
        ctl = self.ctl
        ctl[:] = 0
        ctl[_NFREE] = self.pool.shape[0]
        self.free[: self.pool.shape[0]] = np.arange(self.pool.shape[0] - 1, -1, -1)
        si, sf = self.si, self.sf
        si[0] = 0
        si[0, _STOP] = n
        si[0, [_ID, _HIST, _SMALL]] = (0, -1, -1)
        sf[0] = 0.0
        sf[0, [_LOWER, _UPPER, _GAIN]] = (-np.inf, np.inf, -1.0)
        ctl[_NSLOTS] = 1
        ctl[_NEXT_ID] = 1
        self.ids[0] = 0
        allowed_root, cst_root = p.root_allowed()
        self.allowed[0] = 1 if allowed_root is None else allowed_root
        if cst_root is not None:
            self.act[0] = 0
            self.act[0, cst_root] = 1
        # the root's histograms: feature blocks on the pool
        ctl[_NFREE] -= 1
        si[0, _HIST] = self.free[ctl[_NFREE]]
        g32 = np.ascontiguousarray(g, dtype=np.float32)
        h32 = np.ascontiguousarray(hh, dtype=np.float32)
        nblk = min(d, self.threads) if n * d >= self.spec_i[11] else 1
        edges = [d * k // nblk for k in range(nblk + 1)]
        _threaded.parallel_map(lambda k: self._block(-1, k, edges[k], edges[k + 1], g32, h32, const), nblk)
        hist = self.pool[si[0, _HIST]]
        arbitrary = 0 if allowed_root is None else int(np.flatnonzero(allowed_root)[0])
        sum_g = float(hist[arbitrary, :, 0].sum())
        sum_h = float(n) if const else float(hist[arbitrary, :, 1].sum())
        sf[0, _SG], sf[0, _SH] = sum_g, sum_h
        if n < 2 * p.min_samples_leaf or sum_h < p.min_hessian_to_split:
            si[0, _STATE] = _LEAF
        else:
            if self.subsample:
                self.allowed[0] = _subsampled(p, self.allowed[0])
            scan_root(self.X, si, sf, self.bits, self.allowed, self.pool, self.bg, self.bi, self.bs, self.bb,
                      self.spec_i, self.spec_f, self.nnm, self.has_missing, self.is_cat, self.mono)
            if sf[0, _GAIN] <= 0:
                si[0, _STATE] = _LEAF
            else:
                si[0, _STATE] = _CAND
                _heap_push(self.hkey, self.hid, self.hslot, ctl, -sf[0, _GAIN], 0, 0)
        helpers = self._helpers()
        self.spec_i[16] = helpers
        self.spec_i[17] = int(_threaded.in_job() and not self.subsample)
        self.spec_i[11] = LANE_WORK if helpers else PAR_WORK
        while True:
            if helpers:
                self._start_lanes(const)
            try:
                code = advance(self.X, self.idx, self.buf, g32, h32, self.og, self.oh, const, *self._state(),
                               self.spec_i, self.spec_f, self.nnm, self.has_missing, self.is_cat, self.mono,
                               self.members, self.parts, self.lane_ctl)
            finally:
                if helpers:
                    self._lanes.stop(self.lane_ctl, _L_STOP)
            if code == DONE:
                break
            if code == GROW:
                self._grow_room()
            elif code == PARTITION:
                self._run_parts()
            elif code == FAILED:  # pragma: no cover - stop() raised the helper's error
                raise RuntimeError("a gradient-boosting helper thread failed")
            else:
                self._run_batch(g32, h32, const)
        return self._result()

    def _helpers(self) -> int:
        """Spinning helpers for this tree: every thread but the caller's, unless the tree is grown
        one candidate at a time (feature subsampling), inside a parallel job, where the node work is tiny,
        or where spinning is turned off (``TOOLBOX_SPIN_WAIT=0``, ``OMP_WAIT_POLICY=passive``)."""
        if (self.threads < 2 or self.subsample or not _spin.enabled() or _threaded.in_job()
                or self.n * self.d < LANE_MIN_WORK):
            return 0
        return self.threads - 1

    def _start_lanes(self, const: bool) -> None:
        """Start the helpers' :func:`lane_loop` on the current arrays (fresh ones after a ``GROW``)."""
        if self._lanes is None:
            self._lanes = _spin.SpinLanes(self.threads - 1)
        ctl = self.lane_ctl
        ctl[:] = 0
        args = (ctl, self.items, self.parts, self.X, self.idx, self.buf, self.og, self.oh, const, self.si,
                self.sf, self.bits, self.allowed, self.pool, self.bg, self.bi, self.bs, self.bb, self.spec_i,
                self.spec_f, self.nnm, self.has_missing, self.is_cat, self.mono)
        self._lanes.start(lambda lane: lane_loop(*args), ctl, _L_FAILED)

    def _run_parts(self) -> None:
        nparts = int(self.ctl[_NPARTS])
        lanes = min(self.threads, nparts)
        _threaded.parallel_map(lambda t: run_parts(t, lanes, self.parts, nparts, self.X, self.idx, self.buf, self.si,
                                                   self.bits, self.spec_i), lanes, threads=lanes)

    def _run_batch(self, g: np.ndarray, h: np.ndarray, const: bool) -> None:
        ctl, si = self.ctl, self.si
        if self.subsample:  # scikit-learn's draws: children needing a split, left then right
            for q in range(int(ctl[_NBATCH])):
                s = int(self.batch[q])
                for c in (int(si[s, _LEFT]), int(si[s, _RIGHT])):
                    if si[s, _SMALL] >= 0 and si[c, _NEED]:
                        self.allowed[c] = _subsampled(self.p, self.allowed[c])
        nitems = int(ctl[_NITEMS])
        lanes = int(self.items[:nitems, 5].max()) + 1 if nitems else 0
        _threaded.parallel_map(
            lambda t: run_items(t, self.items, nitems, self.X, self.idx, self.og, self.oh, const, self.si, self.sf,
                                self.allowed, self.pool, self.bg, self.bi, self.bs, self.bb, self.spec_i, self.spec_f,
                                self.nnm, self.has_missing, self.is_cat, self.mono), lanes, threads=lanes)

    def compile_pool_kernels(self) -> None:
        """Compile (or load from numba's cache) the kernels the pool threads run, calling them with no work.

        Only nodes of many rows reach them, so a small fit alone would leave them to the first large one.
        """
        run_items(0, self.items, 0, self.X, self.idx, self.og, self.oh, False, self.si, self.sf, self.allowed,
                  self.pool, self.bg, self.bi, self.bs, self.bb, self.spec_i, self.spec_f, self.nnm,
                  self.has_missing, self.is_cat, self.mono)
        run_parts(0, 1, self.parts, 0, self.X, self.idx, self.buf, self.si, self.bits, self.spec_i)
        stopped = np.zeros_like(self.lane_ctl)
        stopped[_L_STOP] = 1  # returns at once
        lane_loop(stopped, self.items, self.parts, self.X, self.idx, self.buf, self.og, self.oh, False, self.si,
                  self.sf, self.bits, self.allowed, self.pool, self.bg, self.bi, self.bs, self.bb, self.spec_i,
                  self.spec_f, self.nnm, self.has_missing, self.is_cat, self.mono)

    @staticmethod
    def leaf_ids(idx: np.ndarray, starts: np.ndarray, stops: np.ndarray, out: np.ndarray) -> None:
        """``out[idx[starts[l]:stops[l]]] = l`` for every leaf ``l`` of the tree just grown."""
        _tree_numba.leaf_ids(idx, starts, stops, out)

    def add_leaf_values(self, raw: np.ndarray, tree: GrownTree, values: np.ndarray) -> None:
        """``raw[rows of leaf l] += values[l]`` (the tree just grown): leaves split between threads,
        each row added to once."""
        n_leaves = len(tree.leaves)
        parts = min(self.threads, n_leaves) if self.n >= PAR_LEAF_ROWS else 1
        edges = [n_leaves * k // parts for k in range(parts + 1)]
        _threaded.parallel_map(
            lambda k: _tree_numba.update_raw(raw, tree.idx, tree.starts[edges[k]:edges[k + 1]],
                                             tree.stops[edges[k]:edges[k + 1]], values[edges[k]:edges[k + 1]]),
            parts)

    def _result(self) -> GrownTree:
        si, sf, bits = self.si, self.sf, self.bits
        n_ids = int(self.ctl[_NEXT_ID])
        slots = self.ids[:n_ids]
        S = si[slots]
        F = sf[slots]
        is_split = S[:, _STATE] == _SPLIT
        tb = TreeBuilder(self.d)
        zero = np.zeros(n_ids, dtype=np.int64)
        tb.feature = np.where(is_split, S[:, _FEAT], zero).tolist()
        tb.bin = np.where(is_split, S[:, _BIN], zero).tolist()
        tb.missing_left = (is_split & (S[:, _ML] != 0)).tolist()
        tb.is_leaf = (~is_split).tolist()
        tb.left = np.where(is_split, si[S[:, _LEFT], _ID], -1).tolist()
        tb.right = np.where(is_split, si[S[:, _RIGHT], _ID], -1).tolist()
        tb.value = F[:, _VALUE].tolist()
        tb.count = (S[:, _STOP] - S[:, _START]).tolist()
        tb.gain = np.where(is_split, F[:, _GAIN], 0.0).tolist()
        tb.depth = S[:, _DEPTH].tolist()
        cat = is_split & (S[:, _CAT] != 0)
        tb.is_categorical = cat.tolist()
        rows = np.full(n_ids, -1, dtype=np.int64)
        rows[cat] = np.arange(int(cat.sum()))
        tb.bitset_row = rows.tolist()
        tb.bitsets = [bits[s].copy() for s in slots[cat]]
        leaves = np.flatnonzero(~is_split)
        return GrownTree(tb, self.idx, leaves.astype(np.intp), S[leaves, _START].astype(np.intp),
                         S[leaves, _STOP].astype(np.intp))


def _subsampled(p: GrowerParams, allowed: np.ndarray) -> np.ndarray:
    """``max_features``' draw over the allowed features (scikit-learn's, through :meth:`GrowerParams.subsample`)."""
    full = not p.interaction_cst
    out = p.subsample(None if full else allowed.copy())
    return out.astype(np.uint8)


def compile_kernels() -> None:
    """Compile (or load from numba's cache) every kernel of the grower: two small trees (constant and
    per-row hessians) through the serial kernels, then the pool threads' kernels with no work."""
    rng = np.random.default_rng(0)
    n, d, nb = 96, 5, 9
    XbF = np.asfortranarray(rng.integers(0, nb, size=(n, d)).astype(np.uint8))
    params = GrowerParams(n_bins=nb, n_bins_non_missing=np.full(d, nb - 1, dtype=np.uint32),
                          has_missing=np.ones(d, dtype=np.uint8), is_categorical=np.eye(1, d, dtype=np.uint8)[0],
                          monotonic=np.zeros(d, dtype=np.int8), max_leaf_nodes=6, min_samples_leaf=4)
    grower = Grower(XbF, params)
    g = rng.normal(size=n).astype(np.float32)
    grower.grow(g, None)
    grower.grow(g, np.ones(n, dtype=np.float32))
    grower.compile_pool_kernels()
