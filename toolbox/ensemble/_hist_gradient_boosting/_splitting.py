"""Split finding written once against the Array API: every feature and bin of a batch of nodes at once.

The same rules as scikit-learn's ``splitting.pyx`` (and the numba port in
``_grower_numba``), vectorized: cumulative sums over the bins give every
candidate threshold's left and right sums; constraints (``min_samples_leaf``,
``min_hessian_to_split``, monotonic constraints, allowed features) mask
candidates; the best candidate is the first maximum in scikit-learn's scan
order (features ascending; within a feature, left-to-right thresholds with
missing values going right, then right-to-left thresholds with them going left;
categorical features: categories sorted by gradient ratio, scanned from both
ends up to the middle). Static shapes throughout: no boolean indexing, no
data-dependent sizes, no host synchronisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from array_api_compat import device as _dev

__all__ = ["SplitSpec", "best_splits", "node_value"]

_MIN_CAT_SUPPORT = 10.0


@dataclass(frozen=True)
class SplitSpec:
    """Per-feature facts (device arrays, shape (d,)) and scalar constraints."""

    n_bins: int
    nnm: Any            # int64: non-missing bins per feature
    has_missing: Any    # bool
    is_categorical: Any  # bool
    monotonic: Any      # int64 in {-1, 0, 1}
    any_categorical: bool
    min_samples_leaf: int
    min_hessian: float
    min_gain: float
    l2: float


def node_value(sg: Any, sh: Any, lower: Any, upper: Any, l2: float, *, xp: Any) -> Any:
    """``-sg / (sh + l2)`` clipped to ``[lower, upper]`` (scikit-learn's ``compute_node_value``)."""
    v = -sg / (sh + l2 + 1e-15)
    return xp.minimum(xp.maximum(v, lower), upper)


def _gains(sgl: Any, shl: Any, sgr: Any, shr: Any, loss_node: Any, mono: Any, lower: Any, upper: Any,
           l2: float, *, xp: Any) -> Any:
    vl = node_value(sgl, shl, lower, upper, l2, xp=xp)
    vr = node_value(sgr, shr, lower, upper, l2, xp=xp)
    bad = ((mono == 1) & (vl > vr)) | ((mono == -1) & (vl < vr))
    return xp.where(bad, -1.0, loss_node - sgl * vl - sgr * vr)


def _valid(nl: Any, nr: Any, shl: Any, shr: Any, spec: SplitSpec) -> Any:
    return ((nl >= spec.min_samples_leaf) & (nr >= spec.min_samples_leaf)
            & (shl >= spec.min_hessian) & (shr >= spec.min_hessian))


def _first_max(gain: Any, *, xp: Any) -> tuple[Any, Any]:
    """Max along the last axis and the first index where it occurs."""
    pos = xp.argmax(gain, axis=-1)
    return xp.take_along_axis(gain, pos[..., None], axis=-1)[..., 0], pos


def _pick(a: Any, pos: Any, *, xp: Any) -> Any:
    return xp.take_along_axis(a, pos[..., None], axis=-1)[..., 0]


def best_splits(hist: Any, n: Any, sum_g: Any, sum_h: Any, value: Any, lower: Any, upper: Any,
                allowed: Any, spec: SplitSpec, *, xp: Any) -> dict[str, Any]:
    """The best split of each of ``C`` nodes.

    Parameters
    ----------
    hist : array (C, d, B, 3): sums of gradients, hessians and counts per bin (bin B-1: missing values)
    n, sum_g, sum_h, value, lower, upper : arrays (C,): the node's count, sums, (bounded) value and
        children's value bounds
    allowed : bool array (C, d): features the node may split on

    Returns
    -------
    dict of arrays (C,): ``gain`` (-1 where no split is valid), ``feature``, ``bin``,
    ``missing_left``, ``is_categorical``, ``sgl``, ``shl``, ``nl``; and ``left_bins``
    (C, B) bool, the bins of a categorical split that go left.
    """
    C, d, B, _ = hist.shape
    fdt = hist.dtype
    G, H, N = hist[..., 0], hist[..., 1], hist[..., 2]
    loss_node = (sum_g * value)[:, None, None]
    sg, sh, nn = sum_g[:, None, None], sum_h[:, None, None], n[:, None, None]
    lo, up = lower[:, None, None], upper[:, None, None]
    mono = spec.monotonic[None, :, None]
    nnm = spec.nnm[None, :, None]
    hm = spec.has_missing[None, :, None]
    thr = xp.arange(B - 1, dtype=spec.nnm.dtype, device=_dev(hist))[None, None, :]

    # numeric, left to right (missing values go right): thresholds b < nnm - 1 + has_missing
    cgl = xp.cumulative_sum(G[..., :B - 1], axis=-1)
    chl = xp.cumulative_sum(H[..., :B - 1], axis=-1)
    cnl = xp.cumulative_sum(N[..., :B - 1], axis=-1)
    end = nnm - 1 + xp.astype(hm, nnm.dtype)
    ok = (thr < end) & _valid(cnl, nn - cnl, chl, sh - chl, spec)
    g_lr = _gains(cgl, chl, sg - cgl, sh - chl, loss_node, mono, lo, up, spec.l2, xp=xp)
    g_lr = xp.where(ok & (g_lr > spec.min_gain), g_lr, -1.0)

    # numeric, right to left (missing values go left): right = non-missing bins b+1 .. nnm-1
    rev = lambda a: xp.flip(a, axis=-1)  # noqa: E731
    # suffix sums S[b] = sum over bins b+1 .. B-2 (bins >= nnm are empty)
    cgr = rev(xp.cumulative_sum(rev(G[..., 1:B - 1]), axis=-1))
    chr_ = rev(xp.cumulative_sum(rev(H[..., 1:B - 1]), axis=-1))
    cnr = rev(xp.cumulative_sum(rev(N[..., 1:B - 1]), axis=-1))
    zeros = xp.zeros((C, d, 1), dtype=fdt, device=_dev(hist))
    cgr, chr_, cnr = (xp.concat([a, zeros], axis=-1) for a in (cgr, chr_, cnr))
    ok = hm & (thr <= nnm - 2) & _valid(nn - cnr, cnr, sh - chr_, chr_, spec)
    g_rl = _gains(sg - cgr, sh - chr_, cgr, chr_, loss_node, mono, lo, up, spec.l2, xp=xp)
    g_rl = xp.where(ok & (g_rl > spec.min_gain), g_rl, -1.0)

    # scan order: left-to-right ascending, then right-to-left descending
    cand = xp.concat([g_lr, rev(g_rl)], axis=-1)
    best_num, pos = _first_max(cand, xp=xp)
    from_rl = pos >= B - 1
    bin_num = xp.where(from_rl, 2 * (B - 1) - 1 - pos, pos)
    pos_lr = xp.where(from_rl, 0, pos)
    pos_rl = xp.where(from_rl, bin_num, 0)
    sgl_num = xp.where(from_rl, sum_g[:, None] - _pick(cgr, pos_rl, xp=xp), _pick(cgl, pos_lr, xp=xp))
    shl_num = xp.where(from_rl, sum_h[:, None] - _pick(chr_, pos_rl, xp=xp), _pick(chl, pos_lr, xp=xp))
    nl_num = xp.where(from_rl, n[:, None] - _pick(cnr, pos_rl, xp=xp), _pick(cnl, pos_lr, xp=xp))

    feat_gain, feat_sgl, feat_shl, feat_nl = best_num, sgl_num, shl_num, nl_num
    if spec.any_categorical:
        cat = _categorical(G, H, N, n, sum_g, sum_h, loss_node, lo, up, spec, xp=xp)
        is_cat = spec.is_categorical[None, :]
        feat_gain = xp.where(is_cat, cat["gain"], best_num)
        feat_sgl = xp.where(is_cat, cat["sgl"], sgl_num)
        feat_shl = xp.where(is_cat, cat["shl"], shl_num)
        feat_nl = xp.where(is_cat, cat["nl"], nl_num)
    feat_gain = xp.where(allowed, feat_gain, -1.0)
    gain, f = _first_max(feat_gain, xp=xp)
    out = {
        "gain": gain,
        "feature": f,
        "bin": _pick(bin_num, f, xp=xp),
        "missing_left": _pick(from_rl, f, xp=xp),
        "sgl": _pick(feat_sgl, f, xp=xp),
        "shl": _pick(feat_shl, f, xp=xp),
        "nl": _pick(feat_nl, f, xp=xp),
        "is_categorical": xp.take(spec.is_categorical, f, axis=0) if spec.any_categorical
        else xp.zeros((C,), dtype=xp.bool, device=_dev(hist)),
    }
    if spec.any_categorical:
        fi = xp.broadcast_to(f[:, None, None], (C, 1, B))
        left_bins = xp.take_along_axis(cat["left_bins"], fi, axis=1)[:, 0, :]
        out["left_bins"] = left_bins & out["is_categorical"][:, None]
        out["missing_left"] = xp.where(out["is_categorical"], left_bins[:, B - 1] & xp.take(spec.has_missing, f),
                                       out["missing_left"])
        out["bin"] = xp.where(out["is_categorical"], 0, out["bin"])
    else:
        out["left_bins"] = xp.zeros((C, B), dtype=xp.bool, device=_dev(hist))
    return out


def _categorical(G: Any, H: Any, N: Any, n: Any, sum_g: Any, sum_h: Any, loss_node: Any, lo: Any, up: Any,
                 spec: SplitSpec, *, xp: Any) -> dict[str, Any]:
    """Best categorical split of every (node, feature): arrays (C, d) and ``left_bins`` (C, d, B)."""
    _C, _d, B = G.shape
    dev = _dev(G)
    bins = xp.arange(B, dtype=spec.nnm.dtype, device=dev)[None, None, :]
    support = (n / sum_h)[:, None, None]
    eligible = ((bins < spec.nnm[None, :, None]) | ((bins == B - 1) & spec.has_missing[None, :, None]))
    eligible = eligible & (H * support >= _MIN_CAT_SUPPORT)
    ratio = xp.where(eligible, G / (H + _MIN_CAT_SUPPORT), xp.inf)
    order = xp.argsort(ratio, axis=-1, stable=True)            # eligible bins first, by ratio
    n_used = xp.sum(xp.astype(eligible, spec.nnm.dtype), axis=-1)[..., None]  # (C, d, 1)
    sG, sH, sN = (xp.take_along_axis(a, order, axis=-1) for a in (G, H, N))
    i = bins  # positions 0..B-1
    # direction +1: left = sorted[0..i], i < (n_used + 1) // 2
    cg, ch, cn = (xp.cumulative_sum(a, axis=-1) for a in (sG, sH, sN))
    # direction -1: left = sorted[n_used-1-i .. n_used-1], i < (n_used + 1) // 2 - 1
    ridx = xp.clip(n_used - 1 - i, 0, B - 1)
    rG, rH, rN = (xp.take_along_axis(a, ridx, axis=-1) for a in (sG, sH, sN))
    valid_r = i <= n_used - 1
    rg, rh, rn = (xp.cumulative_sum(xp.where(valid_r, a, 0.0), axis=-1) for a in (rG, rH, rN))
    sg, sh, nn = sum_g[:, None, None], sum_h[:, None, None], n[:, None, None]
    mono = spec.monotonic[None, :, None]
    middle = (n_used + 1) // 2
    res = []
    for lg, lh, ln, limit in ((cg, ch, cn, middle), (rg, rh, rn, middle - 1)):
        ok = (i < limit) & (n_used > 1) & _valid(ln, nn - ln, lh, sh - lh, spec)
        gain = _gains(lg, lh, sg - lg, sh - lh, loss_node, mono, lo, up, spec.l2, xp=xp)
        res.append(xp.where(ok & (gain > spec.min_gain), gain, -1.0))
    cand = xp.concat(res, axis=-1)
    gain, pos = _first_max(cand, xp=xp)  # (C, d)
    rl = pos >= B
    p = xp.where(rl, pos - B, pos)
    pick = lambda a: _pick(a, p, xp=xp)  # noqa: E731
    sgl = xp.where(rl, pick(rg), pick(cg))
    shl = xp.where(rl, pick(rh), pick(ch))
    nl = xp.where(rl, pick(rn), pick(cn))
    # left categories: sorted positions 0..p (direction +1) or n_used-1-p .. n_used-1 (direction -1)
    rank = xp.argsort(order, axis=-1, stable=True)               # position of each bin in the sorted order
    p3, rl3 = p[..., None], rl[..., None]
    left = eligible & xp.where(rl3, rank >= n_used - 1 - p3, rank <= p3) & (gain[..., None] > 0)
    return {"gain": gain, "sgl": sgl, "shl": shl, "nl": nl, "left_bins": left}
