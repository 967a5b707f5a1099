"""Ranking metrics (ROC AUC) computed on the device of their inputs."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning

from ..backends import framework_of, jit, to_backend
from ..base import _to_compute, check_array
from ._base import (
    Call,
    as_1d,
    check_legacy_sequences,
    check_lengths,
    encode_targets,
    labels_as_array,
    resolve_call,
    sample_weight_of,
    weighted_mean,
)

__all__ = ["average_precision_score", "roc_auc_score", "top_k_accuracy_score"]

#: the most elements of one (n_samples, n_columns) block of the one-vs-one AUCs
_OVO_BLOCK = 1 << 24


def _tie_groups(Y: Any, S: Any, w: Any, *, xp: Any) -> dict[str, Any]:
    """Per sample of every column of ``S`` (n, m), sorted by score: the weights of its tie group's bounds.

    One sort per column; tie groups get their bounds from ``searchsorted`` on
    column-major group keys, so all shapes are static. Returned arrays are
    flat (m * n, column-major): ``neg_below`` / ``pos_below`` is the negative /
    positive weight scored strictly lower than the sample, ``neg_upto`` /
    ``pos_upto`` lower or tied; ``last`` marks one sample per tie group;
    ``P``, ``N`` (m,) are the columns' total positive and negative weights.
    ``w`` is None, one weight per sample (n,) or one per sample and column (n, m).
    """
    n, m = S.shape
    # no `.device` inside (JAX traces this under jit): shapes and devices come from *_like
    order = xp.argsort(S, axis=0)
    idt = order.dtype
    Ss = xp.take_along_axis(S, order, axis=0)
    Ys = xp.take_along_axis(Y, order, axis=0)
    if w is None:
        W = xp.ones_like(S)
    elif w.ndim == 1:
        W = xp.reshape(xp.take(w, xp.reshape(order, (-1,)), axis=0), (n, m))
    else:
        W = xp.take_along_axis(w, order, axis=0)
    pos = xp.where(Ys, W, xp.zeros_like(W))
    neg = W - pos
    first = xp.ones_like(Ys[:1, ...])
    new = xp.concat([first, Ss[1:, ...] != Ss[:-1, ...]], axis=0) if n > 1 else first
    group = xp.cumulative_sum(xp.astype(new, idt), axis=0) - 1
    cols = xp.cumulative_sum(xp.ones_like(group[:1, ...]), axis=1) - 1  # 0..m-1
    key = xp.reshape((group + cols * n).T, (-1,))  # column-major: sorted
    start = xp.searchsorted(key, key, side="left")
    stop = xp.searchsorted(key, key, side="right")
    out = {"P": xp.sum(pos, axis=0), "N": xp.sum(neg, axis=0)}
    for name, v in (("neg", neg), ("pos", pos)):
        cum = xp.reshape(xp.cumulative_sum(v, axis=0).T, (-1,))
        flat = xp.reshape(v.T, (-1,))
        out[name] = flat
        out[f"{name}_below"] = xp.take(cum, start, axis=0) - xp.take(flat, start, axis=0)
        out[f"{name}_upto"] = xp.take(cum, stop - 1, axis=0)
    out["last"] = xp.cumulative_sum(xp.ones_like(key), axis=0) == stop  # position stop - 1
    return out


def _per_sample_total(T: Any, n: int, *, xp: Any, safe: bool = True) -> Any:
    """A column total (m,) repeated for each of the column's n samples (flat, column-major); ``safe``: 0 -> 1."""
    m = T.shape[0]
    if safe:
        T = xp.where(T > 0, T, xp.ones_like(T))
    return xp.reshape(xp.broadcast_to(T[:, None], (m, n)), (-1,))


@jit(static_argnames=("max_fpr",))
def _auc_columns(Y: Any, S: Any, w: Any, *, max_fpr: float | None = None, xp: Any) -> tuple[Any, Any, Any]:
    """ROC AUC of every column of scores ``S`` (n, m) against positives ``Y`` (n, m, bool).

    The area under the ROC curve equals the (weighted) Mann-Whitney statistic
    with ties counted one half: for each positive, the negative weight scored
    strictly lower plus half the negative weight tied with it (see
    :func:`_tie_groups`).

    With ``max_fpr`` (0 < max_fpr < 1) the area is the partial one under the
    curve up to that false-positive rate (each tie group is one straight ROC
    segment, the last one cut by linear interpolation), standardized as
    McClish (1989): 0.5 for a non-discriminant score, 1 for a perfect one.

    Returns
    -------
    auc, positive weight, negative weight : arrays of shape (m,)
        ``auc`` is NaN where a column has no positive or no negative weight.
    """
    n, m = S.shape
    g = _tie_groups(Y, S, w, xp=xp)
    P, N = g["P"], g["N"]
    den = P * N
    ok = den > 0
    if max_fpr is None:
        num = xp.sum(xp.reshape(g["pos"] * (g["neg_below"] + g["neg_upto"]) / 2, (m, n)), axis=1)
        auc = xp.where(ok, num / xp.where(ok, den, xp.ones_like(den)), xp.full_like(den, math.nan))
        return auc, P, N
    # ROC points, from the highest score down: each tie group is the segment from (fpr, tpr) of the
    # samples scored strictly higher to that of the samples scored higher or tied; counted once per group
    Pn, Nn = _per_sample_total(P, n, xp=xp), _per_sample_total(N, n, xp=xp)
    f0, f1 = (Nn - g["neg_upto"]) / Nn, (Nn - g["neg_below"]) / Nn
    t0, t1 = (Pn - g["pos_upto"]) / Pn, (Pn - g["pos_below"]) / Pn
    fc = xp.minimum(f1, xp.full_like(f1, max_fpr))
    dx = f1 - f0
    moved = dx > 0
    tc = xp.where(moved, t0 + (t1 - t0) * ((fc - f0) / xp.where(moved, dx, xp.ones_like(dx))), t1)
    width = xp.maximum(fc - f0, xp.zeros_like(fc))
    seg = xp.where(g["last"], width * (t0 + tc) / 2, xp.zeros_like(width))
    area = xp.sum(xp.reshape(seg, (m, n)), axis=1)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    auc = 0.5 * (1 + (area - min_area) / (max_area - min_area))
    return xp.where(ok, auc, xp.full_like(den, math.nan)), P, N


@jit
def _ap_columns(Y: Any, S: Any, w: Any, *, xp: Any) -> tuple[Any, Any]:
    """Average precision of every column of ``S`` (n, m) against positives ``Y`` (n, m, bool).

    The step integral of the precision-recall curve: over tie groups from the
    highest score down, the recall gained by the group times the precision of
    the samples scored at least as high. 0 where a column has no positive weight.

    Returns
    -------
    ap, positive weight : arrays of shape (m,)
    """
    n, m = S.shape
    g = _tie_groups(Y, S, w, xp=xp)
    P = g["P"]
    Pn = _per_sample_total(P, n, xp=xp)
    tp = _per_sample_total(P, n, xp=xp, safe=False) - g["pos_below"]  # scored higher or tied
    fp = _per_sample_total(g["N"], n, xp=xp, safe=False) - g["neg_below"]
    tp_above = tp - (g["pos_upto"] - g["pos_below"])  # minus the group's own positive weight
    step = g["last"] & (tp > tp_above)
    top = tp + fp
    # the recall gained as a difference of recalls (scikit-learn's `diff(recall)`: a perfect ranking sums to 1)
    gain = tp / Pn - tp_above / Pn
    contrib = xp.where(step, gain * (tp / xp.where(step, top, xp.ones_like(top))), xp.zeros_like(tp))
    ap = xp.sum(xp.reshape(contrib, (m, n)), axis=1)
    ap = xp.maximum(ap, xp.zeros_like(ap))  # rounding can give -0.0
    return xp.where(P > 0, ap, xp.zeros_like(ap)), P


def _warn_one_class() -> None:
    warnings.warn(
        "Only one class is present in y_true. ROC AUC score is not defined in that case.",
        UndefinedMetricWarning,
        stacklevel=3,
    )


def _check_max_fpr(max_fpr: Any) -> float | None:
    """``max_fpr`` as a float in (0, 1), or None for the whole curve (scikit-learn's parameter check)."""
    if max_fpr is None:
        return None
    if isinstance(max_fpr, bool) or not isinstance(max_fpr, numbers.Real) or not 0 < float(max_fpr) <= 1:
        raise ValueError(
            "The 'max_fpr' parameter of roc_auc_score must be a float in the range (0.0, 1.0] or None. "
            f"Got {max_fpr!r} instead."
        )
    return None if float(max_fpr) == 1 else float(max_fpr)


def _multioutput_kind(y: Any, call: Call) -> str | None:
    """scikit-learn's target type of a 2-D ``y`` with more than one column, else None.

    'multilabel-indicator' (fewer than three integral values), 'multiclass-multioutput'
    or 'continuous-multioutput'. One reduction on the device for numeric arrays.
    """
    shape = tuple(getattr(y, "shape", ()))
    if len(shape) != 2 or shape[1] <= 1:
        return None
    if isinstance(y, np.ndarray) and y.dtype.kind not in "biuf":
        return "multiclass-multioutput"
    xp = call.xp
    Y = _to_compute(y, call.compute, "y_true")
    if xp.isdtype(Y.dtype, "real floating"):
        if not bool(xp.all(xp.isfinite(Y))):
            raise ValueError("Input y_true contains NaN or infinity.")
        if not bool(xp.all(Y == xp.round(Y))):
            return "continuous-multioutput"
    if xp.isdtype(Y.dtype, "bool"):
        return "multilabel-indicator"
    lo, hi = xp.min(Y), xp.max(Y)
    few = bool(lo == hi) or bool(xp.all((Y == lo) | (Y == hi)))
    return "multilabel-indicator" if few else "multiclass-multioutput"


def _warn_no_positive() -> None:
    warnings.warn("No positive class found in y_true, recall is set to one for all thresholds",
                  UndefinedMetricWarning, stacklevel=3)


def _auc_fn(max_fpr: float | None) -> Any:
    """Per-column ROC AUC for :func:`_average_binary`, warning when a column has one class only."""
    def fn(Y: Any, S: Any, w: Any, *, xp: Any) -> tuple[Any, Any]:
        auc, P, N = _auc_columns(Y, S, w, max_fpr=max_fpr, xp=xp)
        if not bool(xp.all((P > 0) & (N > 0))):
            _warn_one_class()
        return auc, P
    return fn


def _ap_fn(Y: Any, S: Any, w: Any, *, xp: Any) -> tuple[Any, Any]:
    """Per-column average precision for :func:`_average_binary`, warning when a column has no positive."""
    ap, P = _ap_columns(Y, S, w, xp=xp)
    if not bool(xp.all(P > 0)):
        _warn_no_positive()
    return ap, P


def _average_binary(call: Call, Y: Any, S: Any, average: str | None, sw: Any, fn: Any) -> Any:
    """scikit-learn's ``_average_binary_score`` of a per-column metric ``fn`` over indicators ``Y`` (n, k).

    Per label (macro, weighted by the positive weight, or None), on the raveled
    matrix (micro), or per sample averaged with the sample weights (samples).
    """
    xp = call.xp
    n, k = int(S.shape[0]), int(S.shape[1])
    if average == "micro":
        w = None if sw is None else xp.reshape(xp.broadcast_to(sw[:, None], (n, k)), (-1,))
        score, _ = fn(xp.reshape(Y, (-1, 1)), xp.reshape(S, (-1, 1)), w, xp=xp)
        return float(score[0])
    if average == "samples":
        score, _ = fn(Y.T, S.T, None, xp=xp)
        if sw is None:
            return float(xp.mean(score))
        return float(xp.sum(score * sw) / xp.sum(sw))
    score, P = fn(Y, S, sw, xp=xp)
    if average is None:
        return call.output(score)
    if average == "weighted":
        if math.isclose(float(xp.sum(P)), 0.0, abs_tol=1e-8):
            return 0.0
        score = xp.where(P == 0, xp.zeros_like(score), score)  # zero-weight labels count 0, even when NaN
        return float(xp.sum(score * P) / xp.sum(P))
    return float(xp.mean(score))


def _indicator_targets(call: Call, y_true: Any, S: Any) -> Any:
    """A multilabel indicator ``y_true`` as a boolean (n, k) array matching ``y_score``'s shape."""
    xp = call.xp
    Yv = _to_compute(y_true, call.compute, "y_true")
    if tuple(Yv.shape) != tuple(S.shape):
        if int(Yv.shape[0]) != int(S.shape[0]):
            check_lengths(y_true=Yv, y_score=S)
        raise ValueError(f"y_true and y_score have different shapes: {tuple(Yv.shape)} and {tuple(S.shape)}. "
                         "Multilabel y_score needs one column of scores per label.")
    if not xp.isdtype(Yv.dtype, "bool"):
        bad = ~((Yv == 0) | (Yv == 1))
        if bool(xp.any(bad)):
            vals = np.unique(np.asarray(to_backend(Yv, "numpy"))).tolist()
            raise ValueError(f"y_true takes value in {set(vals)} and pos_label is not specified: either make "
                             "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly.")
    return Yv == 1


def _ovo_auc(call: Call, codes: Any, S: Any, average: str) -> float:
    """Hand & Till (2001): the mean over pairs of present classes of the two one-vs-one AUCs.

    ``A[a, b]`` is the AUC of ``S[:, a]`` separating class ``a`` (positive) from class
    ``b`` (the other samples weigh 0); all ordered pairs come from one sort per block
    of columns ``S[:, a]`` repeated ``k`` times.
    """
    xp = call.xp
    dev = call.compute.device
    n, k = int(S.shape[0]), int(S.shape[1])
    onehot = xp.astype(codes[:, None] == xp.arange(k, dtype=codes.dtype, device=dev)[None, :], S.dtype)
    per_block = max(1, _OVO_BLOCK // max(1, n * k))
    rows = []
    for a0 in range(0, k, per_block):  # blocks of positive classes (loop over classes, vectorised inside)
        a1 = min(k, a0 + per_block)
        c = a1 - a0
        Sa = xp.reshape(xp.broadcast_to(S[:, a0:a1, None], (n, c, k)), (n, c * k))
        Ya = xp.reshape(xp.broadcast_to(onehot[:, a0:a1, None] > 0, (n, c, k)), (n, c * k))
        Wa = xp.reshape(xp.maximum(onehot[:, a0:a1, None], onehot[:, None, :]), (n, c * k))
        auc, _, _ = _auc_columns(Ya, Sa, Wa, xp=xp)
        rows.append(xp.reshape(auc, (c, k)))
    A = xp.concat(rows, axis=0) if len(rows) > 1 else rows[0]
    count = xp.sum(onehot, axis=0)
    present = count > 0
    idx = xp.arange(k, device=dev)
    pair = present[:, None] & present[None, :] & (idx[:, None] < idx[None, :])
    scores = xp.where(pair, (A + A.T) / 2, xp.zeros_like(A))
    n_pairs = int(xp.sum(xp.astype(pair, xp.int32)))
    if n_pairs == 0:
        return math.nan
    if average == "weighted":
        prevalence = xp.where(pair, (count[:, None] + count[None, :]) / n, xp.zeros_like(A))
        return float(xp.sum(scores * prevalence) / xp.sum(prevalence))
    return float(xp.sum(scores)) / n_pairs


def _score_inputs(y_true: Any, y_score: Any, sample_weight: Any, *, as_1d_list: bool) -> tuple[Any, Any, Any, Any]:
    """The call's namespace, ``y_true`` (a list made an array), ``y_score`` validated on the call's
    device, and the multi-output kind of ``y_true`` (None for binary / multiclass)."""
    call = resolve_call(y_score=y_score, y_true=y_true, sample_weight=sample_weight)
    check_legacy_sequences(y_true, "y_true")
    if framework_of(y_true) is None and not hasattr(y_true, "shape"):
        if np.ndim(y_true) > 1:
            y_true = np.asarray(y_true)
        elif as_1d_list:
            y_true = as_1d(y_true, "y_true")
    S = check_array(_to_compute(y_score, call.compute, "y_score"), xp=call.xp, device=call.compute.device,
                    name="y_score", ensure_2d=False)
    return call, y_true, S, _multioutput_kind(y_true, call)


def roc_auc_score(y_true: Any, y_score: Any, *, average: str | None = "macro", sample_weight: Any = None,
                  max_fpr: float | None = None, multi_class: str = "raise", labels: Any = None) -> Any:
    """Area under the ROC curve: binary, multiclass (one-vs-rest or one-vs-one) or multilabel.

    Ties in the scores are handled as scikit-learn's trapezoidal curve does
    (a tie counts one half), computed by sorting and cumulative sums on the
    inputs' device.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        True labels (binary or multiclass; NumPy for strings), or a multilabel
        indicator matrix.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the larger label. Multiclass: probabilities of the
        sorted classes (rows summing to one). Multilabel: one score per label.
    average : {'macro', 'weighted', 'micro', 'samples'} or None, default='macro'
        Averaging of the per-class (per-label, per-sample) scores; ignored
        for binary targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Not with ``multi_class='ovo'``.
    max_fpr : float in (0, 1], default=None
        Binary and multilabel: the standardized partial AUC (McClish) up to
        this false-positive rate.
    multi_class : {'raise', 'ovr', 'ovo'}, default='raise'
        Multiclass targets: one-vs-rest, or one-vs-one (Hand & Till, average
        'macro' or 'weighted').
    labels : array-like of shape (n_classes,), default=None
        The sorted labels indexing the columns of ``y_score`` (multiclass).

    Returns
    -------
    float, or array of shape (n_classes,) when ``average=None`` (the inputs' library).
    """
    options = ("micro", "macro", "samples", "weighted", None)
    if average not in options:
        raise ValueError(f"average has to be one of {options}, got {average!r}.")
    if multi_class not in ("raise", "ovr", "ovo"):
        raise ValueError(f"multi_class must be one of ('raise', 'ovr', 'ovo'), got {multi_class!r}.")
    fpr_cap = _check_max_fpr(max_fpr)
    call, y_true, S, kind = _score_inputs(y_true, y_score, sample_weight, as_1d_list=True)
    xp = call.xp
    if kind is not None:
        if kind != "multilabel-indicator":
            raise ValueError(f"{kind} format is not supported")
        Y = _indicator_targets(call, y_true, S)
        sw = sample_weight_of(sample_weight, call, int(S.shape[0]), dtype=S.dtype)
        return _average_binary(call, Y, S, average, sw, _auc_fn(fpr_cap))
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_true=y_true, y_score=S)
    enc = encode_targets({"y_true": y_true}, call)
    multiclass = enc.n_classes > 2 or (S.ndim == 2 and S.shape[1] > 2)
    if not multiclass:
        sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
        if S.ndim == 2 and S.shape[1] == 1:
            S = S[:, 0]
        if S.ndim != 1:
            raise ValueError(
                f"For a binary y_true, y_score should be a 1d array of scores of the positive (larger) label, "
                f"got an array of shape {tuple(S.shape)} instead. Pass y_score[:, 1]."
            )
        if enc.n_classes < 2:
            _warn_one_class()
            return math.nan
        Y = (enc.codes[0] == 1)[:, None]
        auc, _, _ = _auc_columns(Y, S[:, None], sw, max_fpr=fpr_cap, xp=xp)
        return float(auc[0])
    if max_fpr is not None and max_fpr != 1.0:
        raise ValueError(
            "Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to `None`, "
            f"received `max_fpr={max_fpr}` instead"
        )
    if multi_class == "raise":
        raise ValueError("multi_class must be in ('ovo', 'ovr')")
    if S.ndim != 2:
        raise ValueError(
            "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple classes. "
            f"Got `y_score.shape={tuple(S.shape)}`."
        )
    if not bool(xp.all(xp.abs(xp.sum(S, axis=1) - 1) <= 1e-8 + 1e-5)):
        raise ValueError(
            "Target scores need to be probabilities for multiclass roc_auc, i.e. they should sum up to 1.0 over classes"
        )
    allowed = ("macro", "weighted", None) if multi_class == "ovo" else ("micro", "macro", "weighted", None)
    if average not in allowed:
        raise ValueError(f"average must be one of {allowed} for multiclass problems")
    if average is None and multi_class == "ovo":
        raise NotImplementedError("average=None is not implemented for multi_class='ovo'.")
    if labels is not None:
        lab = labels_as_array(labels, call)
        given = np.asarray(to_backend(lab, "numpy")).tolist()
        if len(set(given)) != len(given):
            raise ValueError("Parameter 'labels' must be unique")
        enc = encode_targets({"y_true": y_true}, call, extra=lab)
        if enc.host_classes() != given and enc.n_classes == len(given):
            raise ValueError("Parameter 'labels' must be ordered")
        if len(given) != S.shape[1]:
            raise ValueError(
                f"Number of given labels, {len(given)}, not equal to the number of columns in 'y_score', {S.shape[1]}"
            )
        if enc.n_classes != len(given):
            raise ValueError("'y_true' contains labels not in parameter 'labels'")
    elif enc.n_classes != S.shape[1]:
        raise ValueError("Number of classes in y_true not equal to the number of columns in 'y_score'")
    codes = enc.codes[0]
    if multi_class == "ovo":
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported for multiclass one-vs-one ROC AUC, 'sample_weight' "
                             "must be None in this case.")
        return _ovo_auc(call, codes, S, average)
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    k = int(S.shape[1])
    Y = codes[:, None] == xp.arange(k, dtype=codes.dtype, device=call.compute.device)[None, :]
    return _average_binary(call, Y, S, average, sw, _auc_fn(None))


def average_precision_score(y_true: Any, y_score: Any, *, average: str | None = "macro", pos_label: Any = 1,
                            sample_weight: Any = None) -> Any:
    """Average precision: the step integral of the precision-recall curve.

    ``sum_n (R_n - R_{n-1}) P_n`` over the thresholds from the highest score
    down (no interpolation), computed by sorting and cumulative sums on the
    inputs' device.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_labels)
        Binary or multiclass labels (NumPy for strings), or a multilabel indicator matrix.
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of ``pos_label``. Multiclass and multilabel: one column per class / label.
    average : {'micro', 'macro', 'samples', 'weighted'} or None, default='macro'
        Averaging of the per-class (per-label, per-sample) scores; ignored for binary targets.
    pos_label : int, float, bool or str, default=1
        The positive label of binary targets (must be 1 otherwise).
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float, or array of shape (n_classes,) when ``average=None`` (the inputs' library).
        0.0 for a class without positive samples (with an ``UndefinedMetricWarning``).
    """
    options = ("micro", "macro", "samples", "weighted", None)
    if average not in options:
        raise ValueError("The 'average' parameter of average_precision_score must be a str among "
                         f"{{'macro', 'micro', 'samples', 'weighted'}} or None. Got {average!r} instead.")
    call, y_true, S, kind = _score_inputs(y_true, y_score, sample_weight, as_1d_list=False)
    xp = call.xp
    if kind is not None:
        if kind != "multilabel-indicator":
            raise ValueError(f"{kind} format is not supported")
        if pos_label != 1:
            raise ValueError("Parameter pos_label is fixed to 1 for multilabel-indicator y_true. Do not set "
                             "pos_label or set pos_label to 1.")
        Y = _indicator_targets(call, y_true, S)
        sw = sample_weight_of(sample_weight, call, int(S.shape[0]), dtype=S.dtype)
        return _average_binary(call, Y, S, average, sw, _ap_fn)
    y_true = as_1d(y_true, "y_true")
    n = check_lengths(y_true=y_true, y_score=S)
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    enc = encode_targets({"y_true": y_true}, call)
    present = enc.host_classes()
    if enc.n_classes > 2:
        if pos_label != 1:
            raise ValueError("Parameter pos_label is fixed to 1 for multiclass y_true. Do not set pos_label or "
                             "set pos_label to 1.")
        if S.ndim != 2 or int(S.shape[1]) != enc.n_classes:
            raise ValueError(
                "`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple "
                f"classes. Got `y_score.shape={tuple(S.shape)}`."
            )
        codes = enc.codes[0]
        Y = codes[:, None] == xp.arange(enc.n_classes, dtype=codes.dtype, device=call.compute.device)[None, :]
        return _average_binary(call, Y, S, average, sw, _ap_fn)
    if len(present) == 2 and pos_label not in present:
        raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of {np.asarray(present)}")
    if S.ndim == 2 and S.shape[1] == 1:
        S = S[:, 0]
    if S.ndim != 1:
        raise ValueError(f"For a binary y_true, y_score should be a 1d array of scores of pos_label, got an array "
                         f"of shape {tuple(S.shape)} instead.")
    where = enc.index_of([pos_label])[0]
    codes = enc.codes[0]
    Y = (codes == where) if where >= 0 else xp.zeros(codes.shape, dtype=xp.bool, device=call.compute.device)
    ap, _ = _ap_fn(Y[:, None], S[:, None], sw, xp=xp)
    return float(ap[0])


def top_k_accuracy_score(y_true: Any, y_score: Any, *, k: int = 2, normalize: bool = True, sample_weight: Any = None,
                         labels: Any = None) -> float:
    """Fraction (or weighted count) of samples whose true class is among the ``k`` highest scores.

    The rank of the true class is the number of classes scored higher plus
    those tied with it at a larger index (scikit-learn's stable order), from
    one (n_samples, n_classes) comparison on the inputs' device; no sort.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_score : array-like of shape (n_samples,) or (n_samples, n_classes)
        Binary: scores of the larger label; multiclass: one column per sorted class.
    k : int, default=2
    normalize : bool, default=True
        The fraction; otherwise the (weighted) number of hits.
    sample_weight : array-like of shape (n_samples,), default=None
    labels : array-like of shape (n_classes,), default=None
        The sorted labels of the columns of ``y_score``, when ``y_true`` lacks some.

    Returns
    -------
    float
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"The 'k' parameter of top_k_accuracy_score must be an int in the range [1, inf). Got {k!r} "
                         "instead.")
    call = resolve_call(y_score=y_score, y_true=y_true, sample_weight=sample_weight)
    xp = call.xp
    y_true = as_1d(y_true, "y_true")
    if not (isinstance(y_true, np.ndarray) and y_true.dtype.kind not in "biuf"):
        yt = _to_compute(y_true, call.compute, "y_true")
        if xp.isdtype(yt.dtype, "real floating") and not bool(xp.all(xp.isfinite(yt) & (yt == xp.round(yt)))):
            raise ValueError("y type must be 'binary' or 'multiclass', got 'continuous' instead.")
    S = check_array(_to_compute(y_score, call.compute, "y_score"), xp=xp, device=call.compute.device,
                    name="y_score", ensure_2d=False)
    enc = encode_targets({"y_true": y_true}, call)
    binary = enc.n_classes <= 2 and not (labels is not None and len(labels) > 2)
    if binary:
        if S.ndim == 2 and S.shape[1] != 1:
            raise ValueError(f"`y_true` is binary while y_score is 2d with {S.shape[1]} classes. If `y_true` does "
                             "not contain all the labels, `labels` must be provided.")
        if S.ndim == 2:
            S = S[:, 0]
    elif S.ndim != 2:
        raise ValueError("`y_score` needs to be of shape `(n_samples, n_classes)`, since `y_true` contains multiple "
                         f"classes. Got `y_score.shape={tuple(S.shape)}`.")
    n = check_lengths(y_true=y_true, y_score=S)
    sw = sample_weight_of(sample_weight, call, n, dtype=S.dtype)
    n_score = int(S.shape[1]) if S.ndim == 2 else 2
    if labels is None:
        n_classes = enc.n_classes
        if n_classes != n_score:
            raise ValueError(f"Number of classes in 'y_true' ({n_classes}) not equal to the number of classes in "
                             f"'y_score' ({n_score}).You can provide a list of all known classes by assigning it to "
                             "the `labels` parameter.")
    else:
        lab = labels_as_array(labels, call)
        given = np.asarray(to_backend(lab, "numpy")).tolist()
        n_classes = len(set(given))
        if n_classes != len(given):
            raise ValueError("Parameter 'labels' must be unique.")
        if sorted(given) != given:
            raise ValueError("Parameter 'labels' must be ordered.")
        if n_classes != n_score:
            raise ValueError(f"Number of given labels ({n_classes}) not equal to the number of classes in "
                             f"'y_score' ({n_score}).")
        enc = encode_targets({"y_true": y_true}, call, extra=lab)
        if enc.n_classes != n_classes:
            raise ValueError("'y_true' contains labels not in parameter 'labels'.")
    if k >= n_classes:
        warnings.warn(f"'k' ({k}) greater than or equal to 'n_classes' ({n_classes}) will result in a perfect score "
                      "and is therefore meaningless.", UndefinedMetricWarning, stacklevel=2)
    codes = enc.codes[0]
    if binary:
        if k == 1:
            threshold = 0.5 if float(xp.min(S)) >= 0 and float(xp.max(S)) <= 1 else 0.0
            hits = (S > threshold) == (codes == 1)
        else:
            hits = xp.ones(codes.shape, dtype=xp.bool, device=call.compute.device)
    else:
        cols = xp.arange(n_score, dtype=codes.dtype, device=call.compute.device)
        own = xp.take_along_axis(S, codes[:, None], axis=1)  # the true class's score (n, 1)
        ahead = (S > own) | ((S == own) & (cols[None, :] > codes[:, None]))
        hits = xp.sum(xp.astype(ahead, xp.int32), axis=1) < k
    h = xp.astype(hits, S.dtype)
    if normalize:
        return float(weighted_mean(h, sw, xp=xp))
    return float(xp.sum(h) if sw is None else xp.sum(h * sw))
