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
        Accepted for compatibility; the memory layout is the array library's.

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
        v = validate_data(self, X, reset=True)
        self._min_degree, self._max_degree = self._degrees()
        self.n_output_features_ = _num_combinations(
            int(v.X.shape[1]), self._min_degree, self._max_degree, self.interaction_only, self.include_bias
        )
        return self

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

    def transform(self, X: Any) -> Any:
        """Polynomial features of ``X`` (n_samples, n_features), shape (n_samples, n_output_features_).

        Same library, device and floating dtype as ``X``.
        """
        check_is_fitted(self)
        v = validate_data(self, X, reset=False)
        out = _polynomial_features(v.X, min_degree=self._min_degree, max_degree=self._max_degree,
                                   interaction_only=self.interaction_only, include_bias=self.include_bias,
                                   xp=v.xp)
        return self._output(out, v.origin)
