"""What every grower takes and returns: the growth parameters and the flat tree (host arrays).

A tree is a handful of small NumPy arrays indexed by node id, nodes numbered in
the order the grower created them (root 0; the ``s``-th split creates nodes
``2s + 1`` (left) and ``2s + 2`` (right)). They are tiny (at most
``2 * max_leaf_nodes - 1`` entries), so they live on the host; the predictor
copies the stacked trees of a model to the data's device once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GrowerParams", "Tree", "TreeBuilder", "allowed_after_split"]


@dataclass
class GrowerParams:
    """The growth parameters of one boosting run (scikit-learn's ``TreeGrower`` arguments)."""

    n_bins: int                      # bins per feature, the missing-values bin (n_bins - 1) included
    n_bins_non_missing: np.ndarray   # (d,) uint32
    has_missing: np.ndarray          # (d,) uint8: missing values seen in training
    is_categorical: np.ndarray       # (d,) uint8
    monotonic: np.ndarray            # (d,) int8: -1, 0, 1
    max_leaf_nodes: int | None = 31
    max_depth: int | None = None
    min_samples_leaf: int = 20
    min_gain_to_split: float = 0.0
    min_hessian_to_split: float = 1e-3
    l2_regularization: float = 0.0
    shrinkage: float = 1.0
    interaction_cst: list[set[int]] | None = None
    feature_fraction: float = 1.0
    rng: Any = None                  # numpy Generator for feature subsampling

    @property
    def missing_bin(self) -> int:
        return self.n_bins - 1

    @property
    def n_features(self) -> int:
        return int(self.n_bins_non_missing.shape[0])

    def __post_init__(self) -> None:
        self.with_monotonic = bool(np.any(self.monotonic != 0))

    def root_allowed(self) -> tuple[np.ndarray | None, list[int] | None]:
        """Features the root may split on (``None``: all) and the active interaction sets."""
        if self.interaction_cst is None:
            return None, None
        allowed = np.zeros(self.n_features, dtype=np.uint8)
        for s in self.interaction_cst:
            allowed[list(s)] = 1
        return allowed, list(range(len(self.interaction_cst)))

    def subsample(self, allowed: np.ndarray | None) -> np.ndarray | None:
        """Apply ``max_features`` to ``allowed`` (scikit-learn's draw: a shuffled mask over the allowed features)."""
        if self.feature_fraction >= 1.0:
            return allowed
        feats = np.arange(self.n_features) if allowed is None else np.flatnonzero(allowed)
        k = max(1, math.ceil(self.feature_fraction * len(feats)))
        mask = np.zeros(len(feats), dtype=bool)
        mask[:k] = True
        self.rng.shuffle(mask)
        out = np.zeros(self.n_features, dtype=np.uint8)
        out[feats[mask]] = 1
        return out


def allowed_after_split(params: GrowerParams, cst_indices: list[int], feature: int) -> tuple[np.ndarray, list[int]]:
    """Interaction constraints of the children of a node split on ``feature`` (scikit-learn's rule)."""
    allowed = np.zeros(params.n_features, dtype=np.uint8)
    kept = []
    for i in cst_indices:
        if feature in params.interaction_cst[i]:
            kept.append(i)
            allowed[list(params.interaction_cst[i])] = 1
    return allowed, kept


@dataclass
class Tree:
    """One fitted tree as flat arrays indexed by node id.

    ``threshold`` is the raw-value threshold (``x <= threshold`` goes left; ``inf``
    for a split that separates missing values only); ``bin`` the bin-code
    threshold; ``bitset_row`` indexes ``bitsets`` (k, 8) uint32 for categorical
    splits (bit ``c`` set: category code ``c`` goes left). ``value`` is the leaf
    value with the learning rate applied; ``gain`` the split gain (0 for leaves).
    """

    feature: np.ndarray
    bin: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    is_leaf: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    count: np.ndarray
    gain: np.ndarray
    depth: np.ndarray
    is_categorical: np.ndarray
    bitset_row: np.ndarray
    bitsets: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(self.feature.shape[0])

    @property
    def n_leaves(self) -> int:
        return int(np.count_nonzero(self.is_leaf))

    def leaf_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.is_leaf)


#: scikit-learn's TreePredictor.nodes record layout, for code that reads ``_predictors``
NODE_RECORD_DTYPE = np.dtype([
    ("value", np.float64), ("count", np.uint32), ("feature_idx", np.int64), ("num_threshold", np.float64),
    ("missing_go_to_left", np.uint8), ("left", np.uint32), ("right", np.uint32), ("gain", np.float64),
    ("depth", np.uint32), ("is_leaf", np.uint8), ("bin_threshold", np.uint8), ("is_categorical", np.uint8),
    ("bitset_idx", np.uint32),
])


class TreeView:
    """A fitted :class:`Tree` as scikit-learn's ``TreePredictor`` shows it: ``nodes`` (a record array
    of :data:`NODE_RECORD_DTYPE`), ``get_n_leaf_nodes()``, ``get_max_depth()``. Read-only; built on access."""

    def __init__(self, tree: Tree, feature_of: np.ndarray) -> None:
        self._tree = tree
        self._feature_of = feature_of  # the input column of each tree-order feature

    @property
    def nodes(self) -> np.ndarray:
        t = self._tree
        nodes = np.zeros(t.n_nodes, dtype=NODE_RECORD_DTYPE)
        leaf = t.is_leaf
        nodes["value"] = np.where(leaf, t.value, 0.0) if t.n_nodes > 1 else t.value
        for name, values in (("count", t.count), ("feature_idx", np.where(leaf, 0, self._feature_of[t.feature])),
                             ("num_threshold", np.where(leaf, 0.0, t.threshold)), ("missing_go_to_left", t.missing_left),
                             ("left", np.where(leaf, 0, t.left)), ("right", np.where(leaf, 0, t.right)),
                             ("gain", t.gain), ("depth", t.depth), ("is_leaf", leaf),
                             ("bin_threshold", np.where(leaf, 0, t.bin)), ("is_categorical", t.is_categorical),
                             ("bitset_idx", np.maximum(t.bitset_row, 0))):
            nodes[name] = values
        return nodes

    @property
    def raw_left_cat_bitsets(self) -> np.ndarray:
        """(n_categorical_splits, 8) uint32: bit ``c`` set when category code ``c`` goes left (the codes
        are the sorted categories' ranks, as scikit-learn's ordinal pre-encoding numbers them)."""
        return self._tree.bitsets

    def get_n_leaf_nodes(self) -> int:
        return self._tree.n_leaves

    def get_max_depth(self) -> int:
        return int(self._tree.depth.max())


@dataclass
class TreeBuilder:
    """Collects nodes as a grower creates them and makes the :class:`Tree`."""

    n_features: int
    feature: list[int] = field(default_factory=list)
    bin: list[int] = field(default_factory=list)
    missing_left: list[bool] = field(default_factory=list)
    is_leaf: list[bool] = field(default_factory=list)
    left: list[int] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    count: list[int] = field(default_factory=list)
    gain: list[float] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    is_categorical: list[bool] = field(default_factory=list)
    bitset_row: list[int] = field(default_factory=list)
    bitsets: list[np.ndarray] = field(default_factory=list)

    def add(self, *, value: float, count: int, depth: int) -> int:
        """A new node, a leaf until :meth:`split` says otherwise; returns its id."""
        self.feature.append(0)
        self.bin.append(0)
        self.missing_left.append(False)
        self.is_leaf.append(True)
        self.left.append(-1)
        self.right.append(-1)
        self.value.append(float(value))
        self.count.append(int(count))
        self.gain.append(0.0)
        self.depth.append(int(depth))
        self.is_categorical.append(False)
        self.bitset_row.append(-1)
        return len(self.value) - 1

    def split(self, node: int, *, feature: int, bin: int, missing_left: bool, gain: float,
              is_categorical: bool, bitset: np.ndarray | None, left: int, right: int) -> None:
        self.feature[node] = int(feature)
        self.bin[node] = int(bin)
        self.missing_left[node] = bool(missing_left)
        self.is_leaf[node] = False
        self.left[node] = int(left)
        self.right[node] = int(right)
        self.gain[node] = float(gain)
        self.is_categorical[node] = bool(is_categorical)
        if is_categorical:
            self.bitset_row[node] = len(self.bitsets)
            self.bitsets.append(np.asarray(bitset, dtype=np.uint32).copy())

    def build(self, thresholds: list[np.ndarray], n_bins_non_missing: np.ndarray, shrinkage: float,
              leaf_values: np.ndarray | None = None) -> Tree:
        """The finished tree: raw thresholds from the bin thresholds, leaf values shrunk.

        ``leaf_values`` (one per node, used at leaves) replaces the grown values
        (losses that update their leaves, e.g. absolute error); it is not shrunk again.
        """
        feature = np.asarray(self.feature, dtype=np.int32)
        bins = np.asarray(self.bin, dtype=np.int32)
        is_leaf = np.asarray(self.is_leaf, dtype=bool)
        is_cat = np.asarray(self.is_categorical, dtype=bool)
        threshold = np.full(feature.shape, np.inf)
        for node in np.flatnonzero(~is_leaf & ~is_cat):
            f, b = int(feature[node]), int(bins[node])
            if b < int(n_bins_non_missing[f]) - 1:
                threshold[node] = thresholds[f][b]
        value = np.asarray(self.value, dtype=np.float64) * shrinkage
        if leaf_values is not None:
            value = np.where(is_leaf, np.asarray(leaf_values, dtype=np.float64), value)
        bitsets = np.stack(self.bitsets) if self.bitsets else np.zeros((0, 8), dtype=np.uint32)
        return Tree(feature, bins, threshold, np.asarray(self.missing_left, dtype=bool), is_leaf,
                    np.asarray(self.left, dtype=np.int32), np.asarray(self.right, dtype=np.int32),
                    value, np.asarray(self.count, dtype=np.int64), np.asarray(self.gain),
                    np.asarray(self.depth, dtype=np.int32), is_cat,
                    np.asarray(self.bitset_row, dtype=np.int32), bitsets)
