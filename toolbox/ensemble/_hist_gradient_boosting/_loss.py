"""The losses of histogram gradient boosting, written once against the Array API.

Each loss matches scikit-learn 1.9.1's ``HistGradientBoosting*`` loss of the same name
(``sklearn/_loss/loss.py`` and its Cython kernels): the same pointwise formulas (and the
same numerically stable branches), the same intercept-only baseline (weighted mean, median
or quantile, clipped into the link's domain, then the link), the same leaf-value update
for the non-differentiable losses, and the same weighted mean loss.

Shapes follow scikit-learn's boosting code, tree-major: raw predictions are ``(K, n)``
with row ``k`` the raw scores of tree ``k`` (``K = n_trees_per_iteration``: 1 for
regression and binary classification, ``n_classes`` for multiclass). For classification
``y`` holds the encoded class indices ``0 .. n_classes - 1`` (integer or floating).

Sign convention: :meth:`Loss.loss` is scikit-learn's ``self._loss(y_true, raw_prediction,
sample_weight)``, the (weighted) mean loss, a positive number to minimize.
scikit-learn's ``train_score_`` / ``validation_score_`` with ``scoring="loss"`` hold its
*negative* (higher is better); :meth:`Loss.score` returns that.

Differences from scikit-learn, by design:

* gradients and hessians come back in the raw predictions' dtype (scikit-learn stores
  them as float32, ``G_H_DTYPE``); cast them where the histograms want float32;
* on devices without float64, everything is computed in float32 (scikit-learn: always
  float64), with scikit-learn's float32 cut-offs for the binomial loss;
* :meth:`Loss.update_leaves_values` returns the update *without* the shrinkage
  (scikit-learn's ``leaf.value = shrinkage * update``), ``0`` for empty leaves (which
  scikit-learn's grower never makes) and, as scikit-learn, ``nan`` for a leaf whose
  sample weights are all zero. With weights, equal residuals add their weights in sample
  order; scikit-learn adds them in the order of its (unstable, machine-dependent) argsort,
  which matters only where a quantile target meets a cumulative weight exactly. Backends
  whose ``cumulative_sum`` does not add in order (JAX, GPUs) round such ties their own way;
* :meth:`Loss.baseline` raises ValueError when the sample weights sum to zero
  (scikit-learn: ``ZeroDivisionError`` from ``np.average``, or ``nan`` for the median and
  quantile losses).

Every function takes the namespace as the keyword-only argument ``xp``; arrays stay on
their device, only scalars (a loss value, a maximum count, an error's index) reach the host.
"""

from __future__ import annotations

import math
from typing import Any

from ...backends import framework_of, namespace_kind, primitives

__all__ = ["LOSS_NAMES", "Loss", "get_loss"]

#: The loss names :func:`get_loss` accepts.
LOSS_NAMES = ("squared_error", "absolute_error", "gamma", "poisson", "quantile", "log_loss")

#: Most elements of one zero-padded ``(leaves, leaf size)`` block in which the weighted leaf
#: percentiles sum their cumulative weights leaf by leaf, each from zero and in order, as
#: scikit-learn does: a target that meets a cumulative weight then breaks the tie the same
#: way (a cumulative sum over all samples differenced per leaf rounds differently and, with
#: weights like 0.1, picks another sample in most leaves). More leaves go in several blocks.
PADDED_CDF_ELEMENTS = 2**23


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def _wide_float(x: Any, *, xp: Any) -> Any:
    """float64 where the array's device holds it, else float32."""
    fw = framework_of(x)
    if fw is None or fw.supports_float64(fw.device_of(x)):
        return xp.float64
    return xp.float32


def _first_true(mask: Any, *, xp: Any) -> int | None:
    """Index of the first True of a 1-D boolean array, or None (one host scalar or two)."""
    if not bool(xp.any(mask)):
        return None
    return int(xp.argmax(xp.astype(mask, xp.int32)))


def _float_of(dtype: Any, x: Any, *, xp: Any) -> Any:
    return x if x.dtype == dtype else xp.astype(x, dtype)


def _full(like: Any, value: float, *, xp: Any) -> Any:
    return xp.full(like.shape, value, dtype=like.dtype, device=like.device)


def _log1pexp(x: Any, *, xp: Any) -> Any:
    """``log(1 + exp(x))`` with scikit-learn's branches (Cython cut-offs; its float32 ones)."""
    c0, c1, c2, c3 = (-37.0, -2.0, 18.0, 33.3) if x.dtype == getattr(xp, "float64", None) else (
        -17.0, -1.0, 9.0, 14.6)
    e = xp.exp(xp.minimum(x, _full(x, c2, xp=xp)))       # exp(x) wherever it is used (x <= c2)
    en = xp.exp(-xp.maximum(x, _full(x, c2, xp=xp)))     # exp(-x) wherever it is used (x > c2)
    return xp.where(x <= c0, e, xp.where(x <= c1, xp.log1p(e), xp.where(
        x <= c2, xp.log(1.0 + e), xp.where(x <= c3, x + en, x))))


def _expit(x: Any, *, xp: Any) -> Any:
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logit(p: Any, *, xp: Any) -> Any:
    """scipy's ``logit``: ``log(p / (1 - p))``, and ``log1p(s) - log1p(-s)`` near 0.5."""
    s = 2.0 * (p - 0.5)
    return xp.where(xp.logical_or(p < 0.3, p > 0.65), xp.log(p / (1.0 - p)), xp.log1p(s) - xp.log1p(-s))


def _weighted_mean(v: Any, sw: Any, *, xp: Any) -> Any:
    """``np.average(v, weights=sw, axis=-1)``: ``sum(v * sw) / sum(sw)``."""
    if sw is None:
        return xp.mean(v, axis=-1)
    return xp.sum(v * sw, axis=-1) / xp.sum(sw)


def _check_weights(sw: Any, n: int, dtype: Any, *, xp: Any) -> Any:
    if sw is None:
        return None
    if sw.ndim != 1 or sw.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},); got {tuple(sw.shape)}.")
    return _float_of(dtype, sw, xp=xp)


def _lerp(a: Any, b: Any, t: Any, *, xp: Any) -> Any:
    """NumPy's ``_lerp`` (``np.percentile``'s linear interpolation), to the last bit."""
    diff = b - a
    return xp.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)


# --------------------------------------------------------------------------- #
# per-leaf percentiles
# --------------------------------------------------------------------------- #


def _leaf_percentiles(leaf: Any, n_leaves: int, r: Any, sw: Any, quantile: float, *, median: bool,
                      xp: Any) -> Any:
    """Per leaf, scikit-learn's ``fit_intercept_only`` of AbsoluteError / PinballLoss on ``r``.

    Without weights: ``np.median`` (``median=True``: the mean of the middle two of an even
    count) or ``np.percentile(r, 100 * quantile)`` (linear interpolation). With weights:
    ``_weighted_percentile(r, sw, 100 * quantile)``, NumPy's ``inverted_cdf`` (no averaging):
    the smallest residual whose cumulative weight reaches ``quantile * total``.

    One lexicographic sort by (leaf, residual), then every leaf at once from its offset and
    count (weighted: its cumulative weights, see :func:`_leaf_cdf_search`).
    """
    n = r.shape[0]
    dt = r.dtype
    # Without weights only positions matter, and equal residuals may go either way. With
    # weights, equal residuals add their weights in sample order (a stable sort): scikit-learn
    # adds them in the order of its unstable argsort, which is machine-dependent and can
    # change the answer only where a target meets a cumulative weight exactly.
    # Small leaf ids sort as int16 (NumPy: a radix sort).
    o1 = xp.argsort(r, stable=sw is not None)
    key = xp.astype(leaf, xp.int16) if n_leaves <= 2**15 else leaf
    o2 = xp.argsort(xp.take(key, o1), stable=True)
    order = xp.take(o1, o2)
    s = xp.take(r, order)                                   # sorted by (leaf, residual)
    counts = primitives.bincount(leaf, length=n_leaves, xp=xp)
    idt = counts.dtype
    ends = xp.cumulative_sum(counts)
    starts = ends - counts
    last = n - 1
    empty = counts == 0

    def at(pos: Any) -> Any:
        return xp.take(s, xp.clip(pos, 0, last))

    if sw is None:
        if median:
            mid = starts + counts // 2
            hi = at(mid)
            lo = at(mid - 1)
            value = xp.where(counts % 2 == 1, hi, (lo + hi) / 2.0)
        else:
            q = (100.0 * quantile) / 100.0                  # np.percentile divides by 100 again
            virtual = xp.astype(counts - 1, dt) * q
            prev = xp.floor(virtual)
            above = virtual >= xp.astype(counts - 1, dt)
            prev_i = xp.where(above, counts - 1, xp.astype(prev, idt))
            next_i = xp.where(above, counts - 1, prev_i + 1)
            gamma = virtual - xp.where(above, _full(virtual, -1.0, xp=xp), prev)  # NumPy's gamma
            value = _lerp(at(starts + prev_i), at(starts + next_i), gamma, xp=xp)
        return xp.where(empty, xp.zeros_like(value), value)

    w = xp.take(sw, order)
    rank = (100.0 * quantile) / 100.0                       # _weighted_percentile's p_rank / 100
    k, total = _leaf_cdf_search(w, starts, counts, rank, xp=xp)
    k = xp.clip(k, xp.zeros_like(counts), xp.maximum(counts - 1, xp.zeros_like(counts)))
    value = at(starts + k)
    value = xp.where(total == 0, _full(value, math.nan, xp=xp), value)   # scikit-learn: all-zero weights -> nan
    return xp.where(empty, xp.zeros_like(value), value)


def _padded_cdf_search(w: Any, starts: Any, counts: Any, width: int, rank: float, *, xp: Any) -> tuple[Any, Any]:
    """For leaves (``starts``, ``counts``), each at most ``width`` long: the within-leaf index of
    ``searchsorted(cdf, rank * total, side="left")`` and the total weight.

    The leaves are laid out as the rows of a zero-padded ``(n_leaves, width)`` block, so that each
    one's cumulative weights are summed from zero, in order, as scikit-learn's are.
    """
    L = starts.shape[0]
    dt, dev, idt = w.dtype, w.device, counts.dtype
    if width == 0:
        return xp.zeros_like(counts), xp.zeros((L,), dtype=dt, device=dev)
    j = xp.arange(width, dtype=idt, device=dev)
    pos = xp.clip(xp.reshape(starts[:, None] + j[None, :], (-1,)), 0, w.shape[0] - 1)
    W = xp.where(j[None, :] < counts[:, None], xp.reshape(xp.take(w, pos), (L, width)),
                 xp.zeros((L, width), dtype=dt, device=dev))
    cdf = xp.cumulative_sum(W, axis=1)
    total = cdf[:, -1]
    # side="left": the number of cumulative weights below the target (the padding sits at total).
    k = xp.sum(xp.astype(cdf < (rank * total)[:, None], idt), axis=1)
    return k, total


def _leaf_cdf_search(w: Any, starts: Any, counts: Any, rank: float, *, xp: Any) -> tuple[Any, Any]:
    """:func:`_padded_cdf_search` for every leaf, in blocks of at most :data:`PADDED_CDF_ELEMENTS`.

    Usually one block holds every leaf. Otherwise the leaves go largest first, each block as
    many as fit padded to its largest: one host scalar (that size) per block, O(n) work overall.
    """
    L = counts.shape[0]
    width = int(xp.max(counts)) if L else 0
    if L * width <= PADDED_CDF_ELEMENTS:
        return _padded_cdf_search(w, starts, counts, width, rank, xp=xp)
    perm = xp.argsort(counts, descending=True, stable=True)
    s_starts, s_counts = xp.take(starts, perm), xp.take(counts, perm)
    ks, totals, i = [], [], 0
    while i < L:
        width = int(s_counts[i])
        m = L - i if width == 0 else min(L - i, max(1, PADDED_CDF_ELEMENTS // width))
        k, total = _padded_cdf_search(w, s_starts[i:i + m], s_counts[i:i + m], width, rank, xp=xp)
        ks.append(k)
        totals.append(total)
        i += m
    inv = xp.argsort(perm)
    return xp.take(xp.concat(ks), inv), xp.take(xp.concat(totals), inv)


# --------------------------------------------------------------------------- #
# the losses
# --------------------------------------------------------------------------- #


def _baseline_inputs(y: Any, sample_weight: Any, *, xp: Any) -> tuple[Any, Any]:
    """The dtype of a baseline (float64 where the device has it) and the checked weights."""
    dt = _wide_float(y, xp=xp)
    n = y.shape[0]
    if n == 0:
        raise ValueError("y is empty: no baseline prediction.")
    sw = _check_weights(sample_weight, n, dt, xp=xp)
    if sw is not None and float(xp.sum(sw)) == 0.0:
        raise ValueError("sample_weight sums to zero: no weighted baseline prediction.")
    return dt, sw


class Loss:
    """One loss of histogram gradient boosting (use :func:`get_loss`).

    Attributes
    ----------
    name : str
        ``"squared_error"``, ``"absolute_error"``, ``"gamma"``, ``"poisson"``,
        ``"quantile"`` or ``"log_loss"``.
    n_trees_per_iteration : int
        1, or ``n_classes`` for multiclass ``log_loss``.
    constant_hessian : bool
        The hessian is 1 (times the sample weight): squared, absolute and quantile losses.
        scikit-learn's ``constant_hessian`` is this *and* ``sample_weight is None``.
    need_update_leaves_values : bool
        The loss is not differentiable and the leaf values are set by
        :meth:`update_leaves_values` after a tree is grown (absolute error, quantile).
    """

    name: str = ""
    n_trees_per_iteration: int = 1
    constant_hessian: bool = False
    need_update_leaves_values: bool = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, n_trees_per_iteration={self.n_trees_per_iteration})"

    # ----------------------------------------------------------------- checks

    def check_y(self, y: Any, *, xp: Any) -> None:
        """Raise ValueError, naming the first offending index, when ``y`` does not suit the loss."""
        if y.ndim != 1:
            raise ValueError(f"y must be 1-dimensional; got shape {tuple(y.shape)}.")
        if y.shape[0] == 0:
            raise ValueError("y is empty.")
        if xp.isdtype(y.dtype, "real floating"):
            i = _first_true(xp.logical_not(xp.isfinite(y)), xp=xp)
            if i is not None:
                what = "NaN" if math.isnan(float(y[i])) else "infinity"
                raise ValueError(f"Input y contains {what} (first at index {i}).")
        self._check_domain(y, xp=xp)

    def _check_domain(self, y: Any, *, xp: Any) -> None:
        pass

    def _check_raw(self, raw: Any, n: int) -> None:
        K = self.n_trees_per_iteration
        if raw.ndim != 2 or raw.shape[0] != K or raw.shape[1] != n:
            raise ValueError(
                f"raw predictions for loss={self.name!r} must have shape ({K}, {n}) "
                f"(n_trees_per_iteration, n_samples); got {tuple(raw.shape)}."
            )

    # ----------------------------------------------------------- the pieces

    def _pointwise(self, y: Any, r: Any, *, xp: Any) -> Any:
        """Per-sample loss ``(n,)`` from ``y`` and the raw scores ``(n,)``."""
        raise NotImplementedError

    def _grad_hess(self, y: Any, r: Any, *, xp: Any) -> tuple[Any, Any]:
        """Per-sample gradient and hessian ``(n,)`` (hessian None when constant)."""
        raise NotImplementedError

    def _inverse_link(self, r: Any, *, xp: Any) -> Any:
        return r

    def _baseline_from_mean(self, mean: Any, *, xp: Any) -> Any:
        return mean

    # --------------------------------------------------------------- public

    def baseline(self, y: Any, sample_weight: Any = None, *, xp: Any) -> Any:
        """The raw-space prediction of an intercept-only model, shape ``(K,)``.

        scikit-learn's ``fit_intercept_only`` (weighted mean, median or quantile of ``y``,
        clipped into the link's domain, then the link), in float64 where the device has it.
        """
        dt, sw = _baseline_inputs(y, sample_weight, xp=xp)
        yv = _float_of(dt, y, xp=xp)
        return xp.reshape(self._baseline_from_mean(_weighted_mean(yv, sw, xp=xp), xp=xp), (1,))

    def gradient_hessian(self, y: Any, raw: Any, sample_weight: Any = None, *, xp: Any,
                         out: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
        """Gradient and hessian of the loss w.r.t. the raw predictions, each ``(K, n)``.

        In ``raw``'s dtype, multiplied by ``sample_weight`` where given. For
        :attr:`constant_hessian` losses the hessian is ``None`` without sample weights,
        else the weights broadcast to ``(K, n)``.

        ``out``: optional ``(gradient, hessian)`` arrays of shape ``(K, n)`` (hessian may be
        None) the results are written into on backends with item assignment (NumPy,
        torch, CuPy, array_api_strict); on JAX it is ignored. Always use the returned arrays.
        """
        n = y.shape[0]
        self._check_raw(raw, n)
        dt = raw.dtype
        sw = _check_weights(sample_weight, n, dt, xp=xp)
        g, h = self._grad_hess_2d(y, raw, xp=xp)
        if sw is not None:
            g = g * sw[None, :]
            # (a copy: never hand out a view of the caller's weights)
            h = xp.asarray(sw[None, :], copy=True) if h is None else h * sw[None, :]
        if out is not None and namespace_kind(xp) != "jax":
            g_out, h_out = out
            if g_out is not None:
                g_out[...] = g
                g = g_out
            if h_out is not None and h is not None:
                h_out[...] = h
                h = h_out
        return g, h

    def _grad_hess_2d(self, y: Any, raw: Any, *, xp: Any) -> tuple[Any, Any]:
        g, h = self._grad_hess(_float_of(raw.dtype, y, xp=xp), raw[0, :], xp=xp)
        return g[None, :], (None if h is None else h[None, :])

    def loss(self, y: Any, raw: Any, sample_weight: Any = None, *, xp: Any) -> float:
        """The (weighted) mean loss, scikit-learn's ``self._loss(y, raw, sample_weight)``.

        ``sum(sample_weight * loss_i) / sum(sample_weight)`` (the plain mean without
        weights); positive, lower is better. scikit-learn's ``train_score_`` with
        ``scoring="loss"`` holds minus this: see :meth:`score`.
        """
        n = y.shape[0]
        self._check_raw(raw, n)
        sw = _check_weights(sample_weight, n, raw.dtype, xp=xp)
        return float(_weighted_mean(self._pointwise_2d(y, raw, xp=xp), sw, xp=xp))

    def score(self, y: Any, raw: Any, sample_weight: Any = None, *, xp: Any) -> float:
        """``-loss(...)``: what scikit-learn's ``train_score_`` / ``validation_score_`` hold."""
        return -self.loss(y, raw, sample_weight, xp=xp)

    def _pointwise_2d(self, y: Any, raw: Any, *, xp: Any) -> Any:
        return self._pointwise(_float_of(raw.dtype, y, xp=xp), raw[0, :], xp=xp)

    def link_inverse(self, raw: Any, *, xp: Any) -> Any:
        """Predictions from raw scores ``(K, n)``.

        Regression: the predicted values ``(n,)``; classification: the class
        probabilities ``(n, n_classes)`` (binary: ``[1 - p, p]``).
        """
        if raw.ndim != 2 or raw.shape[0] != self.n_trees_per_iteration:
            raise ValueError(
                f"raw predictions for loss={self.name!r} must have shape "
                f"({self.n_trees_per_iteration}, n_samples); got {tuple(raw.shape)}."
            )
        return self._inverse_link(raw[0, :], xp=xp)

    def update_leaves_values(self, leaf_of_sample: Any, n_leaves: int, y: Any, raw_k: Any,
                             sample_weight: Any = None, *, xp: Any) -> Any:
        """New leaf values ``(n_leaves,)`` for the non-differentiable losses.

        scikit-learn's ``_update_leaves_values``, for every leaf at once: the loss's
        ``fit_intercept_only`` of the residuals ``y - raw_k`` of the leaf's samples (the
        weighted median for absolute error, the weighted quantile for the quantile loss),
        *without* the shrinkage. Empty leaves get 0; leaves whose weights are all zero get
        nan (as in scikit-learn).

        Parameters
        ----------
        leaf_of_sample : array of int, shape (n,)
            Leaf of each sample, in ``[0, n_leaves)``.
        n_leaves : int
        y : array, shape (n,)
        raw_k : array, shape (n,), floating
            The raw predictions of this tree's row, before the tree.
        sample_weight : array, shape (n,), optional
        """
        raise TypeError(f"loss={self.name!r} is differentiable: its leaf values need no update.")


class _SquaredError(Loss):
    name = "squared_error"
    constant_hessian = True

    def _pointwise(self, y, r, *, xp):
        d = r - y
        return 0.5 * d * d

    def _grad_hess(self, y, r, *, xp):
        return r - y, None


class _ResidualQuantileLoss(Loss):
    """Absolute error and pinball loss: the baseline and leaf values are residual quantiles."""

    constant_hessian = True
    need_update_leaves_values = True
    quantile = 0.5
    _median = False  # np.median (mean of the middle two) rather than np.percentile

    def baseline(self, y, sample_weight=None, *, xp):
        dt = _wide_float(y, xp=xp)
        n = y.shape[0]
        if n == 0:
            raise ValueError("y is empty: no baseline prediction.")
        leaf = xp.zeros((n,), dtype=xp.int32, device=y.device)
        sw = _check_weights(sample_weight, n, dt, xp=xp)
        if sw is not None and float(xp.sum(sw)) == 0.0:
            raise ValueError("sample_weight sums to zero: no weighted baseline prediction.")
        return _leaf_percentiles(leaf, 1, _float_of(dt, y, xp=xp), sw, self.quantile, median=self._median, xp=xp)

    def update_leaves_values(self, leaf_of_sample, n_leaves, y, raw_k, sample_weight=None, *, xp):
        n = y.shape[0]
        if raw_k.ndim != 1 or raw_k.shape[0] != n or leaf_of_sample.shape != (n,):
            raise ValueError(
                f"update_leaves_values needs y, raw_k and leaf_of_sample of shape ({n},); got "
                f"{tuple(raw_k.shape)} and {tuple(leaf_of_sample.shape)}."
            )
        dt = raw_k.dtype
        r = _float_of(dt, y, xp=xp) - raw_k
        sw = _check_weights(sample_weight, n, dt, xp=xp)
        return _leaf_percentiles(leaf_of_sample, int(n_leaves), r, sw, self.quantile, median=self._median, xp=xp)


class _AbsoluteError(_ResidualQuantileLoss):
    name = "absolute_error"
    _median = True

    def _pointwise(self, y, r, *, xp):
        return xp.abs(r - y)

    def _grad_hess(self, y, r, *, xp):
        one = xp.ones_like(r)
        return xp.where(r > y, one, -one), None


class _PinballLoss(_ResidualQuantileLoss):
    name = "quantile"

    def __init__(self, quantile: float):
        self.quantile = float(quantile)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name='quantile', quantile={self.quantile!r})"

    def _pointwise(self, y, r, *, xp):
        q = self.quantile
        return xp.where(y >= r, q * (y - r), (1.0 - q) * (r - y))

    def _grad_hess(self, y, r, *, xp):
        q = self.quantile
        return xp.where(y >= r, _full(r, -q, xp=xp), _full(r, 1.0 - q, xp=xp)), None


class _LogLinkLoss(Loss):
    def _inverse_link(self, r, *, xp):
        return xp.exp(r)

    def _baseline_from_mean(self, mean, *, xp):
        eps = 10.0 * float(xp.finfo(mean.dtype).eps)  # y_pred's interval (0, inf), low excluded
        return xp.log(xp.maximum(mean, _full(mean, eps, xp=xp)))


class _PoissonLoss(_LogLinkLoss):
    name = "poisson"

    def _check_domain(self, y, *, xp):
        i = _first_true(y < 0, xp=xp)
        if i is not None or not float(xp.sum(y)) > 0:
            where = f" (y[{i}] = {float(y[i])!r})" if i is not None else " (sum(y) = 0)"
            raise ValueError(f"loss='poisson' requires non-negative y and sum(y) > 0{where}.")

    def _pointwise(self, y, r, *, xp):
        return xp.exp(r) - y * r

    def _grad_hess(self, y, r, *, xp):
        e = xp.exp(r)
        return e - y, e


class _GammaLoss(_LogLinkLoss):
    name = "gamma"

    def _check_domain(self, y, *, xp):
        i = _first_true(xp.logical_not(y > 0), xp=xp)
        if i is not None:
            raise ValueError(f"loss='gamma' requires strictly positive y (y[{i}] = {float(y[i])!r}).")

    def _pointwise(self, y, r, *, xp):
        return r + y * xp.exp(-r)

    def _grad_hess(self, y, r, *, xp):
        e = xp.exp(-r)
        return 1.0 - y * e, y * e


class _ClassIndexCheck(Loss):
    n_classes = 2

    def _check_domain(self, y, *, xp):
        hi = max(self.n_classes, 1) - 1
        bad = xp.logical_or(y < 0, y > hi)
        if xp.isdtype(y.dtype, "real floating"):
            bad = xp.logical_or(bad, xp.floor(y) != y)
        i = _first_true(bad, xp=xp)
        if i is not None:
            v = y[i]
            v = float(v) if xp.isdtype(y.dtype, "real floating") else int(v)
            raise ValueError(
                f"loss='log_loss' needs y encoded as class indices 0..{hi}; y[{i}] = {v!r}."
            )


class _BinomialLoss(_ClassIndexCheck):
    name = "log_loss"

    def __init__(self, n_classes: int = 2):
        self.n_classes = n_classes

    def _pointwise(self, y, r, *, xp):
        return _log1pexp(r, xp=xp) - y * r

    def _grad_hess(self, y, r, *, xp):
        cut = -37.0 if r.dtype == getattr(xp, "float64", None) else -17.0
        big = r > cut
        zero = xp.zeros_like(r)
        e = xp.exp(-xp.where(big, r, zero))   # exp(-raw), used where raw > cut
        es = xp.exp(xp.where(big, zero, r))   # exp(raw), used where raw <= cut
        d = 1.0 + e
        g = xp.where(big, ((1.0 - y) - y * e) / d, es - y)
        h = xp.where(big, e / (d * d), es)
        return g, h

    def _inverse_link(self, r, *, xp):
        p = _expit(r, xp=xp)
        return xp.stack([1.0 - p, p], axis=1)

    def _baseline_from_mean(self, mean, *, xp):
        eps = 10.0 * float(xp.finfo(mean.dtype).eps)  # y_pred's interval (0, 1), both excluded
        return _logit(xp.clip(mean, eps, 1.0 - eps), xp=xp)


class _MultinomialLoss(_ClassIndexCheck):
    name = "log_loss"

    def __init__(self, n_classes: int):
        self.n_classes = n_classes
        self.n_trees_per_iteration = n_classes

    def _onehot(self, y, dtype, *, xp):
        cls = xp.arange(self.n_classes, dtype=y.dtype, device=y.device)
        return xp.astype(y[None, :] == cls[:, None], dtype)   # (K, n)

    def _pointwise_2d(self, y, raw, *, xp):
        Y = self._onehot(y, raw.dtype, xp=xp)
        return primitives.logsumexp(raw, axis=0, xp=xp) - xp.sum(Y * raw, axis=0)

    def _grad_hess_2d(self, y, raw, *, xp):
        Y = self._onehot(y, raw.dtype, xp=xp)
        e = xp.exp(raw - xp.max(raw, axis=0, keepdims=True))
        p = e / xp.sum(e, axis=0, keepdims=True)
        return p - Y, p * (1.0 - p)

    def link_inverse(self, raw, *, xp):
        if raw.ndim != 2 or raw.shape[0] != self.n_classes:
            raise ValueError(
                f"raw predictions must have shape ({self.n_classes}, n_samples); got {tuple(raw.shape)}."
            )
        e = xp.exp(raw - xp.max(raw, axis=0, keepdims=True))
        return (e / xp.sum(e, axis=0, keepdims=True)).T

    def baseline(self, y, sample_weight=None, *, xp):
        dt, sw = _baseline_inputs(y, sample_weight, xp=xp)
        p = _weighted_mean(self._onehot(y, dt, xp=xp), sw, xp=xp)         # (K,)
        eps = float(xp.finfo(dt).eps)
        p = xp.clip(p, eps, 1.0 - eps)
        # the symmetric multinomial logit: log(p / gmean(p))
        return xp.log(p / xp.exp(xp.mean(xp.log(p))))


# --------------------------------------------------------------------------- #
# factory
# --------------------------------------------------------------------------- #


def get_loss(name: str, *, n_classes: int | None = None, quantile: float | None = None) -> Loss:
    """The loss called ``name`` (one of :data:`LOSS_NAMES`).

    ``log_loss`` needs ``n_classes``: up to 2 give the binomial loss (one tree per
    iteration), more the multinomial loss (``n_classes`` trees). ``quantile`` needs
    ``quantile`` in the open interval (0, 1).
    """
    if name == "squared_error":
        return _SquaredError()
    if name == "absolute_error":
        return _AbsoluteError()
    if name == "poisson":
        return _PoissonLoss()
    if name == "gamma":
        return _GammaLoss()
    if name == "quantile":
        if quantile is None or isinstance(quantile, bool) or not isinstance(quantile, (int, float)) \
                or not 0.0 < float(quantile) < 1.0:
            raise ValueError(
                f"loss='quantile' needs the parameter quantile in the open interval (0, 1); got quantile={quantile!r}."
            )
        return _PinballLoss(float(quantile))
    if name == "log_loss":
        if n_classes is None or isinstance(n_classes, bool) or int(n_classes) != n_classes or n_classes < 1:
            raise ValueError(f"loss='log_loss' needs the parameter n_classes (an int >= 1); got n_classes={n_classes!r}.")
        n_classes = int(n_classes)
        return _BinomialLoss(n_classes) if n_classes <= 2 else _MultinomialLoss(n_classes)
    raise ValueError(f"Unknown loss: loss={name!r}; expected one of {', '.join(LOSS_NAMES)}.")
