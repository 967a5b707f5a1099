"""Best-first tree growth on the host with NumPy kernels (the ``"numpy"`` backend: NumPy arrays, no numba).

With numba, :mod:`._grower_numba` grows the same trees in compiled code.

scikit-learn's ``TreeGrower`` step for step: the node with the largest gain
is split next (ties: the node created first); the smaller child's histogram
is built from its rows, the larger one's by subtraction from the parent's;
children with fewer than ``2 * min_samples_leaf`` rows, at ``max_depth``, or
beyond ``max_leaf_nodes`` become leaves; monotonic constraints bound the
children's values by the middle of their values. The loop is over nodes
(at most ``2 * max_leaf_nodes - 1``), never over samples or features.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._tree import GrowerParams, TreeBuilder, allowed_after_split

__all__ = ["GrownTree", "grow"]


@dataclass
class _Node:
    id: int
    depth: int
    start: int
    stop: int
    sum_g: float
    sum_h: float
    value: float
    lower: float = -np.inf
    upper: float = np.inf
    allowed: np.ndarray | None = None
    cst: list[int] | None = None
    hist: np.ndarray | None = None
    split: tuple[Any, ...] | None = None
    bitset: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.stop - self.start


@dataclass
class GrownTree:
    """A grown tree before thresholds are attached, with each leaf's rows.

    ``idx[starts[l]:stops[l]]`` are the training rows of the ``l``-th leaf, whose node id is ``leaves[l]``.
    """

    builder: TreeBuilder
    idx: np.ndarray
    leaves: np.ndarray
    starts: np.ndarray
    stops: np.ndarray


def grow(Xb: np.ndarray, g: np.ndarray, h: np.ndarray | None, p: GrowerParams, *, kernels: Any) -> GrownTree:
    """Grow one tree on bin codes ``Xb`` (n, d) uint8 (C order), gradients ``g`` (n,) and hessians ``h`` (None: constant).

    ``kernels``: :mod:`._tree_numpy`.
    """
    K = kernels
    n, d = Xb.shape
    itype = np.int32 if n < 2**31 else np.intp  # row ids: half the memory of intp
    idx = np.arange(n, dtype=itype)
    buf = np.empty(n, dtype=itype)
    mask = np.empty(n, dtype=np.uint8)
    tb = TreeBuilder(d)
    all_features = np.ones(d, dtype=np.uint8)
    allowed_root, cst_root = p.root_allowed()
    hist = K.histogram(Xb, idx, 0, n, g, h, p.n_bins)
    arbitrary = 0 if allowed_root is None else int(np.flatnonzero(allowed_root)[0])
    sum_g = float(hist[arbitrary, :, 0].sum())
    sum_h = float(n) if h is None else float(hist[arbitrary, :, 1].sum())
    root = _Node(tb.add(value=0.0, count=n, depth=0), 0, 0, n, sum_g, sum_h, 0.0,
                 allowed=allowed_root, cst=cst_root, hist=hist)
    leaves: list[_Node] = []
    heap: list[tuple[float, int, _Node]] = []

    def find_and_push(node: _Node) -> None:
        allowed = p.subsample(node.allowed)
        node.bitset = np.zeros(8, dtype=np.uint32)
        node.split = K.find_split(
            node.hist, node.n, node.sum_g, node.sum_h, node.value, node.lower, node.upper,
            p.n_bins_non_missing, p.has_missing, p.is_categorical, p.monotonic,
            all_features if allowed is None else allowed, p.min_samples_leaf, p.min_hessian_to_split,
            p.min_gain_to_split, p.l2_regularization, p.missing_bin, node.bitset)
        if node.split[0] <= 0:
            node.hist = None
            leaves.append(node)
        else:
            heapq.heappush(heap, (-node.split[0], node.id, node))

    if root.n < 2 * p.min_samples_leaf or sum_h < p.min_hessian_to_split:
        leaves.append(root)
    else:
        find_and_push(root)

    while heap:
        _, _, node = heapq.heappop(heap)
        gain, feature, bin_idx, missing_left, sgl, shl, n_left, is_cat = node.split
        depth = node.depth + 1
        # are the children final leaves? (known before partitioning: n_left comes from the histogram counts)
        n_leaf_nodes = len(leaves) + len(heap) + 2
        last = p.max_leaf_nodes is not None and n_leaf_nodes == p.max_leaf_nodes
        deepest = p.max_depth is not None and depth == p.max_depth
        left_leaf = n_left < 2 * p.min_samples_leaf
        right_leaf = node.n - n_left < 2 * p.min_samples_leaf
        n_left = K.split_indices(idx, node.start, node.stop, Xb, feature, bin_idx, missing_left,
                                 p.missing_bin, is_cat, node.bitset, buf, mask)
        mid = node.start + n_left
        vl = float(K._node_value(sgl, shl, node.lower, node.upper, p.l2_regularization))
        sgr, shr = node.sum_g - sgl, node.sum_h - shl
        vr = float(K._node_value(sgr, shr, node.lower, node.upper, p.l2_regularization))
        left = _Node(tb.add(value=vl, count=n_left, depth=depth), depth, node.start, mid, sgl, shl, vl)
        right = _Node(tb.add(value=vr, count=node.n - n_left, depth=depth), depth, mid, node.stop, sgr, shr, vr)
        if not p.has_missing[feature]:
            # missing values at predict time follow the larger child
            missing_left = left.n > right.n
        tb.split(node.id, feature=feature, bin=bin_idx, missing_left=missing_left, gain=gain,
                 is_categorical=is_cat, bitset=node.bitset, left=left.id, right=right.id)
        if p.interaction_cst is not None:
            left.allowed, left.cst = allowed_after_split(p, node.cst, feature)
            right.allowed, right.cst = left.allowed, left.cst
        if last:
            leaves.extend((left, right))
            leaves.extend(item[2] for item in heap)
            heap.clear()
            break
        if deepest:
            leaves.extend((left, right))
            continue
        if p.with_monotonic:
            c = int(p.monotonic[feature])
            if c == 0:
                bounds_l = bounds_r = (node.lower, node.upper)
            else:
                m = (left.value + right.value) / 2
                if c == 1:
                    bounds_l, bounds_r = (node.lower, m), (m, node.upper)
                else:
                    bounds_l, bounds_r = (m, node.upper), (node.lower, m)
            left.lower, left.upper = bounds_l
            right.lower, right.upper = bounds_r
        if left_leaf and right_leaf:
            leaves.extend((left, right))
        else:
            small, large = (left, right) if left.n < right.n else (right, left)
            small.hist = K.histogram(Xb, idx, small.start, small.stop, g, h, p.n_bins)
            large.hist = node.hist - small.hist
            if h is None:
                large.hist[:, :, 1] = large.hist[:, :, 2]
            for child, is_leaf in ((left, left_leaf), (right, right_leaf)):
                if is_leaf:
                    child.hist = None
                    leaves.append(child)
                else:
                    find_and_push(child)
        node.hist = None

    leaves.sort(key=lambda nd: nd.id)
    return GrownTree(tb, idx, np.asarray([nd.id for nd in leaves], dtype=np.intp),
                     np.asarray([nd.start for nd in leaves], dtype=np.intp),
                     np.asarray([nd.stop for nd in leaves], dtype=np.intp))
