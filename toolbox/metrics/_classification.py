"""Classification metrics computed on the device of their inputs."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ..backends import framework_of, to_backend
from ..backends.primitives import bincount
from ..base import _to_compute, check_array
from . import _multilabel
from ._base import (
    Call,
    _inconsistent,
    as_1d,
    check_lengths,
    encode_targets,
    equal_targets,
    is_host_labels,
    labels_as_array,
    resolve_call,
    sample_weight_of,
    weighted_mean,
)

__all__ = [
    "accuracy_score",
    "balanced_accuracy_score",
    "brier_score_loss",
    "class_likelihood_ratios",
    "confusion_matrix",
    "d2_brier_score",
    "d2_log_loss_score",
    "f1_score",
    "fbeta_score",
    "jaccard_score",
    "log_loss",
    "matthews_corrcoef",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
]


def _prepare(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple[Call, Any, Any, Any]:
    call = resolve_call(y_pred=y_pred, y_true=y_true, sample_weight=sample_weight)
    y_true, y_pred = as_1d(y_true, "y_true"), as_1d(y_pred, "y_pred")
    n = check_lengths(y_true=y_true, y_pred=y_pred)
    sw = sample_weight_of(sample_weight, call, n)
    return call, y_true, y_pred, sw


# --------------------------------------------------------------------------- #
# accuracy
# --------------------------------------------------------------------------- #


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None) -> float:
    """Fraction (or number, ``normalize=False``) of correctly classified samples.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels (any backend; NumPy for strings).
    normalize : bool, default=True
        Return the fraction; otherwise the (weighted) count of correct samples.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
    """
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        # multilabel indicators (dense or scipy.sparse): subset accuracy, on the host
        correct = _multilabel.subset_correct(*_multilabel.indicators(y_true, y_pred))
        sw = None if sample_weight is None else np.asarray(
            to_backend(sample_weight, "numpy") if framework_of(sample_weight) else sample_weight, dtype=np.float64)
        if sw is not None and sw.shape != correct.shape:
            raise _inconsistent({"y_true": int(correct.shape[0]), "y_pred": int(correct.shape[0]),
                                 "sample_weight": int(sw.shape[0]) if sw.ndim else 0})
        total = float(correct.sum() if sw is None else correct @ sw)
        if not normalize:
            return total
        denom = float(correct.shape[0] if sw is None else sw.sum())
        if denom == 0.0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        return total / denom
    call, y_true, y_pred, sw = _prepare(y_true, y_pred, sample_weight)
    xp = call.xp
    correct = xp.astype(equal_targets({"y_true": y_true, "y_pred": y_pred}, call), call.float_dtype)
    if sw is None:
        return float(xp.mean(correct) if normalize else xp.sum(correct))
    sw = xp.astype(sw, correct.dtype)
    total = xp.sum(correct * sw)
    if not normalize:
        return float(total)
    wsum = float(xp.sum(sw))
    if wsum == 0.0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return float(total) / wsum


# --------------------------------------------------------------------------- #
# confusion matrix
# --------------------------------------------------------------------------- #


def _label_positions(call: Call, enc: Any, labels: Any) -> tuple[Any, int]:
    """Index of each encoded class in ``labels`` (``len(labels)`` when absent), and ``len(labels)``."""
    xp = call.xp
    host_labels = np.asarray(to_backend(labels, "numpy")).tolist()
    where = {}
    for i, v in enumerate(host_labels):
        where.setdefault(v, i)
    n_labels = len(host_labels)
    pos = [where.get(c, n_labels) for c in enc.host_classes()]
    return xp.asarray(pos, device=call.compute.device), n_labels


def _int_bincount(idx: Any, w: Any, length: int, *, xp: Any) -> Any:
    """Integer weight sums per bin: sorted cumulative sums differenced at the bin ends (no float rounding)."""
    order = xp.argsort(idx, stable=True)
    keys, ws = xp.take(idx, order), xp.take(w, order)
    csum = xp.cumulative_sum(ws, include_initial=True)
    bins = xp.arange(length, dtype=keys.dtype, device=getattr(keys, "device", None))
    ends = xp.searchsorted(keys, bins, side="right")
    starts = xp.searchsorted(keys, bins, side="left")
    return xp.take(csum, ends) - xp.take(csum, starts)


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                     normalize: str | None = None) -> Any:
    """Confusion matrix ``C[i, j]``: samples of true class ``i`` predicted as class ``j``.

    Computed with one ``bincount`` of ``true * n_labels + pred`` on the inputs' device.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (n_classes,), default=None
        Order of the rows/columns; samples with other labels are ignored.
        Default: the sorted union of ``y_true`` and ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
    normalize : {'true', 'pred', 'all'}, default=None
        Normalize over rows, columns or the whole matrix.

    Returns
    -------
    array of shape (n_classes, n_classes)
        The library and device of the inputs (NumPy for string labels); integer
        counts without weights (or with integer weights), floats otherwise.
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be one of {{'true', 'pred', 'all', None}}, got {normalize!r}.")
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        raise ValueError("multilabel-indicator is not supported")
    int_weights = sample_weight is not None and np.asarray(
        to_backend(sample_weight, "numpy") if framework_of(sample_weight) else sample_weight
    ).dtype.kind in "iub"
    call, y_true, y_pred, sw = _prepare(y_true, y_pred, sample_weight)
    xp = call.xp
    extra = None
    if labels is not None:
        labels = labels_as_array(labels, call)
        if labels.shape[0] == 0:
            raise ValueError("'labels' should contain at least one label.")
        extra = labels
    enc = encode_targets({"y_true": y_true, "y_pred": y_pred}, call, extra=extra)
    yt, yp = enc.codes
    if labels is None:
        n_labels = enc.n_classes
        t, p = yt, yp
    else:
        pos, n_labels = _label_positions(call, enc, labels)
        t, p = xp.take(pos, yt, axis=0), xp.take(pos, yp, axis=0)
        if not bool(xp.any(t < n_labels)):
            raise ValueError("At least one label specified must be in y_true")
    m = n_labels + 1  # an extra bin for samples whose labels are not in `labels`
    flat = t * m + p
    if int_weights:  # exact integer sums (wrapping on overflow as scikit-learn's), not through floats
        idtype = xp.int64 if call.float_dtype == getattr(xp, "float64", None) else xp.int32
        w = xp.astype(_to_compute(sample_weight, call.compute, "sample_weight"), idtype)
        cm = _int_bincount(flat, w, m * m, xp=xp)
    elif sw is None:
        cm = bincount(flat, length=m * m, xp=xp)
    else:
        cm = bincount(flat, length=m * m, weights=sw, xp=xp)
    cm = xp.reshape(cm, (m, m))[:n_labels, :n_labels]
    if normalize is not None:
        cmf = xp.astype(cm, call.float_dtype)
        if normalize == "true":
            den = xp.sum(cmf, axis=1, keepdims=True)
        elif normalize == "pred":
            den = xp.sum(cmf, axis=0, keepdims=True)
        else:
            den = xp.sum(cmf)
        cm = xp.where(den == 0, xp.zeros_like(cmf), cmf / xp.where(den == 0, xp.ones_like(den), den))
    if n_labels == 1:
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the "
            "correct shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=2,
        )
    if enc.host and all(is_host_labels(y) or isinstance(y, np.ndarray) for y in (y_true, y_pred)):
        return np.asarray(to_backend(cm, "numpy"))
    return call.output(cm)


def _confusion_float(y_true: Any, y_pred: Any, sample_weight: Any, name: str) -> tuple[Call, Any]:
    """The confusion matrix of binary/multiclass targets in the device's widest float."""
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        raise ValueError("multilabel-indicator is not supported")
    call = resolve_call(y_pred=y_pred, y_true=y_true, sample_weight=sample_weight)
    C = confusion_matrix(y_true, y_pred, sample_weight=sample_weight)
    C = _to_compute(C, call.compute, name) if framework_of(C) is None or isinstance(C, np.ndarray) else C
    return call, call.xp.astype(C, call.float_dtype)


def matthews_corrcoef(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Matthews correlation coefficient (binary and multiclass), from the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        In [-1, 1]; 0.0 when a variance term is zero (a constant ``y_true`` or ``y_pred``).
    """
    call, C = _confusion_float(y_true, y_pred, sample_weight, "confusion matrix")
    xp = call.xp
    t_sum, p_sum = xp.sum(C, axis=1), xp.sum(C, axis=0)
    n_correct = xp.sum(xp.linalg.diagonal(C) if hasattr(xp, "linalg") else xp.diagonal(C))
    n = xp.sum(p_sum)
    cov_ytyp = n_correct * n - xp.sum(t_sum * p_sum)
    cov_ypyp = n**2 - xp.sum(p_sum * p_sum)
    cov_ytyt = n**2 - xp.sum(t_sum * t_sum)
    prod = cov_ypyp * cov_ytyt
    if float(prod) == 0.0:
        return 0.0
    return float(cov_ytyp / xp.sqrt(prod))


def balanced_accuracy_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None, adjusted: bool = False) -> float:
    """Mean per-class recall over the classes of ``y_true`` (chance-adjusted with ``adjusted=True``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    adjusted : bool, default=False
        Rescale so that random guessing scores 0 and perfect prediction 1.

    Returns
    -------
    float
    """
    call, C = _confusion_float(y_true, y_pred, sample_weight, "confusion matrix")
    xp = call.xp
    diag = xp.linalg.diagonal(C) if hasattr(xp, "linalg") else xp.diagonal(C)
    rows = xp.sum(C, axis=1)
    has = rows != 0
    if not bool(xp.all(has)):
        warnings.warn("y_pred contains classes not in y_true", UserWarning, stacklevel=2)
    n_classes = int(xp.sum(xp.astype(has, xp.int32)))
    per_class = xp.where(has, diag / xp.where(has, rows, xp.ones_like(rows)), xp.zeros_like(rows))
    score = np.float64(float(xp.sum(per_class)) / n_classes if n_classes else math.nan)
    if adjusted:  # one class: 0 / 0, NaN with NumPy's RuntimeWarning, as scikit-learn
        chance = 1 / n_classes
        score = (score - chance) / np.float64(1 - chance)
    return float(score)


def _check_lr_replacement(replace_undefined_by: Any) -> Any:
    """scikit-learn's ``replace_undefined_by`` of :func:`class_likelihood_ratios`: NaN or {'LR+': ..., 'LR-': ...}."""
    if isinstance(replace_undefined_by, (int, float)) and not isinstance(replace_undefined_by, bool):
        if replace_undefined_by == 1.0:
            return {"LR+": 1.0, "LR-": 1.0}
        if math.isnan(replace_undefined_by):
            return replace_undefined_by
    if isinstance(replace_undefined_by, dict):
        msg = ("The dictionary passed as `replace_undefined_by` needs to be in the form `{'LR+': `value_1`, 'LR-': "
               "`value_2`}` where the value for `LR+` ranges from `1.0` to `np.inf` or is `np.nan` and the value for "
               f"`LR-` ranges from `0.0` to `1.0` or is `np.nan`; got `{replace_undefined_by}`.")
        pos, neg = replace_undefined_by.get("LR+"), replace_undefined_by.get("LR-")

        def real(v: Any) -> bool:
            return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)

        if not (real(pos) and real(neg) and (math.isnan(pos) or pos >= 1.0)
                and (math.isnan(neg) or 0.0 <= neg <= 1.0)):
            raise ValueError(msg)
        return replace_undefined_by
    raise ValueError("The 'replace_undefined_by' parameter of class_likelihood_ratios must be a float among {1.0, nan} "
                     f"or an instance of 'dict'. Got {replace_undefined_by!r} instead.")


def class_likelihood_ratios(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                            replace_undefined_by: Any = np.nan) -> tuple[float, float]:
    """Positive and negative likelihood ratios ``LR+ = TPR / FPR`` and ``LR- = FNR / TNR`` (binary).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like of shape (2,), default=None
        The negative and the positive label, in that order.
    sample_weight : array-like of shape (n_samples,), default=None
    replace_undefined_by : np.nan, 1.0 or dict, default=np.nan
        The value of an undefined ratio (``{'LR+': ..., 'LR-': ...}``), with an ``UndefinedMetricWarning``.

    Returns
    -------
    (float, float)
    """
    replace = _check_lr_replacement(replace_undefined_by)
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        raise ValueError("class_likelihood_ratios only supports binary classification problems, got targets of "
                         "type: multilabel-indicator")
    call, y_true, y_pred, _ = _prepare(y_true, y_pred, sample_weight)
    enc = encode_targets({"y_true": y_true, "y_pred": y_pred}, call)
    if enc.n_classes > 2:
        raise ValueError("class_likelihood_ratios only supports binary classification problems, got targets of "
                         "type: multiclass")
    cm = confusion_matrix(y_true, y_pred, sample_weight=sample_weight, labels=labels)
    values = np.asarray(to_backend(cm, "numpy")).ravel().tolist()
    if len(values) != 4:
        raise ValueError(f"class_likelihood_ratios needs a 2 x 2 confusion matrix; got {len(values)} entries: pass "
                         "both labels with `labels`.")
    tn, fp, fn, tp = (np.float64(v) for v in values)
    support_pos, support_neg = tp + fn, tn + fp
    if support_pos == 0:
        warnings.warn(
            "No samples of the positive class are present in `y_true`. `positive_likelihood_ratio` and "
            "`negative_likelihood_ratio` are both set to `np.nan`. Use the `replace_undefined_by` param to control "
            "this behavior. To suppress this warning or turn it into an error, see Python's `warnings` module and "
            "`warnings.catch_warnings()`.", UndefinedMetricWarning, stacklevel=2)
    nan_mode = isinstance(replace, float)
    if fp == 0:
        start = ("No samples were predicted for the positive class and `positive_likelihood_ratio` is " if tp == 0
                 else "`positive_likelihood_ratio` is ill-defined and ")
        # scikit-learn's message ends here (its next sentence is not part of the string)
        warnings.warn(start + "set to `np.nan`. Use the `replace_undefined_by` param to ", UndefinedMetricWarning,
                      stacklevel=2)
        lr_pos = replace if nan_mode else replace["LR+"]
    else:
        lr_pos = (tp * support_neg) / (fp * support_pos)  # 0 / 0 warns as NumPy does (scikit-learn's too)
    if tn == 0:
        warnings.warn(
            "`negative_likelihood_ratio` is ill-defined and set to `np.nan`. Use the `replace_undefined_by` param to "
            "control this behavior. To suppress this warning or turn it into an error, see Python's `warnings` "
            "module and `warnings.catch_warnings()`.", UndefinedMetricWarning, stacklevel=2)
        lr_neg = replace if nan_mode else replace["LR-"]
    else:
        lr_neg = (fn * support_neg) / (tn * support_pos)
    return float(lr_pos), float(lr_neg)


# --------------------------------------------------------------------------- #
# precision, recall, F-score
# --------------------------------------------------------------------------- #


def _check_zero_division(zero_division: Any) -> float:
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool):
        if zero_division in (0, 1):
            return float(zero_division)
        if math.isnan(zero_division):
            return math.nan
    raise ValueError(
        f"zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}."
    )


def _warn_prf(average: Any, modifier: str, msg_start: str, result_size: int) -> None:
    axis0, axis1 = "sample", "label"
    if average == "samples":
        axis0, axis1 = axis1, axis0
    msg = (
        f"{msg_start} ill-defined and being set to 0.0 {{0}} no {modifier} {axis0}s. Use `zero_division` "
        "parameter to control this behavior."
    )
    msg = msg.format("due to") if result_size == 1 else msg.format(f"in {axis1}s with")
    warnings.warn(msg, UndefinedMetricWarning, stacklevel=4)


def _prf_divide(num: Any, den: Any, metric: str, modifier: str, average: Any, warn_for: Any,
                zero_division: Any, *, xp: Any) -> Any:
    zero = den == 0
    out = num / xp.where(zero, xp.ones_like(den), den)
    if not bool(xp.any(zero)):
        return out
    out = xp.where(zero, xp.full_like(out, _check_zero_division(zero_division)), out)
    if zero_division == "warn" and metric in warn_for:
        _warn_prf(average, modifier, f"{metric.capitalize()} is", int(out.shape[0]))
    return out


def _nanaverage(a: Any, weights: Any, *, xp: Any) -> float:
    """Average ignoring NaN (scikit-learn's ``_nanaverage``); all weights zero -> plain mean."""
    ok = ~xp.isnan(a)
    n_ok = int(xp.sum(xp.astype(ok, xp.int32)))
    if a.shape[0] == 0 or n_ok == 0:
        return math.nan
    vals = xp.where(ok, a, xp.zeros_like(a))
    if weights is not None:
        w = xp.where(ok, xp.astype(weights, a.dtype), xp.zeros_like(a))
        wsum = float(xp.sum(w))
        if wsum != 0.0:
            return float(xp.sum(vals * w)) / wsum
    return float(xp.sum(vals)) / n_ok


def precision_recall_fscore_support(y_true: Any, y_pred: Any, *, beta: float = 1.0, labels: Any = None,
                                    pos_label: Any = 1, average: str | None = None,
                                    warn_for: Any = ("precision", "recall", "f-score"),
                                    sample_weight: Any = None, zero_division: Any = "warn") -> tuple:
    """Precision, recall, F-beta score and support of each class (or their average).

    Per-class true-positive, predicted and true counts come from three
    ``bincount`` calls on the inputs' device.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    beta : float, default=1.0
        Weight of recall in the F-score.
    labels : array-like, default=None
        Labels to include (and their order when ``average=None``).
    pos_label : int, float, bool or str, default=1
        The positive class when ``average='binary'``.
    average : {'binary', 'micro', 'macro', 'weighted'} or None, default=None
        None returns per-label arrays.
    warn_for : tuple of str
        Metrics that warn when ill-defined and ``zero_division='warn'``.
    sample_weight : array-like of shape (n_samples,), default=None
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value for ill-defined ratios ('warn' gives 0 and warns).

    Returns
    -------
    precision, recall, fbeta : float, or arrays of shape (n_labels,) when ``average=None``
    support : None, or array of shape (n_labels,) when ``average=None``
    """
    _check_zero_division(zero_division)
    if beta < 0:
        raise ValueError(f"beta should be >= 0 in the F-beta score, got {beta}.")
    options = (None, "micro", "macro", "weighted", "samples")
    if average not in options and average != "binary":
        raise ValueError("average has to be one of " + str((*options, "binary")))
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        return _prfs_multilabel(y_true, y_pred, beta=beta, labels=labels, average=average, warn_for=warn_for,
                                sample_weight=sample_weight, zero_division=zero_division)
    call, tp, pred, true, sw = _class_counts(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                             sample_weight=sample_weight)
    xp = call.xp
    precision, recall, f = _prf_from_counts(tp, pred, true, beta=beta, average=average, warn_for=warn_for,
                                            zero_division=zero_division, xp=xp)
    if average is not None:
        weights = true if average == "weighted" else None
        return (_nanaverage(precision, weights, xp=xp), _nanaverage(recall, weights, xp=xp),
                _nanaverage(f, weights, xp=xp), None)
    fdt = call.float_dtype
    support = true if sw is not None else xp.astype(xp.round(true), xp.int64 if fdt == getattr(xp, "float64", None)
                                                     else xp.int32)
    return call.output(precision), call.output(recall), call.output(f), call.output(support)


def _class_counts(y_true: Any, y_pred: Any, *, labels: Any, pos_label: Any, average: Any,
                  sample_weight: Any) -> tuple[Call, Any, Any, Any, Any]:
    """Per-label (weighted) true-positive, predicted and true counts of binary/multiclass targets.

    Three ``bincount`` calls on the inputs' device; ``labels`` selects (and orders) the
    labels, ``average='binary'`` keeps ``pos_label`` only, ``'micro'`` sums the counts.
    """
    call, y_true, y_pred, sw = _prepare(y_true, y_pred, sample_weight)
    xp = call.xp
    enc = encode_targets({"y_true": y_true, "y_pred": y_pred}, call)
    if average == "samples":  # after the target checks, as in scikit-learn
        raise ValueError("Samplewise metrics are not available outside of multilabel classification.")
    present = enc.host_classes()
    y_type = "binary" if len(present) <= 2 else "multiclass"
    if average == "binary":
        if y_type == "multiclass":
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another average setting, one of "
                "[None, 'micro', 'macro', 'weighted']."
            )
        if pos_label not in present and len(present) >= 2:
            raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of "
                             f"{np.asarray(present)}")  # scikit-learn prints its array of labels
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
            f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=3,
        )
    yt, yp = enc.codes
    k = enc.n_classes
    fdt = call.float_dtype
    w = xp.ones(yt.shape, dtype=fdt, device=call.compute.device) if sw is None else xp.astype(sw, fdt)
    tp = bincount(yt, length=k, weights=w * xp.astype(yt == yp, fdt), xp=xp)
    pred = bincount(yp, length=k, weights=w, xp=xp)
    true = bincount(yt, length=k, weights=w, xp=xp)
    if labels is not None:
        host_labels = np.asarray(to_backend(labels, "numpy") if framework_of(labels) else labels).tolist()
        if not isinstance(host_labels, list):
            host_labels = [host_labels]
        sel = [i if i >= 0 else k for i in enc.index_of(host_labels)]
        idx = xp.asarray(sel, device=call.compute.device)
        pad = xp.zeros((1,), dtype=fdt, device=call.compute.device)
        tp, pred, true = (xp.take(xp.concat([s, pad]), idx, axis=0) for s in (tp, pred, true))
    if average == "micro":
        tp, pred, true = (xp.reshape(xp.sum(s), (1,)) for s in (tp, pred, true))
    return call, tp, pred, true, sw


def _prf_from_counts(tp: Any, pred: Any, true: Any, *, beta: float, average: Any, warn_for: Any,
                     zero_division: Any, xp: Any) -> tuple[Any, Any, Any]:
    """Precision, recall and F-beta from true-positive, predicted and true counts (arrays of one shape)."""
    precision = _prf_divide(tp, pred, "precision", "predicted", average, warn_for, zero_division, xp=xp)
    recall = _prf_divide(tp, true, "recall", "true", average, warn_for, zero_division, xp=xp)
    if math.isinf(beta):
        f = recall
    elif beta == 0:
        f = precision
    else:
        b2 = float(beta) ** 2
        f = _prf_divide((1 + b2) * tp, b2 * true + pred, "f-score", "true nor predicted", average, warn_for,
                        zero_division, xp=xp)
    return precision, recall, f


def _prfs_multilabel(y_true: Any, y_pred: Any, *, beta: float, labels: Any, average: Any, warn_for: Any,
                     sample_weight: Any, zero_division: Any) -> tuple:
    """:func:`precision_recall_fscore_support` for multilabel indicators (dense or ``scipy.sparse``).

    Per-label counts are column sums of ``Yt * Yp``, ``Yp`` and ``Yt`` (sparse products on
    sparse input); ``average="samples"`` uses the per-row sums. On the host (NumPy), as
    scikit-learn.
    """
    tp, pred, true, sw = _multilabel_counts(y_true, y_pred, labels=labels, average=average,
                                            sample_weight=sample_weight)
    xp = np
    precision, recall, f = _prf_from_counts(tp, pred, true, beta=beta, average=average, warn_for=warn_for,
                                            zero_division=zero_division, xp=xp)
    if average is not None:
        weights = true if average == "weighted" else sw if average == "samples" else None
        return (_nanaverage(precision, weights, xp=xp), _nanaverage(recall, weights, xp=xp),
                _nanaverage(f, weights, xp=xp), None)
    support = true if sw is not None else np.round(true).astype(np.int64)
    return precision, recall, f, support


def _multilabel_counts(y_true: Any, y_pred: Any, *, labels: Any, average: Any,
                       sample_weight: Any) -> tuple[Any, Any, Any, Any]:
    """Per-label (per-sample for ``average='samples'``) counts of multilabel indicators, on the host."""
    if average == "binary":
        raise ValueError("Target is multilabel-indicator but average='binary'. Please choose another average "
                         "setting, one of [None, 'micro', 'macro', 'weighted', 'samples'].")
    Yt, Yp = _multilabel.indicators(y_true, y_pred)
    sw = None if sample_weight is None else np.asarray(
        to_backend(sample_weight, "numpy") if framework_of(sample_weight) else sample_weight, dtype=np.float64)
    if sw is not None and sw.shape != (Yt.shape[0],):
        raise _inconsistent({"y_true": int(Yt.shape[0]), "y_pred": int(Yp.shape[0]),
                             "sample_weight": int(sw.shape[0]) if sw.ndim else 0})
    if labels is not None:
        cols = np.asarray(labels, dtype=np.int64).reshape(-1)
        if cols.size and cols.max() >= Yt.shape[1]:
            raise ValueError("All labels must be in [0, n labels) for multilabel targets. "
                             f"Got {cols.max()} > {Yt.shape[1] - 1}")
        if cols.size and cols.min() < 0:
            raise ValueError(f"All labels must be in [0, n labels) for multilabel targets. Got {cols.min()} < 0")
        Yt, Yp = Yt[:, cols], Yp[:, cols]
    if average == "samples":
        tp, pred, true = _multilabel.row_counts(Yt, Yp)
    else:
        tp, pred, true = _multilabel.label_counts(Yt, Yp, sw)
    if average == "micro":
        tp, pred, true = (np.reshape(np.sum(v), (1,)) for v in (tp, pred, true))
    return tp, pred, true, sw


def fbeta_score(y_true: Any, y_pred: Any, *, beta: float, labels: Any = None, pos_label: Any = 1,
                average: str | None = "binary", sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    """F-beta score: ``(1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)``.

    Same parameters as :func:`precision_recall_fscore_support`; returns a float,
    or an array of shape (n_labels,) when ``average=None``.
    """
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average,
        warn_for=("f-score",), sample_weight=sample_weight, zero_division=zero_division,
    )
    return f


def f1_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1, average: str | None = "binary",
             sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    """F1 score, the harmonic mean of precision and recall.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    labels : array-like, default=None
    pos_label : int, float, bool or str, default=1
    average : {'binary', 'micro', 'macro', 'weighted'} or None, default='binary'
    sample_weight : array-like of shape (n_samples,), default=None
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'

    Returns
    -------
    float, or array of shape (n_labels,) when ``average=None`` (the inputs' library).
    """
    return fbeta_score(y_true, y_pred, beta=1, labels=labels, pos_label=pos_label, average=average,
                       sample_weight=sample_weight, zero_division=zero_division)


def precision_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                    average: str | None = "binary", sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    """Precision ``tp / (tp + fp)``; parameters and return as :func:`f1_score`."""
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average, warn_for=("precision",),
        sample_weight=sample_weight, zero_division=zero_division,
    )
    return p


def recall_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                 average: str | None = "binary", sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    """Recall ``tp / (tp + fn)``; parameters and return as :func:`f1_score`."""
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average, warn_for=("recall",),
        sample_weight=sample_weight, zero_division=zero_division,
    )
    return r


def jaccard_score(y_true: Any, y_pred: Any, *, labels: Any = None, pos_label: Any = 1,
                  average: str | None = "binary", sample_weight: Any = None, zero_division: Any = "warn") -> Any:
    """Jaccard similarity ``tp / (tp + fp + fn)`` per label (or sample), or its average.

    Same parameters as :func:`f1_score` (``average='samples'`` for multilabel
    indicators); the counts are those of :func:`precision_recall_fscore_support`.

    Returns
    -------
    float, or array of shape (n_labels,) when ``average=None`` (the inputs' library).
    """
    if not (isinstance(zero_division, str) and zero_division == "warn") and (
            _check_zero_division(zero_division) not in (0.0, 1.0)):
        raise ValueError("The 'zero_division' parameter of jaccard_score must be a float among {0, 1} or a str "
                         f"among {{'warn'}}. Got {zero_division!r} instead.")
    options = (None, "micro", "macro", "weighted", "samples")
    if average not in options and average != "binary":
        raise ValueError("average has to be one of " + str((*options, "binary")))
    if _multilabel.is_indicator(y_true) or _multilabel.is_indicator(y_pred):
        tp, pred, true, sw = _multilabel_counts(y_true, y_pred, labels=labels, average=average,
                                                sample_weight=sample_weight)
        xp, output = np, (lambda a: a)
    else:
        call, tp, pred, true, sw = _class_counts(y_true, y_pred, labels=labels, pos_label=pos_label,
                                                 average=average, sample_weight=sample_weight)
        xp, output = call.xp, call.output
    jaccard = _prf_divide(tp, pred + true - tp, "jaccard", "true or predicted", average, ("jaccard",),
                          zero_division, xp=xp)
    if average is None:
        return output(jaccard)
    weights = None
    if average == "weighted":
        weights = true if bool(xp.any(true != 0)) else None
    elif average == "samples" and sw is not None:
        weights = xp.asarray(sw, dtype=jaccard.dtype) if xp is np else sw
    return float(weighted_mean(jaccard, weights, xp=xp))


# --------------------------------------------------------------------------- #
# log loss
# --------------------------------------------------------------------------- #


def _proba_columns(P: Any, *, xp: Any, stacklevel: int) -> Any:
    """Probabilities as (n, n_classes) columns (one column ``p`` becomes ``[1 - p, p]``), with
    scikit-learn's warning when the rows do not sum to one."""
    if P.ndim == 1:
        P = P[:, None]
    if P.shape[1] == 1:
        P = xp.concat([1 - P, P], axis=1)
    eps = float(xp.finfo(P.dtype).eps)
    if not bool(xp.all(xp.abs(xp.sum(P, axis=1) - 1) <= math.sqrt(eps) * 1.0)):
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.", UserWarning,
                      stacklevel=stacklevel)
    return P


def _d2_undefined(y_true: Any, y_proba: Any) -> bool:
    """Checks the lengths agree; True (with scikit-learn's warning) below two samples, where D^2 is NaN."""
    n_proba = int(y_proba.shape[0]) if hasattr(y_proba, "shape") else len(y_proba)
    n_true = int(y_true.shape[0]) if hasattr(y_true, "shape") else len(y_true)
    if n_proba != n_true:
        raise _inconsistent({"y_proba": n_proba, "y_true": n_true})
    if n_proba < 2:
        warnings.warn("D^2 score is not well-defined with less than two samples.", UndefinedMetricWarning,
                      stacklevel=3)
        return True
    return False


def _renamed_y_proba(y_pred: Any, y_proba: Any) -> Any:
    """``y_proba``, or the deprecated ``y_pred`` (scikit-learn 1.9's rename) with its FutureWarning."""
    if isinstance(y_pred, str) and y_pred == "deprecated":
        return y_proba
    if y_proba is not None:
        raise ValueError("Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, use `y_proba` instead.")
    warnings.warn("`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. Use `y_proba` "
                  "instead.", FutureWarning, stacklevel=3)
    return y_pred


def log_loss(y_true: Any, y_proba: Any = None, *, normalize: bool = True, sample_weight: Any = None,
             labels: Any = None, y_pred: Any = "deprecated") -> float:
    """Cross-entropy of predicted probabilities ``y_proba`` against labels ``y_true``.

    Probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the machine
    precision of their dtype (as scikit-learn 1.9 does) and are not renormalized
    (a warning says when rows do not sum to one).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        Probabilities of the sorted classes; 1-D means the positive (larger) class of a binary problem.
    normalize : bool, default=True
        Mean over samples; otherwise the sum.
    sample_weight : array-like of shape (n_samples,), default=None
    labels : array-like, default=None
        All class labels, when ``y_true`` does not contain every class.
    y_pred : deprecated
        Old name of ``y_proba`` (scikit-learn 1.9 renamed it).

    Returns
    -------
    float
    """
    y_proba = _renamed_y_proba(y_pred, y_proba)
    if y_proba is None:
        raise ValueError("log_loss needs the predicted probabilities y_proba.")
    call, Y, P, sw = _proba_targets(y_true, y_proba, sample_weight, labels)
    return _cross_entropy(Y, P, sw, normalize=normalize, xp=call.xp)


def d2_log_loss_score(y_true: Any, y_proba: Any = None, *, sample_weight: Any = None, labels: Any = None,
                      y_pred: Any = "deprecated") -> float:
    """D^2 of the log loss: ``1 - log_loss / log_loss of the (weighted) class frequencies``.

    Parameters as :func:`log_loss`; a float (NaN, with a warning, below two samples).
    """
    y_proba = _renamed_y_proba(y_pred, y_proba)
    if y_proba is None:
        raise ValueError("d2_log_loss_score needs the predicted probabilities y_proba.")
    if _d2_undefined(y_true, y_proba):
        return float("nan")
    call, Y, P, sw = _proba_targets(y_true, y_proba, sample_weight, labels)
    xp = call.xp
    Yf = xp.astype(Y, P.dtype)
    null = xp.broadcast_to(xp.reshape(weighted_mean(Yf, sw, xp=xp), (1, -1)), P.shape)
    num = _cross_entropy(Y, P, sw, normalize=False, xp=xp)
    den = _cross_entropy(Y, null, sw, normalize=False, xp=xp)
    return float(1 - np.float64(num) / np.float64(den))


def _proba_targets(y_true: Any, y_proba: Any, sample_weight: Any, labels: Any) -> tuple[Call, Any, Any, Any]:
    """scikit-learn's checks of class probabilities: one-hot ``Y`` (bool), ``P`` (n, k) and the weights."""
    call = resolve_call(y_proba=y_proba, y_true=y_true, sample_weight=sample_weight)
    xp = call.xp
    P = check_array(_to_compute(y_proba, call.compute, "y_proba"), xp=xp, device=call.compute.device,
                    name="y_proba", ensure_2d=False)
    if _multilabel.is_indicator(y_true):
        return _proba_multilabel(call, y_true, P, sample_weight=sample_weight)
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_proba=P, y_true=y_true)  # scikit-learn's order
    sw = sample_weight_of(sample_weight, call, n, dtype=P.dtype)
    _check_proba_range(P, xp=xp)
    extra = None
    if labels is not None:
        extra = labels_as_array(labels, call)
    enc = encode_targets({"y_true": y_true}, call, extra=extra)
    k = enc.n_classes
    if labels is not None:
        given = np.asarray(to_backend(extra, "numpy")).tolist()
        classes = enc.host_classes()
        allowed = set(enc.index_of(given))
        outside = [i for i in range(k) if i not in allowed]
        if outside:  # classes of y_true that are not in labels
            out_idx = xp.asarray(outside, dtype=enc.codes[0].dtype, device=call.compute.device)
            is_out = xp.any(enc.codes[0][:, None] == out_idx[None, :], axis=1)
            if bool(xp.any(is_out)):
                raise ValueError(
                    f"y_true contains values {set(classes[i] for i in outside)} not belonging to the passed "
                    f"labels {given}."
                )
            k = len(allowed)
        if len(given) == len(classes) and given != classes:
            warnings.warn(
                f"Labels passed were {given}. But this function assumes labels are ordered lexicographically. "
                f"Pass the ordered labels={classes} and ensure that the columns of y_prob correspond to "
                "this ordering.",
                UserWarning,
                stacklevel=4,
            )
    if k == 1:
        if labels is None:
            raise ValueError(
                f"y_true contains only one label ({enc.host_classes()[0]}). Please provide the list of all "
                "expected class labels explicitly through the labels argument."
            )
        raise ValueError(f"The labels array needs to contain at least two labels, got {enc.host_classes()}.")
    P = _proba_columns(P, xp=xp, stacklevel=5)
    if k != P.shape[1]:
        if labels is None:
            raise ValueError(
                f"y_true and y_prob contain different number of classes: {k} vs {P.shape[1]}. Please provide the "
                "true labels explicitly through the labels argument. Classes found in y_true: "
                f"{np.asarray(enc.host_classes())}"
            )
        raise ValueError(
            f"The number of classes in labels is different from that in y_prob. Classes found in labels: "
            f"{np.asarray(enc.host_classes())}"
        )
    Y = enc.codes[0][:, None] == xp.arange(k, dtype=enc.codes[0].dtype, device=call.compute.device)[None, :]
    return call, Y, P, sw


def _binary_proba_targets(y_true: Any, y_proba: Any, sample_weight: Any,
                          pos_label: Any) -> tuple[Call, Any, Any, Any]:
    """Binary targets with 1-D probabilities of ``pos_label``: boolean positives, probabilities, weights.

    ``pos_label=None`` means 1 for labels in {0, 1} or {-1, 1}, else the larger
    label (string labels need it), as scikit-learn's Brier score.
    """
    call = resolve_call(y_proba=y_proba, y_true=y_true, sample_weight=sample_weight)
    xp = call.xp
    p = check_array(_to_compute(y_proba, call.compute, "y_proba"), xp=xp, device=call.compute.device,
                    name="y_proba", ensure_2d=False)
    if p.ndim == 2:
        p = p[:, 0]
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_proba=p, y_true=y_true)
    sw = sample_weight_of(sample_weight, call, n, dtype=p.dtype)
    enc = encode_targets({"y_true": y_true}, call)
    if enc.n_classes > 2:
        raise ValueError("The type of the target inferred from y_true is multiclass but should be binary according "
                         "to the shape of y_prob.")
    pmax, pmin = float(xp.max(p)), float(xp.min(p))
    if pmax > 1:
        raise ValueError(f"y_prob contains values greater than 1: {pmax}")
    if pmin < 0:
        raise ValueError(f"y_prob contains values less than 0: {pmin}")
    classes = enc.host_classes()
    if pos_label is None:
        if any(isinstance(c, (str, bytes)) for c in classes):
            shown = ", ".join(repr(c) for c in classes)
            raise ValueError(f"y_true takes value in {{{shown}}} and pos_label is not specified: either make y_true "
                             "take value in {0, 1} or {-1, 1} or pass pos_label explicitly.")
        known = ({0, 1}, {-1, 1}, {0}, {-1}, {1})
        pos_label = 1 if set(classes) in known else classes[-1]
    where = enc.index_of([pos_label])[0]
    codes = enc.codes[0]
    t = (codes == where) if where >= 0 else xp.zeros(codes.shape, dtype=xp.bool, device=call.compute.device)
    return call, t, p, sw


def _brier_parts(y_true: Any, y_proba: Any, sample_weight: Any, pos_label: Any,
                 labels: Any) -> tuple[Call, Any, Any, Any, bool]:
    """One-hot targets ``Y`` (n, k) as floats, probabilities ``P`` (n, k), weights, and whether P was binary."""
    shape = tuple(getattr(y_proba, "shape", np.shape(y_proba)))
    if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
        call, t, p, sw = _binary_proba_targets(y_true, y_proba, sample_weight, pos_label)
        xp = call.xp
        tf = xp.astype(t, p.dtype)
        return call, xp.stack([1 - tf, tf], axis=1), xp.stack([1 - p, p], axis=1), sw, True
    call, Y, P, sw = _proba_targets(y_true, y_proba, sample_weight, labels)
    return call, call.xp.astype(Y, P.dtype), P, sw, False


def brier_score_loss(y_true: Any, y_proba: Any, *, sample_weight: Any = None, pos_label: Any = None,
                     labels: Any = None, scale_by_half: Any = "auto") -> float:
    """Brier score: the (weighted) mean over samples of ``sum_k (Y_k - P_k)^2``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        1-D: probabilities of ``pos_label`` (binary); 2-D: of the sorted classes.
    sample_weight : array-like of shape (n_samples,), default=None
    pos_label : int, float, bool or str, default=None
        The positive class of 1-D probabilities (default: 1, or the larger label).
    labels : array-like, default=None
        All class labels (2-D probabilities), as :func:`log_loss`.
    scale_by_half : bool or 'auto', default='auto'
        Halve the score (the binary convention, in [0, 1]); 'auto' halves with fewer than three columns.

    Returns
    -------
    float
    """
    if not (scale_by_half == "auto" or isinstance(scale_by_half, bool)):
        raise ValueError("The 'scale_by_half' parameter of brier_score_loss must be an instance of 'bool' or a str "
                         f"among {{'auto'}}. Got {scale_by_half!r} instead.")
    call, Y, P, sw, binary = _brier_parts(y_true, y_proba, sample_weight, pos_label, labels)
    xp = call.xp
    score = float(weighted_mean(xp.sum((Y - P) ** 2, axis=1), sw, xp=xp))
    if scale_by_half == "auto":
        scale_by_half = binary or P.shape[1] < 3
    return score * 0.5 if scale_by_half else score


def d2_brier_score(y_true: Any, y_proba: Any, *, sample_weight: Any = None, pos_label: Any = None,
                   labels: Any = None) -> float:
    """D^2 of the Brier score: ``1 - Brier / Brier of the (weighted) class frequencies``.

    Parameters as :func:`brier_score_loss`; a float (NaN, with a warning, below two samples).
    """
    if _d2_undefined(y_true, y_proba):
        return float("nan")
    call, Y, P, sw, _ = _brier_parts(y_true, y_proba, sample_weight, pos_label, labels)
    xp = call.xp
    null = xp.reshape(weighted_mean(Y, sw, xp=xp), (1, -1))
    num = weighted_mean(xp.sum((Y - P) ** 2, axis=1), sw, xp=xp)
    den = weighted_mean(xp.sum((Y - null) ** 2, axis=1), sw, xp=xp)
    return float(1 - np.float64(float(num)) / np.float64(float(den)))


def _check_proba_range(P: Any, *, xp: Any) -> None:
    pmax, pmin = float(xp.max(P)), float(xp.min(P))
    if pmax > 1:
        raise ValueError(f"y_prob contains values greater than 1: {pmax}")
    if pmin < 0:
        raise ValueError(f"y_prob contains values lower than 0: {pmin}")


def _cross_entropy(Y: Any, P: Any, sw: Any, *, normalize: bool, xp: Any) -> float:
    """``-sum(Y * log(clip(P)))`` per sample (``Y`` boolean), then the (weighted) mean or sum."""
    eps = float(xp.finfo(P.dtype).eps)
    P = xp.clip(P, eps, 1 - eps)
    loss = -xp.sum(xp.where(Y, xp.log(P), xp.zeros_like(P)), axis=1)
    if sw is None:
        return float(xp.mean(loss) if normalize else xp.sum(loss))
    total = xp.sum(loss * sw)
    if not normalize:
        return float(total)
    return float(total) / float(xp.sum(sw))


def _proba_multilabel(call: Call, y_true: Any, P: Any, *, sample_weight: Any) -> tuple[Call, Any, Any, Any]:
    """A multilabel indicator ``y_true`` (n, k) with its probabilities, as scikit-learn's LabelBinarizer keeps it."""
    xp = call.xp
    _check_proba_range(P, xp=xp)
    if _multilabel.sp.is_sparse(y_true):
        y_true = y_true.toarray()
    Yv = _to_compute(y_true, call.compute, "y_true")
    n = check_lengths(y_proba=P, y_true=Yv)
    sw = sample_weight_of(sample_weight, call, n, dtype=P.dtype)
    if not bool(xp.all((Yv == 0) | (Yv == 1))):
        raise ValueError("Multioutput target data is not supported with label binarization")
    P = _proba_columns(P, xp=xp, stacklevel=4)
    k = int(Yv.shape[1])
    if k != P.shape[1]:
        raise ValueError(
            f"y_true and y_prob contain different number of classes: {k} vs {P.shape[1]}. Please provide the "
            f"true labels explicitly through the labels argument. Classes found in y_true: {np.arange(k)}"
        )
    return call, Yv == 1, P, sw
