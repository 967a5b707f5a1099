"""``Registry``: register, resolve, load and list model versions in a :class:`toolbox.store.Store`.

Every write is one short transaction (``BEGIN IMMEDIATE`` on SQLite; on
PostgreSQL the model's row is locked ``FOR UPDATE`` first), so version
allocation and stage changes of one model are serialised: concurrent writers
get distinct consecutive versions and never a lock error.
"""

from __future__ import annotations

import getpass
import json
import math
import os
import re
import subprocess
import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select, update

from ..store import _schema as S
from ._artifact import load_artifact, save_artifact
from ._errors import (
    DuplicateVersionError,
    InvalidVersionError,
    ModelNotFoundError,
    RegistryError,
    StageError,
    VersionNotFoundError,
)
from ._records import STAGES, Lineage, ModelVersion, RegisteredModel
from ._semver import BUMPS, Range, SemverError, Version

__all__ = ["FIRST_VERSION", "Registry", "RegistryInputError", "actor", "check_name"]

#: The version given to a model's first registration when ``version`` is not given.
FIRST_VERSION = "1.0.0"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/ ]{0,255}")
_CHUNK = 500
V, M = S.registry_versions, S.registry_models
T, MT, L, H = S.registry_version_tags, S.registry_version_metrics, S.registry_lineage, S.registry_holders


class RegistryInputError(RegistryError, ValueError):
    """A bad model name, tag, metric, parent reference, run or data argument."""


def check_name(name: Any, what: str = "model name") -> str:
    """``name`` if it is a valid model name (letters, digits, ``_.-/`` and spaces, up to 256)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name != name.strip():
        raise RegistryInputError(f"{name!r} is not a valid {what}: 1-256 letters, digits, '_', '.', '-', '/' or "
                                 "spaces, starting with a letter or digit.", model=name if isinstance(name, str)
                                 else None)
    return name


def actor() -> str:
    """Who is acting: ``$TOOLBOX_USER``, else the login name."""
    who = os.environ.get("TOOLBOX_USER")
    if who:
        return who[:256]
    try:
        return getpass.getuser()[:256]
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return "unknown"


@lru_cache(maxsize=8)
def _git_commit(cwd: str) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", text) else None


def data_fingerprint(data: Any, *, model: str) -> str | None:
    """A content hash of the training data: an array, a DataFrame, a tuple ``(X, y)`` or a fingerprint text."""
    if data is None:
        return None
    if isinstance(data, str):
        if not re.fullmatch(r"[0-9A-Za-z:_\-]{1,64}", data):
            raise RegistryInputError(f"Model {model!r}: data={data!r} is not a fingerprint (up to 64 letters, "
                                     "digits, ':', '_' or '-'); pass the array itself to have it hashed.", model=model)
        return data
    from ..cache._hashing import hash_array, hash_bytes

    parts = data if isinstance(data, tuple | list) else (data,)
    digests = []
    for part in parts:
        arr = part.to_numpy() if hasattr(part, "to_numpy") and not hasattr(part, "__dlpack__") else part
        try:
            digests.append(hash_array(arr))
        except TypeError as exc:
            raise RegistryInputError(f"Model {model!r}: cannot fingerprint the training data: {exc}",
                                     model=model) from None
    return digests[0] if len(digests) == 1 else hash_bytes("|".join(digests))


def _tags(tags: Mapping[str, Any] | None, model: str) -> dict[str, str]:
    out = {}
    for k, v in dict(tags or {}).items():
        if not isinstance(k, str) or not 0 < len(k) <= 256:
            raise RegistryInputError(f"Model {model!r}: tag name {k!r} must be text of 1-256 characters.", model=model)
        text = v if isinstance(v, str) else json.dumps(v) if isinstance(v, bool | int | float) or v is None else str(v)
        if len(text) > 1000:
            raise RegistryInputError(f"Model {model!r}: the value of tag {k!r} is longer than 1000 characters.",
                                     model=model)
        out[k] = text
    return out


def _metrics(metrics: Mapping[str, Any] | None, model: str) -> dict[str, float]:
    out = {}
    for k, v in dict(metrics or {}).items():
        if not isinstance(k, str) or not 0 < len(k) <= 256:
            raise RegistryInputError(f"Model {model!r}: metric name {k!r} must be text of 1-256 characters.",
                                     model=model)
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise RegistryInputError(f"Model {model!r}: metric {k!r} must be a number, not {v!r}.",
                                     model=model) from None
        if isinstance(v, bool):
            raise RegistryInputError(f"Model {model!r}: metric {k!r} must be a number, not {v!r}.", model=model)
        out[k] = f
    return out


def _db_float(v: float) -> float | None:
    return None if v != v else v


def _parse_version(text: Any, model: str) -> Version:
    try:
        return Version.parse(text)
    except SemverError as exc:
        raise InvalidVersionError(f"Model {model!r}: {exc}.", model=model, version=str(text)) from None


def _parse_ref(ref: Any, default_model: str) -> tuple[str, str]:
    """``"name:1.2.3"``, ``("name", "1.2.3")``, a :class:`ModelVersion` or ``"1.2.3"`` (same model)."""
    if isinstance(ref, ModelVersion):
        return ref.name, ref.version
    if isinstance(ref, tuple) and len(ref) == 2:
        return check_name(ref[0]), str(ref[1])
    if isinstance(ref, str):
        name, sep, version = ref.rpartition(":")
        return (check_name(name), version) if sep else (default_model, ref)
    raise RegistryInputError(f"Model {default_model!r}: cannot read the parent {ref!r}; give 'name:version', "
                             "(name, version) or a ModelVersion.", model=default_model)


class Registry:
    """Model versions, stages, lineage, search and A/B tests in one store.

    Parameters
    ----------
    store : toolbox.store.Store
        From :func:`toolbox.store.open_store`; the module-level functions of
        :mod:`toolbox.registry` use the tracking store's location.
    """

    def __init__(self, store: Any) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"Registry({self.store.display!r})"

    # ------------------------------------------------------------------ #
    # rows
    # ------------------------------------------------------------------ #
    def _model_row(self, conn: Any, name: str, *, lock: bool = False) -> Any:
        q = select(M).where(M.c.name == name)
        row = conn.execute(q.with_for_update() if lock else q).first()
        if row is None:
            raise ModelNotFoundError(f"No model named {name!r} in the registry {self.store.display}.", model=name)
        return row

    def _resolve(self, conn: Any, name: str, version: Any = None, stage: str | None = None,
                 alias: str | None = None, *, model_row: Any = None) -> Any:
        """The version row that ``version`` (exact or range), ``stage``, ``alias`` or nothing (latest) names."""
        given = [x is not None for x in (version, stage, alias)]
        if sum(given) > 1:
            raise RegistryInputError(f"Model {name!r}: give one of version, stage or alias, not several.", model=name)
        mrow = model_row if model_row is not None else self._model_row(conn, name)
        base = select(V).where(V.c.model_id == mrow.id)
        if stage is not None or alias is not None:
            kind, slot = ("stage", stage) if stage is not None else ("alias", alias)
            if kind == "stage" and slot not in STAGES:
                raise StageError(f"Model {name!r}: {slot!r} is not a stage; stages are {', '.join(STAGES)}.",
                                 model=name)
            row = conn.execute(base.join(H, H.c.version_id == V.c.id)
                               .where(H.c.model_id == mrow.id, H.c.kind == kind, H.c.slot == slot)).first()
            if row is None:
                raise VersionNotFoundError(f"Model {name!r}: no version holds the {kind} {slot!r}.", model=name)
            return row
        if version is None:
            row = conn.execute(base.order_by(V.c.sort_key.desc()).limit(1)).first()
            if row is None:  # pragma: no cover - a model row exists only with a version
                raise VersionNotFoundError(f"Model {name!r} has no versions.", model=name)
            return row
        if isinstance(version, ModelVersion):
            version = version.version
        text = str(version).strip()
        try:
            v = Version.parse(text)
        except SemverError:
            v = None
        if v is not None:
            row = conn.execute(base.where(V.c.sort_key == v.key)).first()
            if row is None:
                raise VersionNotFoundError(f"Model {name!r} has no version {text}.", model=name, version=text)
            return row
        try:
            rng = Range.parse(text)
        except SemverError as exc:
            raise InvalidVersionError(f"Model {name!r}: {exc}.", model=name, version=text) from None
        row = conn.execute(base.where(rng.sql(V.c.sort_key, V.c.prerelease, V.c.major, V.c.minor, V.c.patch))
                           .order_by(V.c.sort_key.desc()).limit(1)).first()
        if row is None:
            raise VersionNotFoundError(f"Model {name!r}: no version matches the range {text!r}.",
                                       model=name, version=text)
        return row

    def hydrate(self, conn: Any, rows: list[Any]) -> list[ModelVersion]:
        """Records for version rows, with their tags, metrics, holders and parents."""
        ids = [r.id for r in rows]
        tags: dict[int, dict[str, str]] = {i: {} for i in ids}
        metrics: dict[int, dict[str, float]] = {i: {} for i in ids}
        stages: dict[int, str] = {}
        aliases: dict[int, list[str]] = {i: [] for i in ids}
        parents: dict[int, list[tuple[str, str, str]]] = {i: [] for i in ids}
        P = V.alias("p")
        for k in range(0, len(ids), _CHUNK):
            chunk = ids[k:k + _CHUNK]
            for r in conn.execute(select(T.c.version_id, T.c.key, T.c.value).where(T.c.version_id.in_(chunk))):
                tags[r.version_id][r.key] = r.value
            for r in conn.execute(select(MT.c.version_id, MT.c.key, MT.c.value).where(MT.c.version_id.in_(chunk))):
                metrics[r.version_id][r.key] = math.nan if r.value is None else float(r.value)
            for r in conn.execute(select(H.c.version_id, H.c.kind, H.c.slot).where(H.c.version_id.in_(chunk))
                                  .order_by(H.c.slot)):
                if r.kind == "stage":
                    stages[r.version_id] = r.slot
                else:
                    aliases[r.version_id].append(r.slot)
            for r in conn.execute(select(L.c.child_id, L.c.relation, P.c.name, P.c.version)
                                  .join(P, P.c.id == L.c.parent_id).where(L.c.child_id.in_(chunk))
                                  .order_by(P.c.name, P.c.sort_key)):
                parents[r.child_id].append((r.name, r.version, r.relation))
        return [ModelVersion(
            name=r.name, version=r.version, description=r.description, estimator=r.estimator,
            signature=json.loads(r.signature), params=json.loads(r.params), tags=tags[r.id], metrics=metrics[r.id],
            stage=stages.get(r.id), aliases=tuple(aliases[r.id]), sha256=r.sha256, size=int(r.size),
            toolbox_version=r.toolbox_version, backend=r.backend, device=r.device, dtype=r.dtype, run_id=r.run_id,
            data_fingerprint=r.data_fingerprint, code_version=r.code_version, parents=tuple(parents[r.id]),
            created_by=r.created_by, created_at=float(r.created_at), id=int(r.id)) for r in rows]

    # ------------------------------------------------------------------ #
    # register
    # ------------------------------------------------------------------ #
    def register(self, model: Any, name: str, *, version: str | None = None, bump: str = "patch",
                 description: str | None = None, tags: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, Any] | None = None, run: Any = None,
                 parents: Iterable[Any] | Mapping[Any, str] | None = None, data: Any = None,
                 code_version: str | None = None) -> ModelVersion:
        """Store ``model`` as a new version of ``name``; see :func:`toolbox.registry.register`."""
        check_name(name)
        wanted = _parse_version(version, name) if version is not None else None
        if bump not in BUMPS:
            raise InvalidVersionError(f"Model {name!r}: bump must be one of {', '.join(BUMPS)}, not {bump!r}.",
                                      model=name)
        if description is not None and not isinstance(description, str):
            raise RegistryInputError(f"Model {name!r}: description must be text.", model=name)
        tag_values, metric_values = _tags(tags, name), _metrics(metrics, name)
        if isinstance(parents, Mapping):
            parent_refs = [(_parse_ref(k, name), str(rel)) for k, rel in parents.items()]
        else:
            parent_refs = [(_parse_ref(p, name), "derived_from") for p in (parents or ())]
        for _, rel in parent_refs:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]{0,63}", rel):
                raise RegistryInputError(f"Model {name!r}: parent relation {rel!r} must be a word such as "
                                         "'fine_tuned_from' or 'ensembled_from'.", model=name)
        run_id = self._run_id(run, name)
        fingerprint = data_fingerprint(data, model=name)
        if code_version is None:
            code_version = _git_commit(os.getcwd())
        elif not isinstance(code_version, str) or len(code_version) > 64:
            raise RegistryInputError(f"Model {name!r}: code_version must be text of up to 64 characters.", model=name)
        # cheap checks first, so that bad input writes no artifact at all
        with self.store.read() as conn:
            self._check_parents(conn, parent_refs, name)
            if wanted is not None:
                self._check_free(conn, name, wanted)
        saved = save_artifact(self.store, model)
        info = saved.info
        fitted_on = info.get("fitted_on") or {}
        signature = {"n_features": info.get("n_features_in_"), "feature_names": info.get("feature_names_in_"),
                     "dtype": fitted_on.get("dtype"), "classes": info.get("classes_")}
        params = (info.get("root") or {}).get("params") if isinstance(info.get("root"), dict) else None
        now, who = time.time(), actor()
        with self.store.write() as conn:
            conn.execute(self.store.insert(M).values(name=name, description=None, created_at=now, updated_at=now)
                         .on_conflict_do_nothing(index_elements=["name"]))
            mrow = self._model_row(conn, name, lock=True)
            if wanted is None:
                top = conn.execute(select(V.c.version).where(V.c.model_id == mrow.id)
                                   .order_by(V.c.sort_key.desc()).limit(1)).scalar()
                new = Version.parse(FIRST_VERSION) if top is None else Version.parse(top).bump(bump)
            else:
                new = wanted
                self._check_free(conn, name, new, model_id=mrow.id)
            parent_ids = self._check_parents(conn, parent_refs, name)
            vid = conn.execute(insert(V).values(
                model_id=mrow.id, name=name, version=str(new), sort_key=new.key, major=new.major, minor=new.minor,
                patch=new.patch, prerelease=".".join(map(str, new.prerelease)) or None, description=description,
                estimator=info.get("class"), signature=json.dumps(signature), params=json.dumps(params or {}),
                manifest=saved.manifest, sha256=saved.sha256, size=saved.size,
                toolbox_version=str(info.get("toolbox_version", "")), backend=fitted_on.get("backend"),
                device=fitted_on.get("device"), dtype=fitted_on.get("dtype"), run_id=run_id,
                data_fingerprint=fingerprint, code_version=code_version, created_by=who, created_at=now,
            ).returning(V.c.id)).scalar_one()
            if tag_values:
                conn.execute(insert(T), [{"version_id": vid, "key": k, "value": v} for k, v in tag_values.items()])
            if metric_values:
                conn.execute(insert(MT), [{"version_id": vid, "key": k, "value": _db_float(v)}
                                          for k, v in metric_values.items()])
            if parent_ids:
                conn.execute(insert(L), [{"child_id": vid, "parent_id": pid, "relation": rel}
                                         for pid, rel in parent_ids])
            if description is not None and mrow.description is None:
                conn.execute(update(M).where(M.c.id == mrow.id).values(description=description, updated_at=now))
            else:
                conn.execute(update(M).where(M.c.id == mrow.id).values(updated_at=now))
        return ModelVersion(
            name=name, version=str(new), description=description, estimator=info.get("class"), signature=signature,
            params=params or {}, tags=tag_values, metrics=metric_values, stage=None, aliases=(),
            sha256=saved.sha256, size=saved.size, toolbox_version=str(info.get("toolbox_version", "")),
            backend=fitted_on.get("backend"), device=fitted_on.get("device"), dtype=fitted_on.get("dtype"),
            run_id=run_id, data_fingerprint=fingerprint, code_version=code_version,
            parents=tuple((pn, pv, rel) for (pn, pv), rel in parent_refs), created_by=who, created_at=now,
            id=int(vid))

    def _check_free(self, conn: Any, name: str, v: Version, *, model_id: int | None = None) -> None:
        q = select(V.c.version).where(V.c.sort_key == v.key)
        if model_id is None:
            q = q.join(M, M.c.id == V.c.model_id).where(M.c.name == name)
        else:
            q = q.where(V.c.model_id == model_id)
        found = conn.execute(q).scalar()
        if found is not None:
            same = "is" if found == str(v) else f"has the same precedence as {found}, which is"
            raise DuplicateVersionError(f"Model {name!r}: version {v} {same} already registered.",
                                        model=name, version=str(v))

    def _check_parents(self, conn: Any, refs: list[tuple[tuple[str, str], str]], name: str) -> list[tuple[int, str]]:
        out = []
        for (pname, pversion), rel in refs:
            try:
                row = self._resolve(conn, pname, pversion)
            except (ModelNotFoundError, VersionNotFoundError, InvalidVersionError) as exc:
                raise VersionNotFoundError(f"Model {name!r}: parent {pname}:{pversion} is not registered ({exc})",
                                           model=name, version=pversion) from None
            out.append((int(row.id), rel))
        return out

    def _run_id(self, run: Any, name: str) -> str | None:
        if run is None:
            try:
                from ..tracking import active_run
            except ImportError:  # pragma: no cover - tracking ships with the registry's extra
                return None
            active = active_run()
            return active.id if active is not None else None
        rid = getattr(run, "id", run)
        if not isinstance(rid, str) or not re.fullmatch(r"[0-9a-f]{32}", rid):
            raise RegistryInputError(f"Model {name!r}: run={run!r} is not a tracking run or a run id.", model=name)
        if not hasattr(run, "id"):
            with self.store.read() as conn:
                if conn.execute(select(S.runs.c.id).where(S.runs.c.id == rid)).first() is None:
                    raise RegistryInputError(f"Model {name!r}: no tracking run {rid} in the store {self.store.display}.",
                                             model=name)
        return rid

    # ------------------------------------------------------------------ #
    # reads
    # ------------------------------------------------------------------ #
    def get_version(self, name: str, version: Any = None, *, stage: str | None = None,
                    alias: str | None = None) -> ModelVersion:
        """The record of one version (exact, range's highest match, stage or alias holder, or the latest)."""
        with self.store.read() as conn:
            return self.hydrate(conn, [self._resolve(conn, name, version, stage, alias)])[0]

    def load(self, name: str, version: Any = None, *, stage: str | None = None, alias: str | None = None,
             backend: str | None = None, device: Any = None) -> Any:
        """The fitted estimator of one version, its artifact verified; see :func:`toolbox.registry.load`."""
        with self.store.read() as conn:
            row = self._resolve(conn, name, version, stage, alias)
        return load_artifact(self.store, row.manifest, row.sha256, model=name, version=row.version,
                             backend=backend, device=device)

    def versions(self, name: str, range: str | None = None) -> list[ModelVersion]:
        """Every version of ``name`` (or those in the semver ``range``), highest first."""
        with self.store.read() as conn:
            mrow = self._model_row(conn, name)
            q = select(V).where(V.c.model_id == mrow.id)
            if range is not None:
                try:
                    rng = Range.parse(range)
                except SemverError as exc:
                    raise InvalidVersionError(f"Model {name!r}: {exc}.", model=name, version=range) from None
                q = q.where(rng.sql(V.c.sort_key, V.c.prerelease, V.c.major, V.c.minor, V.c.patch))
            return self.hydrate(conn, list(conn.execute(q.order_by(V.c.sort_key.desc()))))

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name, with its latest version and stage and alias holders."""
        with self.store.read() as conn:
            counts = dict(conn.execute(select(V.c.model_id, func.count()).group_by(V.c.model_id)).all())
            top = select(V.c.version).where(V.c.model_id == M.c.id).order_by(V.c.sort_key.desc()).limit(1)
            models = conn.execute(select(M, top.scalar_subquery().label("latest")).order_by(M.c.name)).all()
            holders: dict[int, tuple[dict[str, str], dict[str, str]]] = {m.id: ({}, {}) for m in models}
            for r in conn.execute(select(H.c.model_id, H.c.kind, H.c.slot, V.c.version)
                                  .join(V, V.c.id == H.c.version_id).order_by(H.c.slot)):
                holders[r.model_id][0 if r.kind == "stage" else 1][r.slot] = r.version
        return [RegisteredModel(m.name, m.description, float(m.created_at), float(m.updated_at),
                                int(counts.get(m.id, 0)), m.latest,
                                {s: holders[m.id][0][s] for s in STAGES if s in holders[m.id][0]},
                                holders[m.id][1]) for m in models]

    def lineage(self, name: str, version: Any, *, direction: str = "upstream") -> Lineage:
        """Parents, their parents... (``upstream``) or children... (``downstream``) of one version."""
        if direction not in ("upstream", "downstream"):
            raise RegistryInputError(f"direction is 'upstream' or 'downstream', not {direction!r}.", model=name)
        mine, other = (L.c.child_id, L.c.parent_id) if direction == "upstream" else (L.c.parent_id, L.c.child_id)
        with self.store.read() as conn:
            row = self._resolve(conn, name, version)
            seen = {int(row.id)}
            frontier, depth, found = [int(row.id)], 0, []
            while frontier:
                depth += 1
                step = conn.execute(select(other.label("vid"), L.c.relation, V.c.name, V.c.version)
                                    .join(V, V.c.id == other).where(mine.in_(frontier))
                                    .order_by(V.c.name, V.c.sort_key)).all()
                frontier = []
                for r in step:
                    if r.vid not in seen:
                        seen.add(r.vid)
                        frontier.append(int(r.vid))
                        found.append((r.name, r.version, r.relation, depth))
            run = None
            if row.run_id:
                run = conn.execute(select(S.runs.c.id, S.runs.c.name, S.runs.c.status, S.runs.c.start_time,
                                          S.experiments.c.name.label("experiment"))
                                   .join(S.experiments, S.experiments.c.id == S.runs.c.experiment_id)
                                   .where(S.runs.c.id == row.run_id)).first()
                run = dict(run._mapping) if run is not None else None
        return Lineage(name, row.version, direction, tuple(found), row.run_id, row.data_fingerprint,
                       row.code_version, run)
