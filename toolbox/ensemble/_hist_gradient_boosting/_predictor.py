"""Prediction: the fitted trees as one set of flat arrays, evaluated for every row at once.

A :class:`Forest` stacks the trees of a model (node ids offset, children
renumbered) once; the arrays are copied to a device the first time rows from
that device arrive and kept there. The generic path (any Array API library)
walks every tree for every row in lock-step: ``max_depth`` rounds of gathers
over a (rows, trees) array of node ids, in row chunks. NumPy arrays use a numba
kernel (one row at a time through each tree, rows spread over the thread pool)
when numba is active.

Inputs are raw feature values with categorical features already encoded as
category codes (NaN: missing or unknown): numeric ``x <= threshold`` goes
left, NaN follows the node's missing-value direction, a category goes left
when its bit is set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...backends import primitives
from ...backends._dispatch import namespace_kind, numba_active
from ._tree import Tree

__all__ = ["Forest"]

_FIELDS = ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value", "is_categorical",
           "bitset_row")


class Forest:
    """Trees ``trees[i][k]`` (iteration ``i``, output ``k``) stacked for prediction."""

    def __init__(self, trees: list[list[Tree]]) -> None:
        self.n_iter = len(trees)
        self.n_out = len(trees[0]) if trees else 1
        flat = [t for it in trees for t in it]
        offsets = np.cumsum([0] + [t.n_nodes for t in flat])
        bit_offsets = np.cumsum([0] + [t.bitsets.shape[0] for t in flat])
        cat = lambda k: np.concatenate([getattr(t, k) for t in flat]) if flat else np.zeros(0)  # noqa: E731
        self.host: dict[str, np.ndarray] = {k: cat(k) for k in _FIELDS}
        if flat:
            for key in ("left", "right"):
                self.host[key] = np.concatenate(
                    [np.where(t.is_leaf, 0, getattr(t, key) + o) for t, o in zip(flat, offsets[:-1])]).astype(np.int64)
            self.host["bitset_row"] = np.concatenate(
                [np.where(t.bitset_row >= 0, t.bitset_row + o, 0) for t, o in zip(flat, bit_offsets[:-1])]).astype(np.int64)
            self.host["feature"] = self.host["feature"].astype(np.int64)
        bitsets = [t.bitsets for t in flat if t.bitsets.shape[0]]
        self.host["bitsets"] = np.concatenate(bitsets) if bitsets else np.zeros((1, 8), dtype=np.uint32)
        self.roots = offsets[:-1].astype(np.int64)
        self.tree_out = np.tile(np.arange(self.n_out, dtype=np.int64), self.n_iter)
        self.max_depth = int(max((t.depth.max() for t in flat), default=0))
        self._device: dict[Any, dict[str, Any]] = {}
        self._packed: tuple[np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict[str, Any]:
        """The stacked trees without the per-device copies and packed form (rebuilt on use)."""
        return {**vars(self), "_device": {}, "_packed": None}

    def _arrays(self, xp: Any, device: Any, dtype: Any) -> dict[str, Any]:
        key = (id(xp), str(device), str(dtype))
        if key not in self._device:
            idt = xp.__array_namespace_info__().default_dtypes(device=device)["indexing"]
            conv = {}
            for k, v in self.host.items():
                if v.dtype == np.bool_:
                    dt = xp.bool
                elif v.dtype.kind == "f":
                    dt = dtype
                elif v.dtype == np.uint32:
                    dt = idt
                    v = v.astype(np.int64)
                else:
                    dt = idt
                conv[k] = xp.asarray(v.reshape(-1) if k == "bitsets" else v, dtype=dt, device=device)
            conv["roots"] = xp.asarray(self.roots, dtype=idt, device=device)
            conv["tree_out"] = xp.asarray(self.tree_out, dtype=idt, device=device)
            self._device[key] = conv
        return self._device[key]

    def predict(self, X: Any, *, xp: Any, start: int = 0, stop: int | None = None, out: Any = None) -> Any:
        """Sum of the trees of iterations ``start..stop-1`` for rows of ``X`` (n, d): shape (n_out, n).

        Added to ``out`` (n_out, n) when given (NumPy: in place).
        """
        stop = self.n_iter if stop is None else stop
        n = int(X.shape[0])
        t0, t1 = start * self.n_out, stop * self.n_out
        if namespace_kind(xp) == "numpy" and numba_active():
            from . import _tree_numba

            res = np.zeros((self.n_out, n)) if out is None else out
            if self._packed is None:
                self._packed = _tree_numba.pack(self.host)
            _tree_numba.predict_raw(np.ascontiguousarray(X), self._packed, self.host["bitsets"],
                                    self.roots[t0:t1], self.tree_out[t0:t1], res)
            return res
        res = self._predict_generic(X, t0, t1, xp=xp)
        return res if out is None else out + xp.astype(res, out.dtype)

    def _predict_generic(self, X: Any, t0: int, t1: int, *, xp: Any) -> Any:
        n = int(X.shape[0])
        vdt = X.dtype
        A = self._arrays(xp, X.device, vdt)
        roots, tree_out = A["roots"][t0:t1], A["tree_out"][t0:t1]
        T = t1 - t0
        onehot = xp.astype(tree_out[:, None] == xp.arange(self.n_out, dtype=tree_out.dtype, device=X.device)[None, :],
                           vdt)
        parts = []
        step = primitives.chunk_rows(n, max(T, 1) * 8 * 8)
        for a in range(0, n, step):
            Xc = X[a:min(n, a + step), ...]
            m = int(Xc.shape[0])
            node = xp.broadcast_to(roots[None, :], (m, T))
            for _ in range(self.max_depth):
                flat = xp.reshape(node, (-1,))
                g = lambda k, flat=flat, m=m: xp.reshape(xp.take(A[k], flat), (m, T))  # noqa: E731
                x = xp.take_along_axis(Xc, g("feature"), axis=1)
                nan = xp.isnan(x)
                left = x <= g("threshold")
                if bool(self.host["is_categorical"].any()):
                    code = xp.astype(xp.clip(xp.where(nan, 0.0, x), 0.0, 255.0), A["roots"].dtype)
                    word = xp.reshape(xp.take(A["bitsets"], xp.reshape(g("bitset_row") * 8 + code // 32, (-1,))),
                                      (m, T))
                    bit = (word // (2 ** (code % 32))) % 2 == 1
                    left = xp.where(g("is_categorical"), bit, left)
                left = xp.where(nan, g("missing_left"), left)
                child = xp.where(left, g("left"), g("right"))
                node = xp.where(g("is_leaf"), node, child)
            vals = xp.reshape(xp.take(A["value"], xp.reshape(node, (-1,))), (m, T))
            parts.append((vals @ onehot).T)
        if not parts:
            return xp.zeros((self.n_out, 0), dtype=vdt, device=X.device)
        return parts[0] if len(parts) == 1 else xp.concat(parts, axis=1)
