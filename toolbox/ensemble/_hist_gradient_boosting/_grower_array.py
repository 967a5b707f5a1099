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
from ...backends._dispatch import namespace_kind
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


def _set(a: Any, i: Any, v: Any) -> Any:
    """``a[i, ...] = v`` (in place where the library allows, else a new array)."""
    return xpx.at(a)[(i, ...) if a.ndim > 1 else i].set(v)


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
        self.idt = info.default_dtypes(device=dev)["indexing"]
        self.L = max_leaves(p, self.n)
        self.M = 2 * self.L - 1
        need = self.M * self.d * p.n_bins * 3 * (8 if self.hdt == getattr(xp, "float64", None) else 4)
        if need > HIST_BUDGET:
            raise ValueError(
                f"A tree with up to {self.L} leaves on {self.d} features needs {need / 2**30:.1f} GiB of "
                f"histograms on this backend; set max_leaf_nodes (e.g. 31) or max_depth.")
        asdev = lambda a, dt: xp.asarray(np.asarray(a), dtype=dt, device=dev)  # noqa: E731
        self.spec = SplitSpec(
            n_bins=p.n_bins, nnm=asdev(p.n_bins_non_missing.astype(np.int64), self.idt),
            has_missing=asdev(p.has_missing.astype(bool), xp.bool),
            is_categorical=asdev(p.is_categorical.astype(bool), xp.bool),
            monotonic=asdev(p.monotonic.astype(np.int64), self.idt),
            any_categorical=bool(np.any(p.is_categorical)), min_samples_leaf=p.min_samples_leaf,
            min_hessian=p.min_hessian_to_split, min_gain=p.min_gain_to_split, l2=p.l2_regularization)
        if p.interaction_cst is not None:
            members = np.zeros((len(p.interaction_cst), self.d), dtype=bool)
            for i, s in enumerate(p.interaction_cst):
                members[i, list(s)] = True
            self.members = asdev(members, xp.bool)
        else:
            self.members = None
        self._jitted: dict[Any, Any] = {}

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
        (unshrunk) node values (M,), both on the device. On JAX the whole tree is one
        compiled program (``jax.jit`` around a ``fori_loop`` over the steps).
        """
        sub = self._allowed_masks()
        if namespace_kind(self.xp) == "jax":
            import jax

            key = (h is None, sub is None)
            if key not in self._jitted:
                self._jitted[key] = jax.jit(self._grow_arrays)
            st = self._jitted[key](g, h, sub)
        else:
            st = self._grow_arrays(g, h, sub)
        return self._finish(st), st["node_of"], st["value"]

    def _grow_arrays(self, g: Any, h: Any | None, sub: Any) -> dict[str, Any]:
        """The tree as device arrays: per-node statistics, per-step split records, rows' node ids."""
        xp, p, spec, M, n, B = self.xp, self.p, self.spec, self.M, self.n, self.p.n_bins
        dev, hdt = self.dev, self.hdt
        const = h is None
        ones = xp.ones((n,), dtype=hdt, device=dev)
        W = xp.stack([xp.astype(g, hdt), ones if const else xp.astype(h, hdt), ones], axis=1)
        hist_root = primitives.histogram(self.Xb, W, B, xp=xp)
        f0 = 0 if p.interaction_cst is None else min(min(c) for c in p.interaction_cst if c)
        sum_g0 = xp.sum(hist_root[f0, :, 0])
        sum_h0 = xp.asarray(float(n), dtype=hdt, device=dev) if const else xp.sum(hist_root[f0, :, 1])
        zf = lambda: xp.zeros((M,), dtype=hdt, device=dev)  # noqa: E731 - separate buffers (updated in place)
        inf = lambda: xp.full((M,), math.inf, dtype=hdt, device=dev)  # noqa: E731
        st: dict[str, Any] = {
            "hist": _set(xp.zeros((M, self.d, B, 3), dtype=hdt, device=dev), 0, hist_root),
            "sum_g": _set(zf(), 0, sum_g0), "sum_h": _set(zf(), 0, sum_h0),
            "count": _set(zf(), 0, float(n)), "value": zf(), "lower": -inf(), "upper": inf(),
            "depth": xp.zeros((M,), dtype=self.idt, device=dev),
            "node_of": xp.zeros((n,), dtype=self.idt, device=dev),
        }
        if self.members is not None:
            n_sets = self.members.shape[0]
            st["active"] = _set(xp.zeros((M, n_sets), dtype=xp.bool, device=dev), 0,
                                xp.ones((n_sets,), dtype=xp.bool, device=dev))
        root = xp.asarray([0], dtype=self.idt, device=dev)
        cand = best_splits(st["hist"][0:1, ...], st["count"][0:1], st["sum_g"][0:1], st["sum_h"][0:1],
                           st["value"][0:1], st["lower"][0:1], st["upper"][0:1],
                           self._allowed_of(st, sub, root), spec, xp=xp)
        root_ok = (st["count"][0] >= 2 * p.min_samples_leaf) & (sum_h0 >= p.min_hessian_to_split)
        st.update(self._empty_candidates())
        st = self._store(st, [0], cand, root_ok[None])
        steps = self.L - 1
        z = lambda dt, *shape: xp.zeros((steps, *shape), dtype=dt, device=dev)  # noqa: E731
        st.update({"r_parent": z(self.idt), "r_valid": z(xp.bool), "r_feature": z(self.idt), "r_bin": z(self.idt),
                   "r_ml": z(xp.bool), "r_cat": z(xp.bool), "r_left_bins": z(xp.bool, B), "r_gain": z(hdt),
                   "r_nl": z(hdt), "r_nr": z(hdt)})
        if steps == 0:
            return st
        if namespace_kind(xp) == "jax":
            import jax

            return jax.lax.fori_loop(0, steps, lambda s, st: self._step(s, st, W, sub, const), st)
        for s in range(steps):
            st = self._step(s, st, W, sub, const)
        return st

    def _step(self, s: Any, st: dict[str, Any], W: Any, sub: Any, const: bool) -> dict[str, Any]:
        """Split the best candidate (or nothing): step ``s`` creates nodes ``2s + 1`` and ``2s + 2``."""
        xp, p, spec, B = self.xp, self.p, self.spec, self.p.n_bins
        hdt = self.hdt
        st = dict(st)
        li, ri = 2 * s + 1, 2 * s + 2
        pair = (xp.asarray([li, ri], dtype=self.idt, device=self.dev) if isinstance(s, int)
                else xp.stack([li, ri]))
        parent = xp.argmax(st["gain"])
        valid = xp.take(st["gain"], parent[None])[0] > 0
        pick = lambda a: xp.take(a, parent[None], axis=0)[0, ...]  # noqa: E731
        f, t, ml = pick(st["feature"]), pick(st["bin"]), pick(st["missing_left"])
        cat, left_bins = pick(st["is_categorical"]), pick(st["left_bins"])
        col = xp.astype(xp.take(self.Xb, f[None], axis=1)[:, 0], self.idt)
        goes_left = xp.where(cat, xp.take(left_bins, col), (col <= t) | (ml & (col == B - 1)))
        node_of = st["node_of"]
        in_parent = (node_of == parent) & valid
        st["node_of"] = node_of = xp.where(in_parent, xp.where(goes_left, node_of * 0 + li, node_of * 0 + ri),
                                           node_of)
        nl, ntot = pick(st["nl"]), pick(st["count"])
        nr = ntot - nl
        sgl, shl = pick(st["sgl"]), pick(st["shl"])
        sgr, shr = pick(st["sum_g"]) - sgl, pick(st["sum_h"]) - shl
        lo, up = pick(st["lower"]), pick(st["upper"])
        vl = node_value(sgl, shl, lo, up, p.l2_regularization, xp=xp)
        vr = node_value(sgr, shr, lo, up, p.l2_regularization, xp=xp)
        # histograms: the smaller child by one masked pass, the larger by subtraction
        small_left = nl < nr
        small = xp.where(small_left, parent * 0 + li, parent * 0 + ri)
        m = xp.astype(node_of == small, hdt)
        h_small = primitives.histogram(self.Xb, W * m[:, None], B, xp=xp)
        h_large = pick(st["hist"]) - h_small
        st["hist"] = _set(_set(st["hist"], li, xp.where(small_left, h_small, h_large)), ri,
                          xp.where(small_left, h_large, h_small))
        depth = pick(st["depth"]) + 1
        # value bounds for the children's splits (monotonic constraints)
        mono = xp.take(spec.monotonic, f[None])[0]
        mid = (vl + vr) / 2
        lo_l, up_l = xp.where(mono == -1, mid, lo), xp.where(mono == 1, mid, up)
        lo_r, up_r = xp.where(mono == 1, mid, lo), xp.where(mono == -1, mid, up)
        for key, a, b in (("sum_g", sgl, sgr), ("sum_h", shl, shr), ("count", nl, nr), ("value", vl, vr),
                          ("lower", lo_l, lo_r), ("upper", up_l, up_r), ("depth", depth, depth)):
            st[key] = _set(_set(st[key], li, a), ri, b)
        if self.members is not None:
            act = pick(st["active"]) & xp.take(self.members, f[None], axis=1)[:, 0]
            st["active"] = _set(_set(st["active"], li, act), ri, act)
        # the parent is split: no longer a candidate
        st["gain"] = xp.where((xp.arange(self.M, dtype=self.idt, device=self.dev) == parent) & valid, -1.0,
                              st["gain"])
        for key, v in (("r_parent", parent), ("r_valid", valid), ("r_feature", f), ("r_bin", t), ("r_ml", ml),
                       ("r_cat", cat), ("r_left_bins", left_bins), ("r_gain", pick(st["gain_kept"])),
                       ("r_nl", nl), ("r_nr", nr)):
            st[key] = _set(st[key], s, xp.astype(v, st[key].dtype))
        if isinstance(s, int) and s == self.L - 2:
            return st  # the last split: its children are leaves
        ok = valid & (depth < (p.max_depth if p.max_depth is not None else self.M)) & (s < self.L - 2)
        ok_lr = xp.stack([ok & (nl >= 2 * p.min_samples_leaf), ok & (nr >= 2 * p.min_samples_leaf)])
        rows = lambda a: xp.take(a, pair, axis=0)  # noqa: E731
        cand = best_splits(rows(st["hist"]), rows(st["count"]), rows(st["sum_g"]), rows(st["sum_h"]),
                           rows(st["value"]), rows(st["lower"]), rows(st["upper"]),
                           self._allowed_of(st, sub, pair), spec, xp=xp)
        return self._store(st, [li, ri], cand, ok_lr)

    def _allowed_of(self, st: dict[str, Any], sub: Any, nodes: Any) -> Any:
        """Features nodes ``nodes`` (int array) may split on: interaction constraints and subsampling, (C, d)."""
        xp = self.xp
        if self.members is None:
            allowed = xp.ones((nodes.shape[0], self.d), dtype=xp.bool, device=self.dev)
        else:
            active = xp.take(st["active"], nodes, axis=0)
            allowed = xp.any(active[:, :, None] & self.members[None, :, :], axis=1)
        if sub is not None:
            allowed = allowed & xp.take(sub, nodes, axis=0)
        return allowed

    def _empty_candidates(self) -> dict[str, Any]:
        """Each node's best split found so far; ``gain`` -1 marks nodes that are no candidate."""
        xp, M, dev, B = self.xp, self.M, self.dev, self.p.n_bins
        z = lambda dt: xp.zeros((M,), dtype=dt, device=dev)  # noqa: E731
        return {"gain": xp.full((M,), -1.0, dtype=self.hdt, device=dev), "gain_kept": z(self.hdt),
                "feature": z(self.idt), "bin": z(self.idt), "missing_left": z(xp.bool),
                "is_categorical": z(xp.bool), "sgl": z(self.hdt), "shl": z(self.hdt), "nl": z(self.hdt),
                "left_bins": xp.zeros((M, B), dtype=xp.bool, device=dev)}

    def _store(self, C: dict[str, Any], nodes: list[Any], cand: dict[str, Any], ok: Any) -> dict[str, Any]:
        """Write the candidate splits ``cand`` of ``nodes`` into the state; ``ok`` (C,) marks splittable ones."""
        xp = self.xp
        for j, node in enumerate(nodes):
            for key in ("feature", "bin", "missing_left", "is_categorical", "sgl", "shl", "nl", "left_bins"):
                C[key] = _set(C[key], node, xp.astype(cand[key][j, ...], C[key].dtype))
            gain = xp.astype(cand["gain"][j], self.hdt)
            C["gain_kept"] = _set(C["gain_kept"], node, gain)
            C["gain"] = _set(C["gain"], node, xp.where(ok[j] & (gain > 0), gain, -1.0))
        return C

    def _finish(self, st: dict[str, Any]) -> TreeBuilder:
        """The one host synchronisation of a tree: its split records and node statistics (a few KB)."""
        keys = ("r_parent", "r_valid", "r_feature", "r_bin", "r_ml", "r_cat", "r_left_bins", "r_gain", "r_nl",
                "r_nr", "count", "value", "depth")
        host = {k: _to_numpy(st[k]) for k in keys}
        count, value, depth = host["count"], host["value"], host["depth"]
        tb = TreeBuilder(self.d)
        tb.add(value=0.0, count=int(count[0]), depth=0)
        for s in range(self.L - 1):
            if not bool(host["r_valid"][s]):
                break  # later steps found nothing either
            li, ri = 2 * s + 1, 2 * s + 2
            tb.add(value=float(value[li]), count=int(count[li]), depth=int(depth[li]))
            tb.add(value=float(value[ri]), count=int(count[ri]), depth=int(depth[ri]))
            f = int(host["r_feature"][s])
            nl, nr = host["r_nl"][s], host["r_nr"][s]
            missing_left = bool(host["r_ml"][s]) if self.p.has_missing[f] else bool(nl > nr)
            bitset = None
            is_cat = bool(host["r_cat"][s])
            if is_cat:
                bits = np.zeros(256, dtype=np.uint64)
                bits[:self.p.n_bins] = host["r_left_bins"][s]
                bitset = (bits.reshape(8, 32) << np.arange(32, dtype=np.uint64)).sum(axis=1).astype(np.uint32)
            tb.split(int(host["r_parent"][s]), feature=f, bin=int(host["r_bin"][s]), missing_left=missing_left,
                     gain=float(host["r_gain"][s]), is_categorical=is_cat, bitset=bitset, left=li, right=ri)
        return tb


def _to_numpy(a: Any) -> np.ndarray:
    from ...backends import to_backend

    return np.asarray(to_backend(a, "numpy"))
