"""``compare``: versions side by side — metadata, stored metrics, fresh scores on given data, parameter diff."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._errors import SignatureMismatchError
from ._records import ModelVersion

__all__ = ["Comparison", "check_signature", "compare", "to_host"]


@dataclass(frozen=True)
class Comparison:
    """A table: one column per version, rows grouped in sections.

    ``rows`` are ``(section, label, values)`` with sections ``metadata``,
    ``metrics`` (stored at registration), ``scores`` (computed now on the data
    given) and ``params`` (only the parameters that differ); ``params_diff``
    maps each differing parameter to ``{version: value}``.
    """

    name: str
    versions: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[Any, ...]], ...]
    params_diff: dict[str, dict[str, Any]]

    def __getitem__(self, label: str) -> dict[str, Any]:
        for _, lab, values in self.rows:
            if lab == label:
                return dict(zip(self.versions, values))
        raise KeyError(f"No row {label!r} in the comparison of {self.name!r} (rows: "
                       f"{', '.join(lab for _, lab, _ in self.rows)}).")

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{row label: {version: value}}``."""
        return {lab: dict(zip(self.versions, values)) for _, lab, values in self.rows}

    def to_pandas(self) -> Any:
        """A DataFrame indexed by (section, label), one column per version."""
        import pandas as pd

        index = pd.MultiIndex.from_tuples([(s, lab) for s, lab, _ in self.rows], names=["section", "row"])
        return pd.DataFrame([list(v) for _, _, v in self.rows], index=index, columns=list(self.versions))

    def __str__(self) -> str:
        cells = [["", *self.versions]]
        for section, lab, values in self.rows:
            cells.append([f"{section}.{lab}" if section in ("metrics", "scores", "params") else lab,
                          *[_fmt(v) for v in values]])
        widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def to_host(a: Any) -> np.ndarray:
    """A NumPy copy of an array of any supported framework."""
    from ..backends import framework_of

    fw = framework_of(a)
    return np.asarray(fw.to_host(a) if fw is not None and not isinstance(a, np.ndarray) else a)


def check_signature(mv: ModelVersion, X: Any) -> None:
    """Raise :class:`SignatureMismatchError` when ``X`` does not fit the version's input signature."""
    sig = mv.signature or {}
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2:
        raise SignatureMismatchError(f"Model {mv.name!r} version {mv.version}: X must be 2-D (n_samples, "
                                     f"n_features), got shape {shape}.", model=mv.name, version=mv.version)
    n = sig.get("n_features")
    if n is not None and shape[1] != n:
        raise SignatureMismatchError(f"Model {mv.name!r} version {mv.version} expects {n} features, X has "
                                     f"{shape[1]}.", model=mv.name, version=mv.version)
    names = sig.get("feature_names")
    cols = getattr(X, "columns", None)
    if names is not None and cols is not None and [str(c) for c in cols] != [str(c) for c in names]:
        raise SignatureMismatchError(f"Model {mv.name!r} version {mv.version} expects the features "
                                     f"{list(names)}, X has the columns {[str(c) for c in cols]}.",
                                     model=mv.name, version=mv.version)


def _scores(est: Any, mv: ModelVersion, X: Any, y: Any) -> dict[str, float]:
    from .. import metrics as M

    pred = est.predict(X)
    out: dict[str, float] = {}
    yt, yp = to_host(y), to_host(pred)
    if mv.signature.get("classes") is not None:
        out["accuracy"] = float(M.accuracy_score(yt, yp))
        if len(mv.signature["classes"]) == 2 and hasattr(est, "predict_proba"):
            proba = to_host(est.predict_proba(X))
            out["roc_auc"] = float(M.roc_auc_score(yt, proba[:, 1]))
    else:
        out["r2"] = float(M.r2_score(yt, yp))
        out["mse"] = float(M.mean_squared_error(yt, yp))
    return out


def compare(reg: Any, name: str, versions: Sequence[Any], X: Any = None, y: Any = None) -> Comparison:
    """See :func:`toolbox.registry.compare`."""
    if isinstance(versions, str) or not versions:
        raise SignatureMismatchError(f"Model {name!r}: compare takes a list of at least one version.", model=name)
    mvs = [reg.get_version(name, v) for v in versions]
    if y is not None and X is None:
        raise SignatureMismatchError(f"Model {name!r}: y given to compare without X.", model=name)
    for mv in mvs if X is not None else ():
        check_signature(mv, X)
    if X is not None and y is not None and len(y) != X.shape[0]:
        raise SignatureMismatchError(f"Model {name!r}: X has {X.shape[0]} rows but y has {len(y)}.", model=name)
    cols = tuple(mv.version for mv in mvs)
    rows: list[tuple[str, str, tuple[Any, ...]]] = []

    def add(section: str, label: str, values: Sequence[Any]) -> None:
        rows.append((section, label, tuple(values)))

    for label, get in (
            ("estimator", lambda m: m.estimator), ("stage", lambda m: m.stage),
            ("aliases", lambda m: ", ".join(m.aliases) or None),
            ("created_at", lambda m: _dt.datetime.fromtimestamp(m.created_at).isoformat(timespec="seconds")),
            ("created_by", lambda m: m.created_by), ("size", lambda m: m.size), ("sha256", lambda m: m.sha256[:16]),
            ("toolbox_version", lambda m: m.toolbox_version), ("backend", lambda m: m.backend),
            ("device", lambda m: m.device), ("dtype", lambda m: m.dtype),
            ("n_features", lambda m: m.signature.get("n_features")),
            ("classes", lambda m: None if m.signature.get("classes") is None else str(m.signature["classes"])),
            ("run_id", lambda m: m.run_id), ("data_fingerprint", lambda m: m.data_fingerprint),
            ("code_version", lambda m: m.code_version and m.code_version[:12]),
            ("parents", lambda m: ", ".join(f"{n}:{v}" for n, v, _ in m.parents) or None)):
        add("metadata", label, [get(m) for m in mvs])
    for key in sorted({k for m in mvs for k in m.tags}):
        add("metadata", f"tags.{key}", [m.tags.get(key) for m in mvs])
    for key in sorted({k for m in mvs for k in m.metrics}):
        add("metrics", key, [m.metrics.get(key) for m in mvs])
    if X is not None:
        models = [reg.load(name, m.version) for m in mvs]
        if y is not None:
            scored = [_scores(est, m, X, y) for est, m in zip(models, mvs)]
            for key in sorted({k for s in scored for k in s}):
                add("scores", key, [s.get(key) for s in scored])
        preds = [to_host(est.predict(X)) for est in models]
        if all(m.signature.get("classes") is not None for m in mvs):
            add("scores", f"agreement_with_{cols[0]}", [float(np.mean(p == preds[0])) for p in preds])
    diff: dict[str, dict[str, Any]] = {}
    for key in sorted({k for m in mvs for k in m.params}):
        values = [m.params.get(key) for m in mvs]
        if any(v != values[0] for v in values[1:]):
            diff[key] = dict(zip(cols, values))
            add("params", key, values)
    return Comparison(name, cols, tuple(rows), diff)
