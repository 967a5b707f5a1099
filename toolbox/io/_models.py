"""``toolbox.save`` / ``toolbox.load``: estimators in model folders."""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np
import sklearn
import sklearn.base

from ..backends import framework_of, to_backend
from ..exceptions import ModelFileError, NotPersistableError
from . import _allowlist
from ._files import read, write
from ._values import decode_document, encode_document

__all__ = ["describe", "load", "move", "save"]

_COMPOSITE_CHILDREN = ("steps", "transformer_list", "transformers", "transformers_")


def _is_fitted(est: Any) -> bool:
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(est)
    except (sklearn.exceptions.NotFittedError, TypeError):
        return False
    return True


def _children(est: Any) -> list[Any]:
    """The estimators a composite (Pipeline, ColumnTransformer, FeatureUnion, a search) holds."""
    out = []
    for attr in _COMPOSITE_CHILDREN:
        for item in getattr(est, attr, None) or ():
            if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], sklearn.base.BaseEstimator):
                out.append(item[1])
    best = vars(est).get("best_estimator_")
    if isinstance(best, sklearn.base.BaseEstimator):
        out.append(best)
    return out


def _fitted_on(est: Any) -> dict[str, str] | None:
    """Framework, device and dtype of the first fitted array (the last step's, for a pipeline)."""
    for child in reversed(_children(est)):
        found = _fitted_on(child)
        if found is not None:
            return found
    found = None
    for k, v in vars(est).items():
        if k.endswith("_") and not k.startswith("_"):
            fw = framework_of(v)
            if fw is not None and getattr(v, "dtype", None) is not None and hasattr(v, "shape"):
                dtype = str(v.dtype).replace("torch.", "")
                here = {"backend": fw.name, "device": fw.describe_device(fw.device_of(v)), "dtype": dtype}
                if "float" in dtype:
                    return here  # the floating dtype the model computes in
                found = found or here
    return found


def _plain(value: Any) -> Any:
    """A JSON-able summary of a fitted attribute (``classes_``, ``feature_names_in_``), or None."""
    if value is None:
        return None
    try:
        fw = framework_of(value)
        host = fw.to_host(value) if fw is not None else np.asarray(value)
        out = host.tolist()
    except (TypeError, ValueError, RuntimeError):
        return None
    import json

    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return out


def describe(est: Any) -> dict[str, Any]:
    """What model.json records about ``est`` besides its state (see :func:`save`)."""
    named = _allowlist.name_of(est)
    info: dict[str, Any] = {"class": named[1] if named else None, "fitted": _is_fitted(est),
                            "fitted_on": _fitted_on(est)}
    last = est
    while _children(last):
        last = _children(last)[-1]
    for attr in ("n_features_in_", "feature_names_in_", "classes_"):
        try:
            value = getattr(last if attr == "classes_" else est, attr, None)
        except (AttributeError, sklearn.exceptions.NotFittedError):
            value = None
        info[attr] = int(value) if attr == "n_features_in_" and value is not None else _plain(value)
    versions = {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if info["fitted_on"] and info["fitted_on"]["backend"] not in ("numpy",):
        import importlib.metadata

        for dist in (info["fitted_on"]["backend"].replace("_", "-"),):
            try:
                versions[dist] = importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                pass
    info["versions"] = versions
    return info


def save(estimator: Any, path: str | os.PathLike) -> None:
    """Save ``estimator`` to the model folder ``path``, atomically; no pickle.

    Parameters
    ----------
    estimator : toolbox estimator, or a scikit-learn ``Pipeline``, ``ColumnTransformer``
        or ``FeatureUnion`` of toolbox estimators; fitted or not.
    path : str or path-like
        A folder: created, or replaced in one step if it holds a toolbox model.
        Any other existing file or folder there raises ``FileExistsError``.

    The folder holds ``arrays.safetensors`` (every numeric array),
    ``model.json`` (class, parameters, the rest of the fitted state,
    toolbox version, the framework, device and dtype it was fitted on,
    ``n_features_in_``, ``feature_names_in_``, ``classes_``) and
    ``checksums.json`` (sha256 and size of both). Raises
    :class:`~toolbox.exceptions.NotPersistableError`, naming the attribute,
    for what a model file never holds: functions (a ``FunctionTransformer``
    with ``func``), classes outside toolbox, object arrays of other objects.
    """
    named = _allowlist.name_of(estimator)
    if named is None and (type(estimator).__module__ or "").startswith("toolbox.hub"):
        raise NotPersistableError(f"{type(estimator).__name__} is a pretrained model: save it with its "
                                  f"save_pretrained(path) (safetensors, JSON and a model card) and load it "
                                  f"with toolbox.hub.load(path).")
    if named is None or named[0] != "estimator":
        raise NotPersistableError(
            f"toolbox.save saves toolbox estimators (and Pipeline / ColumnTransformer / FeatureUnion of them); "
            f"got {type(estimator).__module__}.{type(estimator).__qualname__}.")
    document, arrays = encode_document(estimator, kind="estimator", **describe(estimator))
    write(path, document, arrays)


def move(value: Any, backend: str | None, device: Any) -> Any:
    """Move the arrays and estimators in ``value`` to ``backend`` on ``device``; returns ``value``."""
    if isinstance(value, sklearn.base.BaseEstimator):
        for child in _children(value):
            move(child, backend, device)
        if hasattr(value, "to_backend") and _is_fitted(value):
            value.to_backend(backend, device)
        return value
    if isinstance(value, list):
        return [move(v, backend, device) for v in value]
    if isinstance(value, tuple):
        return tuple(move(v, backend, device) for v in value)
    if isinstance(value, dict):
        return {k: move(v, backend, device) for k, v in value.items()}
    if framework_of(value) is not None and getattr(value, "dtype", None) is not None and (
            not isinstance(value, np.ndarray) or value.dtype.kind in "biuf"):
        return to_backend(value, backend, device)
    return value


def load(path: str | os.PathLike, *, backend: str | None = None, device: Any = None) -> Any:
    """Load a model saved by :func:`save`; never runs code named in the folder.

    Parameters
    ----------
    path : str or path-like
        The model folder.
    backend : str, optional
        ``"numpy"``, ``"numba"``, ``"torch"``, ``"jax"``, ``"cupy"`` or
        ``"array_api_strict"``: move the fitted arrays there. ``None`` (default):
        every array comes back on the framework and device it was saved from.
    device : str, optional
        The device on ``backend`` (or, with ``backend=None``, on the framework the
        model was fitted on), e.g. ``"cpu"`` to load a CUDA-fitted model on a
        machine without a GPU.

    Raises
    ------
    toolbox.exceptions.ModelFileError
        Naming the file and the problem: a changed or truncated file (checksum,
        size), a class or function outside toolbox's allow-list, a newer format
        version, a malformed document, a framework or device not available here.
    """
    document, arrays = read(path)
    if backend is None and device is None:
        return decode_document(document, arrays, path, kind="estimator")
    if backend is None:
        fitted_on = document.get("fitted_on") or {}
        backend = fitted_on.get("backend", "numpy") if isinstance(fitted_on, dict) else "numpy"
    from .._config import _check_backend_name

    try:
        _check_backend_name(backend)
        if backend == "auto":
            raise ValueError("load needs a concrete backend, not 'auto'")
    except ValueError as exc:
        raise ValueError(f"toolbox.load: {exc}") from None
    est = decode_document(document, arrays, path, kind="estimator", place="host")
    try:
        return move(est, backend, device)
    except (ImportError, RuntimeError, ValueError) as exc:
        raise ModelFileError(path, f"cannot place the model on {backend} {device or ''}: {exc}") from exc
