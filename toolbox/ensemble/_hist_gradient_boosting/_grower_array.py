"""Best-first tree growth written once against the Array API (torch, JAX, CuPy, array_api_strict, NumPy without numba).

The same tree as scikit-learn's ``TreeGrower`` (and ``_grower_host``), grown
with static shapes so that nothing waits for the host inside a tree:

- each sample carries the id of its node (``node_of``, shape (n,));
- node ids are fixed in advance: the ``s``-th split creates nodes ``2s + 1``
  and ``2s + 2``; per-node state lives in arrays of ``M = 2 * max_leaves - 1``
  entries, written at those static positions;
- each step splits the candidate with the largest gain (``argmax``: ties go to
  the node created first, as in the numba grower) or does nothing when none is
  left (every update is masked by ``valid``), so a tree always takes
  ``max_leaves - 1`` steps;
- the smaller child's histogram is one masked pass of the histogram primitive
  over all rows; the larger child's is the parent's minus it.

The host sees the tree once, at the end (``M``-sized arrays, a few KB). The
training rows' leaf ids stay on the device, so updating the raw predictions
needs no transfer.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_extra as xpx
import numpy as np

from ...backends import primitives
from ._splitting import SplitSpec, best_splits, node_value
from ._tree import GrowerParams, TreeBuilder

__all__ = ["ArrayGrower", "max_leaves"]

#: The most bytes the per-node histograms of one tree may take.
HIST_BUDGET = 2**30


def max_leaves(p: GrowerParams, n_samples: int) -> int:
    """Leaves a tree can have: ``max_leaf_nodes``, else the bound from depth and ``min_samples_leaf``."""
    bounds = [max(1, n_samples // max(1, p.min_samples_leaf))]
    if p.max_leaf_nodes is not None:
        bounds.append(p.max_leaf_nodes)
    if p.max_depth is not None:
        bounds.append(2 ** p.max_depth)
    return max(1, min(bounds))


def _set(a: Any, i: int, v: Any) -> Any:
    return xpx.at(a)[i].set(v)


class ArrayGrower:
    """Grows the trees of one boosting run on bin codes ``Xb`` (n, d) uint8 in namespace ``xp``."""

    def __init__(self, Xb: Any, p: GrowerParams, *, xp: Any) -> None:
        self.xp, self.Xb, self.p = xp, Xb, p
        n, d = Xb.shape
        self.n, self.d = int(n), int(d)
        dev = Xb.device
        self.dev = dev
        info = xp.__array_namespace_info__()
        self.hdt = xp.float64 if "float64" in info.dtypes(device=dev) else xp.float32
        self.L = max_leaves(p, self.n)
        self.M = 2 * self.L - 1
        need = self.M * self.d * p.n_bins * 3 * (8 if self.hdt == getattr(xp, "float64", None) else 4)
        if need > HIST_BUDGET:
            raise ValueError(
                f"A tree with up to {self.L} leaves on {self.d} features needs {need / 2**30:.1f} GiB of "
                f"histograms on this backend; set max_leaf_nodes (e.g. 31) or max_depth.")
        asdev = lambda a, dt: xp.asarray(np.asarray(a), dtype=dt, device=dev)  # noqa: E731
        self.spec = SplitSpec(
            n_bins=p.n_bins, nnm=asdev(p.n_bins_non_missing.astype(np.int64), xp.int64),
            has_missing=asdev(p.has_missing.astype(bool), xp.bool),
            is_categorical=asdev(p.is_categorical.astype(bool), xp.bool),
            monotonic=asdev(p.monotonic.astype(np.int64), xp.int64),
            any_categorical=bool(np.any(p.is_categorical)), min_samples_leaf=p.min_samples_leaf,
            min_hessian=p.min_hessian_to_split, min_gain=p.min_gain_to_split, l2=p.l2_regularization)
        if p.interaction_cst is not None:
            members = np.zeros((len(p.interaction_cst), self.d), dtype=bool)
            for i, s in enumerate(p.interaction_cst):
                members[i, list(s)] = True
            self.members = asdev(members, xp.bool)
        else:
            self.members = None

    def _allowed_masks(self) -> Any:
        """Feature-subsampling masks (M, d) for this tree, drawn on the host (``None``: all features)."""
        p = self.p
        if p.feature_fraction >= 1.0:
            return None
        masks = np.ones((self.M, self.d), dtype=bool)
        for i in range(self.M):
            masks[i] = p.subsample(None).astype(bool)
        return self.xp.asarray(masks, device=self.dev)

    def grow(self, g: Any, h: Any | None) -> tuple[TreeBuilder, Any, Any]:
        """Grow one tree from gradients ``g`` (n,) and hessians ``h`` (n,) (None: constant).

        Returns the tree (host), the node id of every training row (n,) int64 and the
        (unshrunk) node values (M,), both on the device.
        """
        xp, p, spec, M, n, d, B = self.xp, self.p, self.spec, self.M, self.n, self.d, self.p.n_bins
        dev, hdt = self.dev, self.hdt
        const = h is None
        ones = xp.ones((n,), dtype=hdt, device=dev)
        gw = xp.astype(g, hdt)
        hw = ones if const else xp.astype(h, hdt)
        W = xp.stack([gw, hw, ones], axis=1)
        hist_root = primitives.histogram(self.Xb, W, B, xp=xp)
        f0 = 0 if p.interaction_cst is None else min(min(s) for s in p.interaction_cst if s)
        sum_g0 = xp.sum(hist_root[f0, :, 0])
        sum_h0 = xp.asarray(float(n), dtype=hdt, device=dev) if const else xp.sum(hist_root[f0, :, 1])
        zf = lambda: xp.zeros((M,), dtype=hdt, device=dev)  # noqa: E731 - separate buffers (updated in place)
        inf = lambda: xp.full((M,), math.inf, dtype=hdt, device=dev)  # noqa: E731
        hist = xp.zeros((M, d, B, 3), dtype=hdt, device=dev)
        hist = _set(hist, 0, hist_root)
        S = {
            "sum_g": _set(zf(), 0, sum_g0), "sum_h": _set(zf(), 0, sum_h0),
            "count": _set(zf(), 0, float(n)), "value": zf(), "lower": -inf(), "upper": inf(),
            "depth": xp.zeros((M,), dtype=xp.int64, device=dev),
        }
        sub = self._allowed_masks()
        if self.members is not None:
            active = xp.zeros((M, self.members.shape[0]), dtype=xp.bool, device=dev)
            active = _set(active, 0, xp.ones((self.members.shape[0],), dtype=xp.bool, device=dev))
        allowed_root = self._allowed_of(active[0:1, :] if self.members is not None else None, sub, [0])
        cand = best_splits(hist[0:1, ...], S["count"][0:1], S["sum_g"][0:1], S["sum_h"][0:1],
                           S["value"][0:1], S["lower"][0:1], S["upper"][0:1], allowed_root, spec, xp=xp)
        root_ok = (S["count"][0] >= 2 * p.min_samples_leaf) & (sum_h0 >= p.min_hessian_to_split)
        C = self._empty_candidates()
        C = self._store(C, [0], cand, root_ok[None])
        node_of = xp.zeros((n,), dtype=xp.int64, device=dev)
        node_ids = xp.arange(M, dtype=xp.int64, device=dev)
        rec = []  # per step: parent, valid (device scalars)
        for s in range(self.L - 1):
            li, ri = 2 * s + 1, 2 * s + 2
            parent = xp.argmax(C["gain"])
            valid = xp.take(C["gain"], parent[None])[0] > 0
            pick = lambda a, parent=parent: xp.take(a, parent[None], axis=0)[0]  # noqa: E731
            f, t, ml = pick(C["feature"]), pick(C["bin"]), pick(C["missing_left"])
            cat, left_bins = pick(C["is_categorical"]), pick(C["left_bins"])
            col = xp.astype(xp.take(self.Xb, f[None], axis=1)[:, 0], xp.int64)
            goes_left = xp.where(cat, xp.take(left_bins, col), (col <= t) | (ml & (col == B - 1)))
            in_parent = (node_of == parent) & valid
            node_of = xp.where(in_parent, xp.where(goes_left, node_of * 0 + li, node_of * 0 + ri), node_of)
            nl, ntot = pick(C["nl"]), pick(S["count"])
            nr = ntot - nl
            sgl, shl = pick(C["sgl"]), pick(C["shl"])
            sgr, shr = pick(S["sum_g"]) - sgl, pick(S["sum_h"]) - shl
            lo, up = pick(S["lower"]), pick(S["upper"])
            vl = node_value(sgl, shl, lo, up, p.l2_regularization, xp=xp)
            vr = node_value(sgr, shr, lo, up, p.l2_regularization, xp=xp)
            # histograms: the smaller child by one pass, the larger by subtraction
            small_left = nl < nr
            small = xp.where(small_left, parent * 0 + li, parent * 0 + ri)
            m = xp.astype(node_of == small, hdt)
            h_small = primitives.histogram(self.Xb, W * m[:, None], B, xp=xp)
            h_large = pick(hist) - h_small
            h_left = xp.where(small_left, h_small, h_large)
            h_right = xp.where(small_left, h_large, h_small)
            hist = _set(_set(hist, li, h_left), ri, h_right)
            depth = pick(S["depth"]) + 1
            # value bounds of the children's children (monotonic constraints)
            mono = xp.take(spec.monotonic, f[None])[0]
            mid = (vl + vr) / 2
            lo_l = xp.where(mono == -1, mid, lo)
            up_l = xp.where(mono == 1, mid, up)
            lo_r = xp.where(mono == 1, mid, lo)
            up_r = xp.where(mono == -1, mid, up)
            for key, a, b in (("sum_g", sgl, sgr), ("sum_h", shl, shr), ("count", nl, nr), ("value", vl, vr),
                              ("lower", lo_l, lo_r), ("upper", up_l, up_r), ("depth", depth, depth)):
                S[key] = _set(_set(S[key], li, a), ri, b)
            if self.members is not None:
                act = pick(active) & xp.take(self.members, f[None], axis=1)[:, 0]
                active = _set(_set(active, li, act), ri, act)
            # the parent is split: no longer a candidate
            C["gain"] = xp.where((node_ids == parent) & valid, -1.0, C["gain"])
            rec.append((parent, valid, f, t, ml, cat, left_bins, pick(C["gain_kept"]), nl, nr))
            if s == self.L - 2:
                break  # the last split: its children are leaves
            ok = valid & (depth < (p.max_depth if p.max_depth is not None else 2**62))
            ok_l = ok & (nl >= 2 * p.min_samples_leaf)
            ok_r = ok & (nr >= 2 * p.min_samples_leaf)
            act2 = active[li:ri + 1, :] if self.members is not None else None
            allowed = self._allowed_of(act2, sub, [li, ri])
            cand = best_splits(hist[li:ri + 1, ...], S["count"][li:ri + 1], S["sum_g"][li:ri + 1],
                               S["sum_h"][li:ri + 1], S["value"][li:ri + 1], S["lower"][li:ri + 1],
                               S["upper"][li:ri + 1], allowed, spec, xp=xp)
            C = self._store(C, [li, ri], cand, xp.stack([ok_l, ok_r]))
        return self._finish(rec, S, C), node_of, S["value"]

    def _allowed_of(self, active: Any, sub: Any, nodes: list[int]) -> Any:
        xp = self.xp
        if active is None:
            allowed = xp.ones((len(nodes), self.d), dtype=xp.bool, device=self.dev)
        else:
            allowed = xp.any(active[:, :, None] & self.members[None, :, :], axis=1)
        if sub is not None:
            allowed = allowed & sub[nodes[0]:nodes[-1] + 1, :]
        return allowed

    def _empty_candidates(self) -> dict[str, Any]:
        xp, M, dev, B = self.xp, self.M, self.dev, self.p.n_bins
        z = lambda dt: xp.zeros((M,), dtype=dt, device=dev)  # noqa: E731
        return {"gain": xp.full((M,), -1.0, dtype=self.hdt, device=dev), "gain_kept": z(self.hdt),
                "feature": z(xp.int64), "bin": z(xp.int64), "missing_left": z(xp.bool),
                "is_categorical": z(xp.bool), "sgl": z(self.hdt), "shl": z(self.hdt), "nl": z(self.hdt),
                "left_bins": xp.zeros((M, B), dtype=xp.bool, device=dev)}

    def _store(self, C: dict[str, Any], nodes: list[int], cand: dict[str, Any], ok: Any) -> dict[str, Any]:
        xp = self.xp
        for j, node in enumerate(nodes):
            for key in ("feature", "bin", "missing_left", "is_categorical", "sgl", "shl", "nl", "left_bins"):
                C[key] = _set(C[key], node, xp.astype(cand[key][j, ...], C[key].dtype))
            gain = xp.astype(cand["gain"][j], self.hdt)
            C["gain_kept"] = _set(C["gain_kept"], node, gain)
            C["gain"] = _set(C["gain"], node, xp.where(ok[j] & (gain > 0), gain, -1.0))
        return C

    def _finish(self, rec: list[tuple[Any, ...]], S: dict[str, Any], C: dict[str, Any]) -> TreeBuilder:
        """The one host synchronisation of a tree: its split records and node statistics."""
        xp = self.xp
        to_np = lambda a: np.asarray(a) if isinstance(a, np.ndarray) else _to_numpy(a)  # noqa: E731
        if rec:
            cols = list(zip(*rec))
            stacked = [xp.stack(list(c)) for c in cols]
            host = [to_np(a) for a in stacked]
        else:
            host = [np.zeros((0,))] * 10
        parent, valid, feat, thr, ml, cat, left_bins, gain, nl, nr = host
        count, value, depth = (to_np(S[k]) for k in ("count", "value", "depth"))
        tb = TreeBuilder(self.d)
        ids = {0: tb.add(value=0.0, count=int(count[0]), depth=0)}
        for s in range(len(rec)):
            if not bool(valid[s]):
                break  # later steps found nothing either
            li, ri = 2 * s + 1, 2 * s + 2
            ids[li] = tb.add(value=float(value[li]), count=int(count[li]), depth=int(depth[li]))
            ids[ri] = tb.add(value=float(value[ri]), count=int(count[ri]), depth=int(depth[ri]))
            f = int(feat[s])
            missing_left = bool(ml[s]) if self.p.has_missing[f] else bool(nl[s] > nr[s])
            bitset = None
            if bool(cat[s]):
                bits = np.zeros(256, dtype=np.uint64)
                bits[:left_bins.shape[1]] = left_bins[s]
                bitset = (bits.reshape(8, 32) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype(np.uint32)
            tb.split(ids[int(parent[s])], feature=f, bin=int(thr[s]), missing_left=missing_left,
                     gain=float(gain[s]), is_categorical=bool(cat[s]), bitset=bitset, left=ids[li], right=ids[ri])
        self.node_map = np.full(self.M, -1, dtype=np.int64)
        for k, v in ids.items():
            self.node_map[k] = v
        return tb


def _to_numpy(a: Any) -> np.ndarray:
    from ...backends import to_backend

    return np.asarray(to_backend(a, "numpy"))
