"""Shared input handling for the metrics: one namespace per call, labels encoded on the device."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._labels import _unique_on_device
from ..backends import Compute, Origin, check_same_library, framework_of, origin_of, resolve, to_backend
from ..backends._convert import as_host_array
from ..base import BaseEstimator, _check_sample_weight, _to_compute

__all__: list[str] = []


@dataclass
class Call:
    """Where a metric computes (``compute``) and whose library its array results mirror (``origin``)."""

    compute: Compute
    origin: Origin

    @property
    def xp(self) -> Any:
        return self.compute.xp

    @property
    def float_dtype(self) -> Any:
        """The widest float of the computing device."""
        xp = self.compute.xp
        if self.compute.framework.supports_float64(self.compute.device):
            return xp.float64
        return xp.float32

    def output(self, result: Any) -> Any:
        return BaseEstimator._output(result, self.origin)


def resolve_call(**named: Any) -> Call:
    """Check the inputs' libraries and resolve the namespace once for a metric call.

    NumPy arrays and lists (host labels, weights) may accompany arrays of one
    other library; arrays of two non-NumPy libraries (or devices) raise TypeError.
    """
    others = {k: v for k, v in named.items()
              if v is not None and not isinstance(v, np.ndarray) and framework_of(v) is not None}
    check_same_library(**others)
    lead = next(iter(others.values()), None)
    if lead is None:
        lead = next((v for v in named.values() if v is not None), None)
    return Call(resolve(lead), origin_of(lead))


def is_host_labels(y: Any) -> bool:
    return isinstance(y, np.ndarray) and y.dtype.kind not in "biuf"


def check_legacy_sequences(y: Any, name: str) -> None:
    """Refuse the old sequence-of-sequences multilabel format (``[[1], [0, 2]]``) of ``name``, as scikit-learn does."""
    if framework_of(y) is not None and not (isinstance(y, np.ndarray) and y.dtype.kind == "O"):
        return
    if not isinstance(y, (list, tuple, np.ndarray)) or len(y) == 0:
        return
    first = y[0]
    if not hasattr(first, "__array__") and isinstance(first, Sequence) and not isinstance(first, (str, bytes)):
        try:
            if np.asarray(y).dtype.kind != "O":
                return  # a rectangular list of lists: a 2-D array
        except ValueError:
            pass
        raise ValueError(
            "You appear to be using a legacy multi-label data representation. Sequence of sequences "
            "are no longer supported; use a binary array or sparse matrix instead - the MultiLabelBinarizer "
            "transformer can convert to this format."
        )


def as_1d(y: Any, name: str) -> Any:
    """``y`` as a 1-D array (NumPy for lists); column vectors are flattened."""
    check_legacy_sequences(y, name)
    if framework_of(y) is None:
        y = as_host_array(y)
        if y.dtype.kind == "O":
            try:
                y = y.astype(np.float64) if all(isinstance(v, (int, float, np.number)) for v in y.ravel()) else y
            except (TypeError, ValueError):
                pass
    shape = tuple(y.shape)
    if len(shape) == 2 and shape[1] == 1:
        y = y[:, 0]
    elif len(shape) != 1:
        raise ValueError(
            f"{name} should be a 1d array, got an array of shape {shape} instead (this metric takes binary or "
            "multiclass labels)."
        )
    if y.shape[0] == 0:
        raise ValueError(
            f"Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample is required "
            f"({name} is empty)."
        )
    return y


def _inconsistent(lengths: dict[str, int]) -> ValueError:
    """scikit-learn's message (the lengths in argument order), then which array has which length."""
    detail = ", ".join(f"{k}: {n}" for k, n in lengths.items())
    return ValueError(f"Found input variables with inconsistent numbers of samples: {list(lengths.values())} "
                      f"({detail}).")


def check_lengths(**arrays: Any) -> int:
    lengths = {k: int(v.shape[0]) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        raise _inconsistent(lengths)
    return next(iter(lengths.values()))


def sample_weight_of(sample_weight: Any, call: Call, n: int, dtype: Any = None) -> Any:
    if isinstance(sample_weight, (list, tuple, np.ndarray)) and np.asarray(sample_weight).dtype.kind == "c":
        raise ValueError(f"Complex data not supported\n{sample_weight}\n")  # scikit-learn's check_array
    shape = getattr(sample_weight, "shape", None)
    if shape is not None and len(shape) > 1:
        raise ValueError(f"Sample weights must be 1D array or scalar; got shape {tuple(shape)}.")
    if shape is None and isinstance(sample_weight, (list, tuple)):
        shape = (len(sample_weight),)
    if shape is not None and len(shape) == 1 and int(shape[0]) != n:  # scikit-learn's check_consistent_length
        raise _inconsistent({"y_true": n, "y_pred": n, "sample_weight": int(shape[0])})
    return _check_sample_weight(sample_weight, compute=call.compute, n_samples=n,
                                dtype=call.float_dtype if dtype is None else dtype)


def _target_type(y: Any) -> str:
    """'binary', 'multiclass' or 'continuous' of one label array (host; error path only)."""
    h = np.asarray(to_backend(y, "numpy"))
    if h.dtype.kind == "f" and (not np.all(np.isfinite(h)) or np.any(h != np.round(h))):
        return "continuous"
    return "binary" if np.unique(h).size <= 2 else "multiclass"


def _check_discrete(ys: dict[str, Any], *, xp: Any) -> None:
    """Raise scikit-learn's message when a label array is continuous (or holds NaN/inf)."""
    bad = False
    for y in ys.values():
        if not is_host_labels(y) and xp.isdtype(y.dtype, "real floating"):
            if not bool(xp.all(xp.isfinite(y) & (y == xp.round(y)))):
                bad = True
    if not bad:
        return
    for name, y in ys.items():
        h = np.asarray(to_backend(y, "numpy"))
        if h.dtype.kind == "f" and np.any(np.isnan(h)):
            raise ValueError(f"Input {name} contains NaN.")
        if h.dtype.kind == "f" and not np.all(np.isfinite(h)):
            raise ValueError(f"Input {name} contains infinity or a value too large for {h.dtype!r}.")
    types = [_target_type(y) for y in ys.values()]
    if len(set(types)) == 1:
        raise ValueError(f"Classification metrics can't handle {types[0]} targets: {types[0]} is not supported.")
    a, b = types[0], types[1]
    raise ValueError(f"Classification metrics can't handle a mix of {a} and {b} targets")


def _common_dtype(dtypes: list[Any], *, xp: Any) -> Any:
    # The standard does not promote booleans with numbers, nor integers with floats.
    floats = [d for d in dtypes if xp.isdtype(d, "real floating")]
    ints = [d for d in dtypes if xp.isdtype(d, "integral")]
    pool = floats or ints or dtypes
    out = pool[0]
    for d in pool[1:]:
        out = xp.result_type(out, d)
    return out


@dataclass
class Encoded:
    """Labels of one metric call encoded as integers ``0..n_classes-1`` in the computing namespace."""

    classes: Any  # sorted labels: NumPy when host labels are involved, else the computing namespace
    codes: list[Any]  # one integer array per input, same order
    host: bool

    @property
    def n_classes(self) -> int:
        return int(self.classes.shape[0])

    def host_classes(self) -> list[Any]:
        return np.asarray(to_backend(self.classes, "numpy")).tolist()

    def index_of(self, labels: list[Any]) -> list[int]:
        """Position of each label in ``classes`` (-1 when absent); host metadata."""
        pos = {v: i for i, v in enumerate(self.host_classes())}
        return [pos.get(_py(v), -1) for v in labels]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def encode_targets(ys: dict[str, Any], call: Call, *, extra: Any = None) -> Encoded:
    """Encode label arrays together against the union of their labels (and ``extra`` labels).

    String/object labels are encoded on the host (NumPy) and the codes moved
    to the computing device; numeric labels are encoded on the device
    (sorted unique values and ``searchsorted``).
    """
    xp = call.xp
    arrays = dict(ys)
    host = any(is_host_labels(y) for y in arrays.values()) or (
        extra is not None and is_host_labels(np.asarray(extra) if framework_of(extra) is None else extra)
    )
    if host:
        hs = {k: np.asarray(to_backend(v, "numpy")) for k, v in arrays.items()}
        kinds = {k: ("str" if h.dtype.kind in "OUS" and any(isinstance(x, (str, bytes)) for x in h.tolist())
                     else "num") for k, h in hs.items()}
        if len(set(kinds.values())) > 1:
            names = list(hs)
            types = [_target_type(h) if kinds[k] == "num" else
                     ("binary" if np.unique(h.astype(str)).size <= 2 else "multiclass") for k, h in hs.items()]
            if "continuous" in types:  # scikit-learn's _check_targets: the target types first
                raise ValueError(f"Classification metrics can't handle a mix of {types[0]} and {types[1]} targets")
            raise ValueError(
                f"Mix of label input types (string and number). "
                f"Labels in y_true and y_pred should be of the same type. Got {names[0]}="
                f"{np.unique(hs[names[0]].astype(str))} and {names[1]}={np.unique(hs[names[1]].astype(str))}. "
                "Make sure that the predictions provided by the classifier coincides with the true labels."
            )
        parts = list(hs.values())
        if extra is not None:
            parts.append(np.asarray(to_backend(extra, "numpy")) if framework_of(extra) else np.asarray(extra))
        try:
            classes = np.unique(np.concatenate([p.astype(object) for p in parts]))
        except TypeError:
            types = sorted({type(v).__name__ for p in parts for v in p.tolist()})
            raise ValueError(f"Mix of label input types (string and number): {types}.") from None
        codes = [call.compute.asarray(np.searchsorted(classes, h.astype(object)).astype(np.int64))
                 for h in hs.values()]
        return Encoded(classes, codes, True)
    dev = {k: _to_compute(v, call.compute, k) for k, v in arrays.items()}
    _check_discrete(dev, xp=xp)
    parts = list(dev.values())
    if extra is not None:
        parts.append(_to_compute(extra, call.compute, "labels"))
    dtype = _common_dtype([p.dtype for p in parts], xp=xp)
    parts = [p if p.dtype == dtype else xp.astype(p, dtype) for p in parts]
    classes = _unique_on_device(xp.concat(parts) if len(parts) > 1 else parts[0], xp=xp)
    codes = [xp.searchsorted(classes, p) for p in parts[: len(dev)]]
    return Encoded(classes, codes, False)


def labels_as_array(labels: Any, call: Call) -> Any:
    """User-given ``labels`` as a 1-D array (NumPy for strings, else the computing namespace)."""
    if framework_of(labels) is None:
        labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels should be a 1d array-like, got shape {tuple(labels.shape)}.")
    return labels


def weighted_mean(values: Any, weights: Any, *, xp: Any) -> Any:
    """Mean of ``values`` along axis 0, weighted by ``weights`` (None: uniform)."""
    if weights is None:
        return xp.mean(values, axis=0)
    w = weights if values.ndim == 1 else weights[:, None]
    total = xp.sum(weights)
    if float(total) == 0.0:
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return xp.sum(values * w, axis=0) / total


def equal_targets(ys: dict[str, Any], call: Call) -> Any:
    """Boolean ``y_true == y_pred`` on the computing device (labels compared on the host when strings)."""
    (n1, a), (n2, b) = ys.items()
    if is_host_labels(a) or is_host_labels(b):
        ha, hb = np.asarray(to_backend(a, "numpy")), np.asarray(to_backend(b, "numpy"))
        encode_targets(ys, call)  # same-type check, with scikit-learn's message
        return call.compute.asarray(ha.astype(object) == hb.astype(object))
    xp = call.xp
    da, db = _to_compute(a, call.compute, n1), _to_compute(b, call.compute, n2)
    _check_discrete({n1: da, n2: db}, xp=xp)
    dtype = _common_dtype([da.dtype, db.dtype], xp=xp)
    return (da if da.dtype == dtype else xp.astype(da, dtype)) == (db if db.dtype == dtype else xp.astype(db, dtype))
