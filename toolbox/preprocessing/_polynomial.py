"""Polynomial and interaction features."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from itertools import chain, combinations, combinations_with_replacement
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in

from ..base import BaseEstimator, TransformerMixin, check_is_fitted, validate_data

__all__ = ["PolynomialFeatures"]


def _combinations(n_features: int, min_degree: int, max_degree: int, interaction_only: bool,
                  include_bias: bool) -> Iterator[tuple[int, ...]]:
    """The output terms in scikit-learn's order, as sorted tuples of feature indices."""
    comb = combinations if interaction_only else combinations_with_replacement
    start = max(1, min_degree)
    terms: Iterable[tuple[int, ...]] = chain.from_iterable(
        comb(range(n_features), i) for i in range(start, max_degree + 1)
    )
    if include_bias:
        terms = chain(comb(range(n_features), 0), terms)
    return iter(terms)


def _num_combinations(n_features: int, min_degree: int, max_degree: int, interaction_only: bool,
                      include_bias: bool) -> int:
    if interaction_only:
        total = sum(math.comb(n_features, i) for i in range(max(1, min_degree), min(max_degree, n_features) + 1))
    else:
        total = math.comb(n_features + max_degree, max_degree) - 1
        if min_degree > 0:
            d = min_degree - 1
            total -= math.comb(n_features + d, d) - 1
    return total + 1 if include_bias else total


def _product_plan(n_features: int, max_degree: int, interaction_only: bool) -> list[tuple[list[int], list[int]]]:
    """For each degree ``d >= 2``: (column of the degree ``d-1`` block, feature) of every term.

    Term ``(i_1, ..., i_d)`` is term ``(i_1, ..., i_{d-1})`` of the previous block
    times feature ``i_d``. Host metadata, computed once per transform call.
    """
    comb = combinations if interaction_only else combinations_with_replacement
    plan = []
    prev = {(j,): j for j in range(n_features)}
    for d in range(2, max_degree + 1):
        terms = list(comb(range(n_features), d))
        if not terms:
            break
        plan.append(([prev[t[:-1]] for t in terms], [t[-1] for t in terms]))
        prev = {t: i for i, t in enumerate(terms)}
    return plan


def _block_size(d: int, k: int, interaction_only: bool) -> int:
    return math.comb(d, k) if interaction_only else math.comb(d + k - 1, k)


def _comb_exact(m: np.ndarray, k: int, big: bool) -> np.ndarray:
    """``comb(m, k)`` elementwise for non-negative integer ``m``, exactly.

    ``m (m-1) ... (m-k+1) / k!`` one factor at a time (each partial product divides
    exactly); int64 while ``m**k`` fits, Python integers (object array) beyond.
    """
    m = m.astype(object) if big else m.astype(np.int64)
    out = np.ones_like(m)
    for i in range(k):  # a loop over the degree
        out = out * (m - i) // (i + 1)
    return out


def _rank_step(d: int, prev: np.ndarray, col: np.ndarray, r: int, interaction_only: bool,
               big: bool) -> np.ndarray:
    """Terms (in scikit-learn's lexicographic order) that precede choosing ``col`` after ``prev``.

    With ``r`` positions left after this one: the number of size-``k`` terms whose first
    differing position holds a value in ``[prev, col)``, by the hockey-stick identity. Exact
    integers (int64, or Python integers when ``big``); the difference fits int64 since it is
    below the output's column count.
    """
    if interaction_only:
        out = _comb_exact(d - prev, r + 1, big) - _comb_exact(d - col, r + 1, big)
    else:
        out = _comb_exact(d - prev + r, r + 1, big) - _comb_exact(d - col + r, r + 1, big)
    return out.astype(np.int64)


def _sparse_polynomial(X: Any, *, min_degree: int, max_degree: int, interaction_only: bool,
                       include_bias: bool, n_out: int) -> Any:
    """Polynomial features of a SciPy CSR/CSC or torch CSR ``X``: sparse, in scikit-learn's column order.

    The terms of each row are built from its stored entries only: degree ``k`` terms are
    the non-decreasing (strictly increasing with ``interaction_only``) ``k``-tuples of the
    row's entries, grown one position at a time with ``repeat`` (no loop over samples or
    features); each term's output column is its lexicographic rank, accumulated position by
    position. Memory is the output's stored entries.
    """
    import scipy.sparse

    from ..backends import _sparse as sp

    kind = sp.sparse_kind(X)
    csc = kind == "scipy" and X.format == "csc"
    if kind == "torch":
        if X.device.type != "cpu":
            raise NotImplementedError("PolynomialFeatures on torch sparse tensors runs on the CPU only.")
        C = scipy.sparse.csr_array((X.values().numpy(), X.col_indices().numpy(), X.crow_indices().numpy()),
                                   shape=tuple(X.shape))
    else:
        C = X.tocsr() if csc else X
    n, d = C.shape
    indptr = np.asarray(C.indptr, dtype=np.int64)
    cols = np.asarray(C.indices, dtype=np.int64)
    vals = np.asarray(C.data)
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    row_end = indptr[1:][row_of]  # end of each entry's row
    out_rows, out_cols, out_vals = [], [], []
    big = (d + max_degree) ** max_degree >= 2**63  # Python integers: no overflow
    offset = 0
    if include_bias:
        out_rows.append(np.arange(n, dtype=np.int64))
        out_cols.append(np.zeros(n, dtype=np.int64))
        out_vals.append(np.ones(n, dtype=vals.dtype))
        offset = 1
    for k in range(max(1, min_degree), max_degree + 1):
        size = _block_size(d, k, interaction_only)
        if size == 0:
            break
        # position 1: every stored entry
        last = np.arange(cols.shape[0], dtype=np.int64)
        value = vals.copy()
        rank = _rank_step(d, np.zeros_like(cols), cols, k - 1, interaction_only, big)
        for t in range(2, k + 1):  # a loop over the degree
            start = last + 1 if interaction_only else last
            counts = np.maximum(row_end[last] - start, 0)
            total = int(counts.sum())
            src = np.repeat(np.arange(last.shape[0], dtype=np.int64), counts)
            first = np.cumsum(counts) - counts
            nxt = start[src] + (np.arange(total, dtype=np.int64) - first[src])
            prev = cols[last[src]] + (1 if interaction_only else 0)
            rank = rank[src] + _rank_step(d, prev, cols[nxt], k - t, interaction_only, big)
            value = value[src] * vals[nxt]
            last = nxt
        out_rows.append(row_of[last])
        out_cols.append(offset + rank)
        out_vals.append(value)
        offset += size
    if not out_rows:  # interaction_only with min_degree > n_features: no output column
        out_rows, out_cols, out_vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [vals[:0]]
    rows_all = np.concatenate(out_rows)
    cols_all = np.concatenate(out_cols)
    vals_all = np.concatenate(out_vals)
    array_api = isinstance(X, scipy.sparse.sparray) or kind == "torch"
    coo = (scipy.sparse.coo_array if array_api else scipy.sparse.coo_matrix)((vals_all, (rows_all, cols_all)),
                                                                            shape=(n, n_out))
    out = coo.tocsc() if csc else coo.tocsr()
    # int32 indices while they fit (as scikit-learn, and SciPy's spmatrix, do); int64 beyond
    index = np.int32 if max(n, n_out, out.nnz) <= np.iinfo(np.int32).max else np.int64
    out.indices, out.indptr = out.indices.astype(index, copy=False), out.indptr.astype(index, copy=False)
    if kind == "torch":
        import torch

        return sp._torch_csr(torch.as_tensor(out.indptr.astype(np.int64)), torch.as_tensor(out.indices.astype(np.int64)),
                             torch.as_tensor(out.data), (n, n_out))
    return out


def _polynomial_features(X: Any, *, min_degree: int, max_degree: int, interaction_only: bool,
                         include_bias: bool, xp: Any) -> Any:
    """All terms of degrees ``min_degree..max_degree`` (plus a bias column), shape (n, n_output)."""
    n, d = X.shape
    blocks = []
    if include_bias:
        blocks.append(xp.ones((n, 1), dtype=X.dtype, device=X.device))
    if min_degree <= 1 and max_degree >= 1:
        blocks.append(X)
    prev = X
    for degree, (parents, feats) in enumerate(_product_plan(d, max_degree, interaction_only), start=2):
        pi = xp.asarray(parents, device=X.device)
        fi = xp.asarray(feats, device=X.device)
        prev = xp.take(prev, pi, axis=1) * xp.take(X, fi, axis=1)
        if degree >= min_degree:
            blocks.append(prev)
    if not blocks:  # interaction_only with min_degree > n_features
        return xp.zeros((n, 0), dtype=X.dtype, device=X.device)
    if len(blocks) == 1:
        return blocks[0] if blocks[0] is not X else X + 0.0
    return xp.concat(blocks, axis=1)


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Polynomial and interaction features.

    The output holds every product of input features of total degree between
    ``min_degree`` and ``max_degree`` (in scikit-learn's order). The list of
    terms is built once on the host; each degree's block of products is
    computed with one ``take`` and one multiplication from the previous
    block, on the input's own backend and device. A drop-in for
    :class:`sklearn.preprocessing.PolynomialFeatures`.

    Parameters
    ----------
    degree : int or tuple (min_degree, max_degree), default=2
        Maximal degree, or the range of degrees, of the terms.
    interaction_only : bool, default=False
        Only products of distinct features (no ``x0**2``).
    include_bias : bool, default=True
        Include the column of ones (degree 0).
    order : {'C', 'F'}, default='C'
        Memory layout of a dense NumPy output; other libraries keep their own layout.

    Attributes
    ----------
    powers_ : ndarray of shape (n_output_features_, n_features_in_)
        ``powers_[i, j]`` is the exponent of input feature ``j`` in output term ``i`` (NumPy, int).
    n_output_features_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str, shape (n_features_in_,)
        Only when fitted on a DataFrame with string column names.
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        "degree": [Interval(Integral, 0, None, closed="left"), "array-like"],
        "interaction_only": ["boolean"],
        "include_bias": ["boolean"],
        "order": [StrOptions({"C", "F"})],
    }

    def __init__(self, degree: int | tuple[int, int] = 2, *, interaction_only: bool = False,
                 include_bias: bool = True, order: str = "C") -> None:
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias
        self.order = order

    def _degrees(self) -> tuple[int, int]:
        if isinstance(self.degree, Integral):
            if self.degree == 0 and not self.include_bias:
                raise ValueError(
                    "Setting degree to zero and include_bias to False would result in an empty output array."
                )
            return 0, int(self.degree)
        if isinstance(self.degree, Iterable) and len(self.degree) == 2:  # type: ignore[arg-type]
            lo, hi = self.degree  # type: ignore[misc]
            if not (isinstance(lo, Integral) and isinstance(hi, Integral) and 0 <= lo <= hi):
                raise ValueError(
                    "degree=(min_degree, max_degree) must be non-negative integers that fulfil "
                    f"min_degree <= max_degree, got {self.degree}."
                )
            if hi == 0 and not self.include_bias:
                raise ValueError(
                    "Setting both min_degree and max_degree to zero and include_bias to False would "
                    "result in an empty output array."
                )
            return int(lo), int(hi)
        raise ValueError(f"degree must be a non-negative int or tuple (min_degree, max_degree), got {self.degree}.")

    def fit(self, X: Any, y: Any = None) -> PolynomialFeatures:
        """Compute the number of output features for ``X`` (n_samples, n_features)."""
        self._validate_params()
        v = validate_data(self, X, reset=True, accept_sparse=True)
        self._min_degree, self._max_degree = self._degrees()
        n_features = int(v.X.shape[1])
        self.n_output_features_ = _num_combinations(
            n_features, self._min_degree, self._max_degree, self.interaction_only, self.include_bias
        )
        if self.n_output_features_ > np.iinfo(np.intp).max:
            raise ValueError(
                f"The output that would result from the current configuration would have "
                f"{self.n_output_features_} features which is too large to be indexed by "
                f"{np.dtype(np.intp).name}. Please change some or all of the following:\n"
                f"- The number of features in the input, currently {n_features=}\n"
                f"- The range of degrees to calculate, currently [{self._min_degree}, {self._max_degree}]\n"
                f"- Whether to include only interaction terms, currently {self.interaction_only}\n"
                f"- Whether to include a bias term, currently {self.include_bias}.")
        return self

    # scikit-learn's static helpers, with its signatures (code written against them calls them)
    _combinations = staticmethod(_combinations)
    _num_combinations = staticmethod(_num_combinations)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @property
    def powers_(self) -> np.ndarray:
        """Exponent of each input feature in each output term, shape (n_output_features_, n_features_in_)."""
        check_is_fitted(self)
        terms = _combinations(self.n_features_in_, self._min_degree, self._max_degree,
                              self.interaction_only, self.include_bias)
        return np.vstack([np.bincount(np.asarray(t, dtype=np.intp), minlength=self.n_features_in_)
                          for t in terms])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output feature names such as ``"1"``, ``"x0"``, ``"x0^2"``, ``"x0 x1"`` (object array)."""
        powers = self.powers_
        input_features = _check_feature_names_in(self, input_features)
        names = []
        for row in powers:
            inds = np.flatnonzero(row)
            if len(inds):
                names.append(" ".join(
                    f"{input_features[i]}^{row[i]}" if row[i] != 1 else str(input_features[i]) for i in inds
                ))
            else:
                names.append("1")
        return np.asarray(names, dtype=object)

    def _check_overflow(self, v: Any, sp: Any) -> None:
        """Refuse ``X`` whose degree-``max_degree`` products may overflow its dtype (every |x| <= the bound)."""
        if self._max_degree < 2 or not v.X.shape[0] or not v.X.shape[1]:
            return
        xp = v.xp
        biggest = sp.max_abs(v.X) if sp.is_sparse(v.X) else max(float(xp.max(v.X)), -float(xp.min(v.X)))
        limit = float(xp.finfo(v.X.dtype).max) ** (1.0 / self._max_degree)
        if biggest > limit:
            raise ValueError(
                f"PolynomialFeatures: X has values up to {biggest:.3g}, whose degree-{self._max_degree} products "
                f"overflow {v.X.dtype} (at most {limit:.3g} is safe). Rescale X first (e.g. MaxAbsScaler), or "
                "pass it as float64.")

    def transform(self, X: Any) -> Any:
        """Polynomial features of ``X`` (n_samples, n_features), shape (n_samples, n_output_features_).

        Same library, device and floating dtype as ``X``. Sparse ``X`` (``scipy.sparse``, torch
        sparse on the CPU) gives a sparse result of its format family (CSC stays CSC, as in
        scikit-learn), built from the stored entries only.
        """
        check_is_fitted(self)
        v = validate_data(self, X, reset=False, accept_sparse=True)
        from ..backends import _sparse as sp

        self._check_overflow(v, sp)
        if sp.is_sparse(v.X):
            out = _sparse_polynomial(v.X, min_degree=self._min_degree, max_degree=self._max_degree,
                                     interaction_only=self.interaction_only, include_bias=self.include_bias,
                                     n_out=self.n_output_features_)
            return self._output(sp.restore_format(out, X), v.origin)
        out = _polynomial_features(v.X, min_degree=self._min_degree, max_degree=self._max_degree,
                                   interaction_only=self.interaction_only, include_bias=self.include_bias,
                                   xp=v.xp)
        if self.order == "F" and isinstance(out, np.ndarray):
            out = np.asfortranarray(out)
        return self._output(out, v.origin)
