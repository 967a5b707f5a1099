"""Regression metrics computed on the device of their inputs."""

from __future__ import annotations

import warnings
from typing import Any

from sklearn.exceptions import UndefinedMetricWarning

from ..backends import framework_of
from ..backends._convert import as_host_array
from ..base import _to_compute, check_array
from ._base import Call, check_lengths, resolve_call, sample_weight_of, weighted_mean

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score"]


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
                                              allowed=("raw_values", "uniform_average"))
    xp = call.xp
    return _aggregate(call, weighted_mean((yt - yp) ** 2, sw, xp=xp), mo)


def mean_absolute_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                        multioutput: Any = "uniform_average") -> Any:
    """Mean absolute error; parameters and return as :func:`mean_squared_error`."""
    call, yt, yp, sw, mo = _check_reg_targets(y_true, y_pred, sample_weight, multioutput,
                                              allowed=("raw_values", "uniform_average"))
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
                                              allowed=("raw_values", "uniform_average", "variance_weighted"))
    xp = call.xp
    if yt.shape[0] < 2:
        warnings.warn("R^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    w = 1.0 if sw is None else sw[:, None]
    num = xp.sum(w * (yt - yp) ** 2, axis=0)
    mean = weighted_mean(yt, sw, xp=xp)
    den = xp.sum(w * (yt - mean) ** 2, axis=0)
    nz_den, nz_num = den != 0, num != 0
    safe = xp.where(nz_den, den, xp.ones_like(den))
    if force_finite:
        scores = xp.where(nz_den & nz_num, 1 - num / safe, xp.ones_like(num))
        scores = xp.where(nz_num & ~nz_den, xp.zeros_like(scores), scores)
    else:
        scores = 1 - num / den
    if isinstance(mo, str):
        if mo == "raw_values":
            return call.output(scores)
        if mo == "variance_weighted":
            if not bool(xp.any(nz_den)):
                return float(xp.mean(scores))
            return float(xp.sum(scores * den) / xp.sum(den))
        return float(xp.mean(scores))
    return float(xp.sum(scores * mo) / xp.sum(mo))
