"""Regression metrics computed on the device of their inputs."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ..backends import framework_of
from ..backends._convert import as_host_array
from ..base import _to_compute, check_array
from ._base import Call, check_lengths, resolve_call, sample_weight_of, weighted_mean

__all__ = [
    "d2_absolute_error_score",
    "explained_variance_score",
    "max_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_gamma_deviance",
    "mean_poisson_deviance",
    "mean_squared_error",
    "mean_squared_log_error",
    "mean_tweedie_deviance",
    "median_absolute_error",
    "r2_score",
    "root_mean_squared_error",
    "root_mean_squared_log_error",
]

_TWO = ("raw_values", "uniform_average")
_THREE = ("raw_values", "uniform_average", "variance_weighted")


def _check_reg_targets(y_true: Any, y_pred: Any, sample_weight: Any, multioutput: Any, *,
                       allowed: tuple[str, ...]) -> tuple[Call, Any, Any, Any, Any]:
    """Bring the targets to one namespace and float dtype, shape (n_samples, n_outputs)."""
    call = resolve_call(y_pred=y_pred, y_true=y_true, sample_weight=sample_weight)
    xp, dev = call.xp, call.compute.device
    yt = check_array(_to_compute(y_true, call.compute, "y_true"), xp=xp, device=dev, name="y_true",
                     ensure_2d=False)
    yp = check_array(_to_compute(y_pred, call.compute, "y_pred"), xp=xp, device=dev, name="y_pred",
                     ensure_2d=False)
    for name, y in (("y_true", yt), ("y_pred", yp)):
        if y.ndim > 2:
            raise ValueError(f"{name} should be 1-D or 2-D, got an array of shape {tuple(y.shape)}.")
    n = check_lengths(y_true=yt, y_pred=yp)
    if yt.dtype != yp.dtype:  # the wider float
        wide = xp.result_type(yt.dtype, yp.dtype)
        yt, yp = xp.astype(yt, wide), xp.astype(yp, wide)
    yt = yt[:, None] if yt.ndim == 1 else yt
    yp = yp[:, None] if yp.ndim == 1 else yp
    if yt.shape[1] != yp.shape[1]:
        raise ValueError(f"y_true and y_pred have different number of output ({yt.shape[1]}!={yp.shape[1]})")
    sw = sample_weight_of(sample_weight, call, n, dtype=yt.dtype)
    n_outputs = int(yt.shape[1])
    if isinstance(multioutput, str):
        if multioutput not in allowed:
            raise ValueError(f"Allowed 'multioutput' string values are {allowed}. You provided multioutput={multioutput!r}")
    elif multioutput is not None:
        mo = multioutput if framework_of(multioutput) is not None else as_host_array(multioutput)
        mo = check_array(_to_compute(mo, call.compute, "multioutput"), xp=xp, device=dev, name="multioutput",
                         ensure_2d=False)
        if n_outputs == 1:
            raise ValueError("Custom weights are useful only in multi-output cases.")
        if mo.ndim != 1 or mo.shape[0] != n_outputs:
            raise ValueError(
                f"There must be equally many custom weights ({mo.shape[0]}) as outputs ({n_outputs})."
            )
        multioutput = xp.astype(mo, yt.dtype)
    return call, yt, yp, sw, multioutput


def _aggregate(call: Call, errors: Any, multioutput: Any) -> Any:
    xp = call.xp
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return call.output(errors)
        return float(xp.mean(errors))
    return float(xp.sum(errors * multioutput) / xp.sum(multioutput))


def mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                       multioutput: Any = "uniform_average") -> Any:
    """Mean squared error.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {'raw_values', 'uniform_average'} or array-like of shape (n_outputs,)
        Per-output errors, their mean, or their weighted mean.

    Returns
    -------
    float, or array of shape (n_outputs,) for ``'raw_values'`` (the inputs' library).
    """
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput,
                                              allowed=_TWO)
    xp = call.xp
    return _aggregate(call, weighted_mean((yt - yp) ** 2, sw, xp=xp), mo)


def mean_absolute_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                        multioutput: Any = "uniform_average") -> Any:
    """Mean absolute error; parameters and return as :func:`mean_squared_error`."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput,
                                              allowed=_TWO)
    xp = call.xp
    return _aggregate(call, weighted_mean(xp.abs(yt - yp), sw, xp=xp), mo)


def r2_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average",
             force_finite: bool = True) -> Any:
    """Coefficient of determination :math:`R^2 = 1 - SS_{res} / SS_{tot}`.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), default=None
    multioutput : {'raw_values', 'uniform_average', 'variance_weighted'} or array-like of shape (n_outputs,)
    force_finite : bool, default=True
        Constant ``y_true``: 1.0 for perfect predictions, else 0.0 (rather than NaN or -inf).

    Returns
    -------
    float, or array of shape (n_outputs,) for ``'raw_values'`` (the inputs' library).
    """
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput,
                                              allowed=_THREE)
    xp = call.xp
    if yt.shape[0] < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    w = 1.0 if sw is None else sw[:, None]
    num = xp.sum(w * (yt - yp) ** 2, axis=0)
    mean = weighted_mean(yt, sw, xp=xp)
    den = xp.sum(w * (yt - mean) ** 2, axis=0)
    return _assemble(call, num, den, mo, force_finite)


def _assemble(call: Call, num: Any, den: Any, multioutput: Any, force_finite: bool) -> Any:
    """``1 - num / den`` per output (R^2, explained variance), then scikit-learn's averaging."""
    xp = call.xp
    nz_den, nz_num = den != 0, num != 0
    safe = xp.where(nz_den, den, xp.ones_like(den))
    if force_finite:
        scores = xp.where(nz_den & nz_num, 1 - num / safe, xp.ones_like(num))
        scores = xp.where(nz_num & ~nz_den, xp.zeros_like(scores), scores)
    else:
        scores = 1 - num / den
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return call.output(scores)
        if multioutput == "variance_weighted":
            if not bool(xp.any(nz_den)):
                return float(xp.mean(scores))
            return float(xp.sum(scores * den) / xp.sum(den))
        return float(xp.mean(scores))
    return float(xp.sum(scores * multioutput) / xp.sum(multioutput))


def explained_variance_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                             multioutput: Any = "uniform_average", force_finite: bool = True) -> Any:
    """Explained variance ``1 - Var(y_true - y_pred) / Var(y_true)``.

    Parameters and return as :func:`r2_score`.
    """
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_THREE)
    xp = call.xp
    diff = yt - yp
    num = weighted_mean((diff - weighted_mean(diff, sw, xp=xp)) ** 2, sw, xp=xp)
    den = weighted_mean((yt - weighted_mean(yt, sw, xp=xp)) ** 2, sw, xp=xp)
    return _assemble(call, num, den, mo, force_finite)


def root_mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                            multioutput: Any = "uniform_average") -> Any:
    """Square root of the mean squared error (per output, then averaged)."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    return _aggregate(call, xp.sqrt(weighted_mean((yt - yp) ** 2, sw, xp=xp)), mo)


def _check_log1p(yt: Any, yp: Any, name: str, *, xp: Any) -> None:
    if bool(xp.any(yt <= -1)) or bool(xp.any(yp <= -1)):
        raise ValueError(f"{name} cannot be used when targets contain values less than or equal to -1.")


def mean_squared_log_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                           multioutput: Any = "uniform_average") -> Any:
    """Mean squared error of ``log1p`` of the targets (values must be > -1)."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    _check_log1p(yt, yp, "Mean Squared Logarithmic Error", xp=xp)
    return _aggregate(call, weighted_mean((xp.log1p(yt) - xp.log1p(yp)) ** 2, sw, xp=xp), mo)


def root_mean_squared_log_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                                multioutput: Any = "uniform_average") -> Any:
    """Square root of :func:`mean_squared_log_error` (per output, then averaged)."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    _check_log1p(yt, yp, "Root Mean Squared Logarithmic Error", xp=xp)
    return _aggregate(call, xp.sqrt(weighted_mean((xp.log1p(yt) - xp.log1p(yp)) ** 2, sw, xp=xp)), mo)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                                   multioutput: Any = "uniform_average") -> Any:
    """Mean of ``|y_pred - y_true| / max(|y_true|, eps)`` (a fraction, not percent)."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    eps = xp.asarray(float(np.finfo(np.float64).eps), dtype=yt.dtype, device=call.compute.device)
    return _aggregate(call, weighted_mean(xp.abs(yp - yt) / xp.maximum(xp.abs(yt), eps), sw, xp=xp), mo)


def _median(values: Any, weights: Any, *, xp: Any) -> Any:
    """Column medians of ``values`` (n, m); weighted: scikit-learn's "averaged_inverted_cdf" percentile."""
    n = int(values.shape[0])
    srt = xp.sort(values, axis=0)
    if weights is None:
        lo, hi = srt[(n - 1) // 2, ...], srt[n // 2, ...]
        return (lo + hi) / 2
    order = xp.argsort(values, axis=0)
    m = int(values.shape[1])
    W = xp.reshape(xp.take(weights, xp.reshape(order, (-1,)), axis=0), (n, m))
    cdf = xp.cumulative_sum(W, axis=0)
    target = cdf[-1, ...] / 2
    idx = xp.sum(xp.astype(cdf < target[None, :], xp.int64), axis=0)  # searchsorted, side="left"
    idx = xp.clip(idx, 0, n - 1)
    at = xp.take_along_axis(cdf, idx[None, :], axis=0)[0, ...]
    above = (at - target) > float(xp.finfo(values.dtype).eps)
    nxt = xp.sum(xp.astype(cdf <= at[None, :], xp.int64), axis=0)  # the next sample of positive weight
    nxt = xp.where(nxt > n - 1, idx, nxt)
    v0 = xp.take_along_axis(srt, idx[None, :], axis=0)[0, ...]
    v1 = xp.take_along_axis(srt, nxt[None, :], axis=0)[0, ...]
    return xp.where(above, v0, (v0 + v1) / 2)


def median_absolute_error(y_true: Any, y_pred: Any, *, multioutput: Any = "uniform_average",
                          sample_weight: Any = None) -> Any:
    """Median of ``|y_true - y_pred|`` per output (weighted: the weighted median), then averaged."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    if sw is not None and not bool(xp.any(sw != 0)):
        return _aggregate(call, xp.full((yt.shape[1],), math.nan, dtype=yt.dtype, device=call.compute.device), mo)
    return _aggregate(call, _median(xp.abs(yp - yt), sw, xp=xp), mo)


def d2_absolute_error_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                            multioutput: Any = "uniform_average") -> Any:
    """D^2 of the absolute error: ``1 - sum|y - y_pred| / sum|y - median(y)|`` (weighted)."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput, allowed=_TWO)
    xp = call.xp
    if yt.shape[0] < 2:
        warnings.warn("D^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    num = weighted_mean(xp.abs(yt - yp), sw, xp=xp)
    den = weighted_mean(xp.abs(yt - _median(yt, sw, xp=xp)[None, :]), sw, xp=xp)
    return _assemble(call, num, den, mo, True)


def max_error(y_true: Any, y_pred: Any) -> float:
    """The largest absolute residual (single output)."""
    call, yt, yp, _, _ = _check_reg_targets(y_true, y_pred, None, "uniform_average", allowed=_TWO)
    if yt.shape[1] != 1:
        raise ValueError("Multioutput not supported in max_error")
    return float(call.xp.max(call.xp.abs(yt - yp)))


def mean_tweedie_deviance(y_true: Any, y_pred: Any, *, sample_weight: Any = None, power: float = 0) -> float:
    """Mean Tweedie deviance of power ``power`` (0 normal, 1 Poisson, 2 gamma; not in (0, 1))."""
    if isinstance(power, bool) or not isinstance(power, (int, float, np.number)) or 0 < power < 1:
        raise ValueError(f"The 'power' parameter of mean_tweedie_deviance must be a float in the range (-inf, "
                         f"0.0] or a float in the range [1.0, inf). Got {power!r} instead.")
    call, yt, yp, sw, _ = _check_reg_targets(y_true, y_pred, sample_weight, "uniform_average", allowed=_TWO)
    if yt.shape[1] != 1:
        raise ValueError("Multioutput not supported in mean_tweedie_deviance")
    xp = call.xp
    yt, yp = yt[:, 0], yp[:, 0]
    p = float(power)
    message = f"Mean Tweedie deviance error with power={power} can only be used on "
    if p < 0:
        if bool(xp.any(yp <= 0)):
            raise ValueError(message + "strictly positive y_pred.")
    elif 1 <= p < 2:
        if bool(xp.any(yt < 0)) or bool(xp.any(yp <= 0)):
            raise ValueError(message + "non-negative y and strictly positive y_pred.")
    elif p >= 2:
        if bool(xp.any(yt <= 0)) or bool(xp.any(yp <= 0)):
            raise ValueError(message + "strictly positive y and y_pred.")
    zero = xp.zeros_like(yt)
    if p < 0:
        dev = 2 * (xp.pow(xp.where(yt > 0, yt, zero), 2 - p) / ((1 - p) * (2 - p))
                   - yt * xp.pow(yp, 1 - p) / (1 - p) + xp.pow(yp, 2 - p) / (2 - p))
    elif p == 0:
        dev = (yt - yp) ** 2
    elif p == 1:
        xlogy = xp.where(yt == 0, zero, yt * xp.log(xp.where(yt == 0, xp.ones_like(yt), yt) / yp))
        dev = 2 * (xlogy - yt + yp)
    elif p == 2:
        dev = 2 * (xp.log(yp / yt) + yt / yp - 1)
    else:
        dev = 2 * (xp.pow(yt, 2 - p) / ((1 - p) * (2 - p)) - yt * xp.pow(yp, 1 - p) / (1 - p)
                   + xp.pow(yp, 2 - p) / (2 - p))
    return float(weighted_mean(dev, sw, xp=xp))


def mean_poisson_deviance(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Mean Poisson deviance (:func:`mean_tweedie_deviance` with ``power=1``)."""
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=1)


def mean_gamma_deviance(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Mean gamma deviance (:func:`mean_tweedie_deviance` with ``power=2``)."""
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=2)
