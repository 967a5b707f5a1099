"""The module-level registry API over the store in use (the tracking store unless told otherwise)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._ab import ABTest
from ._compare import Comparison
from ._fsck import FsckReport
from ._records import Lineage, ModelVersion, RegisteredModel, StageEvent
from ._registry import Registry

__all__ = [
    "ab_test", "compare", "descendants", "fsck", "get_registry", "get_version", "history", "lineage",
    "list_models", "load", "promote", "register", "remove_alias", "rollback", "search", "set_alias",
    "set_store", "version_at", "versions",
]

_LOCK = threading.Lock()
_EXPLICIT: tuple[str, str | None] | None = None
_CURRENT: tuple[tuple[str, str | None], Registry] | None = None


def _wanted() -> tuple[str, str | None]:
    if _EXPLICIT is not None:
        return _EXPLICIT
    uri = os.environ.get("TOOLBOX_REGISTRY_URI")
    if uri:
        return uri, os.environ.get("TOOLBOX_ARTIFACT_ROOT") or None
    from ..tracking import _run

    return _run._wanted()  # the tracking store: set_store(), $TOOLBOX_TRACKING_URI or ./toolbox-runs


def get_registry() -> Registry:
    """The :class:`Registry` over the store in use (opened, created and upgraded on first use)."""
    global _CURRENT
    wanted = _wanted()
    cur = _CURRENT
    if cur is not None and cur[0] == wanted:
        return cur[1]
    with _LOCK:
        cur = _CURRENT
        if cur is not None and cur[0] == wanted:
            return cur[1]
        from ..store import open_store

        reg = Registry(open_store(*wanted))
        if cur is not None:
            cur[1].store.close()
        _CURRENT = (wanted, reg)
        return reg


def set_store(uri: str | os.PathLike | None = None, artifact_root: str | os.PathLike | None = None) -> None:
    """Use the store at ``uri`` for the registry (``None``: back to ``$TOOLBOX_REGISTRY_URI`` or the tracking store).

    By default the registry shares the tracking store (``toolbox.tracking.set_store``,
    ``$TOOLBOX_TRACKING_URI``, ``./toolbox-runs``), so runs and the versions
    they produced live in one database. The store is opened here.
    """
    global _EXPLICIT
    with _LOCK:
        _EXPLICIT = None if uri is None else (os.fspath(uri), None if artifact_root is None
                                              else os.fspath(artifact_root))
    if uri is not None:
        get_registry()


def register(model: Any, name: str, *, version: str | None = None, bump: str = "patch",
             description: str | None = None, tags: Mapping[str, Any] | None = None,
             metrics: Mapping[str, Any] | None = None, run: Any = None,
             parents: Iterable[Any] | Mapping[Any, str] | None = None, data: Any = None,
             code_version: str | None = None) -> ModelVersion:
    """Store a fitted (or unfitted) estimator as a new version of ``name``.

    Parameters
    ----------
    model : estimator
        Anything :func:`toolbox.io.save` saves (toolbox estimators, Pipelines of them).
    name : str
        The model name; created on first registration.
    version : str, optional
        A semantic version (``"1.4.2"``, ``"2.0.0-rc.1"``). Default: the highest
        existing version bumped by ``bump`` (``"1.0.0"`` for the first).
    bump : {"patch", "minor", "major"}, default="patch"
    description : str, optional
    tags : dict, optional
        Text values (others are converted); searchable as ``tags.NAME``.
    metrics : dict, optional
        Numbers; searchable as ``metrics.NAME``.
    run : toolbox.tracking.Run or str, optional
        The tracking run that produced the model; default the active run, if any.
    parents : list or dict, optional
        Versions this one derives from, as ``"name:version"``, ``(name, version)``,
        ``ModelVersion`` or a same-model ``"version"``; a dict maps each to its
        relation (``"fine_tuned_from"``, ``"ensembled_from"``; default ``"derived_from"``).
    data : array, DataFrame, tuple or str, optional
        The training data (hashed: a content fingerprint) or a fingerprint.
    code_version : str, optional
        Default: the git commit of the current directory, if it is a repository.

    Returns
    -------
    ModelVersion

    The version number is chosen inside the write transaction that records
    it, after the artifact is stored: concurrent registrations get distinct
    consecutive versions; a killed process leaves no half version.
    """
    return get_registry().register(model, name, version=version, bump=bump, description=description, tags=tags,
                                   metrics=metrics, run=run, parents=parents, data=data, code_version=code_version)


def get_version(name: str, version: Any = None, *, stage: str | None = None, alias: str | None = None
                ) -> ModelVersion:
    """The record of one version: exact (``"1.4.2"``), the highest in a range (``"^1.4"``), a stage's or an
    alias's holder, or (nothing given) the highest version."""
    return get_registry().get_version(name, version, stage=stage, alias=alias)


def load(name: str, version: Any = None, *, stage: str | None = None, alias: str | None = None,
         backend: str | None = None, device: Any = None) -> Any:
    """The fitted estimator of one version (chosen as in :func:`get_version`), on ``backend`` / ``device``.

    Every file's sha256 is checked on every load; a missing, changed or
    truncated artifact raises :class:`~toolbox.registry.ArtifactError` naming
    the model and version.
    """
    return get_registry().load(name, version, stage=stage, alias=alias, backend=backend, device=device)


def versions(name: str, range: str | None = None) -> list[ModelVersion]:
    """Every version of ``name`` (or those in the semver ``range``), highest first."""
    return get_registry().versions(name, range)


def list_models() -> list[RegisteredModel]:
    """Every registered model with its latest version and its stage and alias holders."""
    return get_registry().list_models()


def promote(name: str, version: Any, stage: str, *, reason: str | None = None) -> bool:
    """Make ``version`` the one holder of ``stage`` (``dev``, ``staging``, ``production``, ``archived``).

    The previous holder loses the stage; the version leaves the stage it
    held. Each change is logged (who, when, from, to, ``reason``). Returns
    False when the version already held the stage (nothing logged).
    """
    from ._stages import promote as _promote

    return _promote(get_registry(), name, version, stage, reason=reason)


def rollback(name: str, stage: str, *, reason: str | None = None) -> str:
    """Re-point ``stage`` to its previous holder (from the event log); returns that version."""
    from ._stages import rollback as _rollback

    return _rollback(get_registry(), name, stage, reason=reason)


def set_alias(name: str, alias: str, version: Any, *, reason: str | None = None) -> bool:
    """Point the free-form ``alias`` (``"champion"``) at ``version``; logged like a stage change."""
    from ._stages import set_alias as _set_alias

    return _set_alias(get_registry(), name, alias, version, reason=reason)


def remove_alias(name: str, alias: str, *, reason: str | None = None) -> None:
    """Remove ``alias`` (logged)."""
    from ._stages import remove_alias as _remove_alias

    _remove_alias(get_registry(), name, alias, reason=reason)


def history(name: str, stage: str | None = None, *, alias: str | None = None) -> list[StageEvent]:
    """Every stage and alias change of ``name`` (or of one stage or alias), oldest first."""
    from ._stages import history as _history

    return _history(get_registry(), name, stage, alias=alias)


def version_at(name: str, stage: str | None, when: float, *, alias: str | None = None) -> str | None:
    """Which version held ``stage`` (or ``alias``) at time ``when`` (seconds since the epoch); None if none."""
    from ._stages import version_at as _version_at

    return _version_at(get_registry(), name, stage, when, alias=alias)


def lineage(name: str, version: Any) -> Lineage:
    """Upstream: the version's run, data fingerprint, code version and its parents, their parents..."""
    return get_registry().lineage(name, version, direction="upstream")


def descendants(name: str, version: Any) -> Lineage:
    """Downstream: the versions derived from this one, and those derived from them..."""
    return get_registry().lineage(name, version, direction="downstream")


def search(filter: str | None = None, order_by: str | Sequence[str] | None = None,
           max_results: int | None = 100) -> list[ModelVersion]:
    """Versions of every model matching ``filter``, in ``order_by`` order (default: name, then highest version).

    Parameters
    ----------
    filter : str, optional
        E.g. ``"name like 'churn%' and tags.team = 'risk' and metrics.auc >= 0.9
        and stage = 'production' or version ~ '^2'"``: clauses on ``name``,
        ``version`` (``~`` a semver range, ``< <= > >=`` by precedence),
        ``stage``, ``alias``, ``tags.*``, ``metrics.*`` and other attributes
        (see :mod:`toolbox.registry._search`), ``and``, ``or``, ``not``, parentheses.
    order_by : str or list of str, optional
        E.g. ``["metrics.auc DESC", "version DESC"]``; missing values last.
    max_results : int or None, default=100
    """
    return _search(get_registry(), filter, order_by, max_results)


def _search(reg: Registry, filter: str | None, order_by: Any, max_results: int | None) -> list[ModelVersion]:
    from sqlalchemy import select

    from ._registry import V
    from ._search import compile_filter, compile_order, metric_walk

    if max_results is not None and (not isinstance(max_results, int) or isinstance(max_results, bool)
                                    or max_results < 0):
        raise ValueError(f"max_results must be a non-negative int or None, not {max_results!r}.")
    cond = compile_filter(filter)
    order = compile_order(order_by) or [V.c.name.asc(), V.c.sort_key.desc()]
    q = select(V)
    if cond is not None:
        q = q.where(cond)
    q = q.order_by(*order, V.c.id)
    if max_results is not None:
        q = q.limit(max_results)
    walk = metric_walk(cond, order_by, max_results) if max_results else None
    with reg.store.read() as conn:
        if walk is not None:
            # ordered by a metric first: look among its best values before sorting every match
            rows = walk(conn, _WALK_WINDOW)
            if len(rows) == max_results:
                return reg.hydrate(conn, rows)
        return reg.hydrate(conn, list(conn.execute(q)))


#: how many of the best values of a leading order_by metric ``search`` walks before it sorts every match:
#: a filter that matches more than max_results / _WALK_WINDOW of the versions is answered by the walk (the
#: issue's filter ordered by auc: 66 -> 7 ms p50 over 100,000 versions); a sparser one pays the walk on top
#: of the sort (about 5 ms on this machine), and a walk further than this costs more than it saves
_WALK_WINDOW = 2_000


def compare(name: str, versions: Sequence[Any], X: Any = None, y: Any = None) -> Comparison:
    """Versions side by side: metadata, stored metrics, fresh scores on ``X, y`` and a parameter diff.

    With ``X`` (and ``y``), each version is loaded (verified) and scored:
    accuracy (and ROC AUC for binary classifiers with ``predict_proba``) or
    R² and MSE; data that does not fit a version's signature raises
    :class:`~toolbox.registry.SignatureMismatchError` naming it.
    """
    from ._compare import compare as _compare

    return _compare(get_registry(), name, versions, X, y)


def ab_test(name: str, weights: Mapping[str, float], *, key: str = "id", shadow: str | None = None,
            label: str = "default", metric: str | None = None) -> ABTest:
    """Route traffic between versions of ``name`` by a sticky hash of each row's key.

    Parameters
    ----------
    weights : dict
        ``{"1.4.2": 0.9, "1.5.0": 0.1}``: exact versions to shares summing to
        1; the first is the control. Calling again with the same label and
        new weights ramps the test (no key leaves a variant whose weight grew).
    key : str, default="id"
        The name of the routing key (for the record: ``predict`` takes the keys).
    shadow : str, optional
        A version that predicts every row too; logged, never served.
    label : str, default="default"
        Names the test; a concluded label cannot be reused.
    metric : {"accuracy", "squared_error", "absolute_error"}, optional
        Per-key score; default accuracy for classifiers, squared error otherwise.
    """
    from ._ab import ab_test as _ab_test

    return _ab_test(get_registry(), name, weights, key=key, shadow=shadow, label=label, metric=metric)


def fsck(*, verify_contents: bool = True) -> FsckReport:
    """Check every artifact (exists, sha256) and the stage holders against the event log (read-only)."""
    from ._fsck import fsck as _fsck

    return _fsck(get_registry(), verify_contents=verify_contents)
