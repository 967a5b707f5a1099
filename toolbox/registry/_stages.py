"""Stages and aliases: one holder per (model, slot), changed in one transaction, logged append-only.

A *slot* is a lifecycle stage (``dev``, ``staging``, ``production``,
``archived``) or a free-form alias. ``registry_holders`` has the primary key
(model, kind, slot), so the database itself refuses two holders; a change
*updates* the holder row in place, so no reader, at any isolation level, sees
the slot empty in between. A version holds at most one stage: promoting it
vacates the stage it held (logged as a ``vacate`` event). Every change appends
to ``registry_events`` (who, when, from, to, reason) in the same transaction.

``rollback`` replays the slot's events as a stack (a promote, alias or vacate
pushes the new holder; a rollback pops) and re-points the slot to the holder
below the top: rolling back twice goes two holders back, not back and forth.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import and_, delete, insert, select, update

from ..store import _schema as S
from ._errors import StageError, VersionNotFoundError
from ._records import STAGES, StageEvent
from ._registry import Registry, actor, check_name

__all__ = ["history", "promote", "remove_alias", "rollback", "set_alias", "version_at"]

V, M, H, E = S.registry_versions, S.registry_models, S.registry_holders, S.registry_events
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,127}")


def _check_stage(name: str, stage: Any, version: str | None = None) -> str:
    if stage not in STAGES:
        raise StageError(f"Model {name!r}{f' version {version}' if version else ''}: {stage!r} is not a stage; "
                         f"stages are {', '.join(STAGES)} (use set_alias for free-form names).",
                         model=name, version=version)
    return stage


def _check_alias(name: str, alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or alias in STAGES:
        raise StageError(f"Model {name!r}: {alias!r} is not a valid alias (a word of letters, digits, '_', '.', "
                         "'-', starting with a letter, and not a stage name).", model=name)
    return alias


def _check_reason(name: str, reason: Any) -> str | None:
    if reason is not None and (not isinstance(reason, str) or len(reason) > 10_000):
        raise StageError(f"Model {name!r}: reason must be text of up to 10,000 characters.", model=name)
    return reason


def _holder(conn: Any, model_id: int, kind: str, slot: str) -> int | None:
    return conn.execute(select(H.c.version_id).where(H.c.model_id == model_id, H.c.kind == kind,
                                                     H.c.slot == slot)).scalar()


def _set(conn: Any, model_id: int, kind: str, slot: str, version_id: int | None, *, action: str,
         reason: str | None, who: str, now: float) -> None:
    """Re-point one slot (in place) and log the change."""
    old = _holder(conn, model_id, kind, slot)
    if old == version_id:
        return
    where = and_(H.c.model_id == model_id, H.c.kind == kind, H.c.slot == slot)
    if version_id is None:
        conn.execute(delete(H).where(where))
    elif old is None:
        conn.execute(insert(H).values(model_id=model_id, kind=kind, slot=slot, version_id=version_id, since=now))
    else:
        conn.execute(update(H).where(where).values(version_id=version_id, since=now))
    conn.execute(insert(E).values(model_id=model_id, kind=kind, slot=slot, action=action, from_version_id=old,
                                  to_version_id=version_id, actor=who, at=now, reason=reason))


def move_to_stage(conn: Any, model_id: int, version_id: int, stage: str, *, action: str, reason: str | None,
                  who: str, now: float) -> bool:
    """Make ``version_id`` the holder of ``stage``, vacating the stage it held; False if it already held it."""
    if _holder(conn, model_id, "stage", stage) == version_id:
        return False
    held = conn.execute(select(H.c.slot).where(H.c.model_id == model_id, H.c.kind == "stage",
                                               H.c.version_id == version_id)).scalar()
    if held is not None:
        _set(conn, model_id, "stage", held, None, action="vacate", reason=reason, who=who, now=now)
    _set(conn, model_id, "stage", stage, version_id, action=action, reason=reason, who=who, now=now)
    conn.execute(update(M).where(M.c.id == model_id).values(updated_at=now))
    return True


def promote(reg: Registry, name: str, version: Any, stage: str, *, reason: str | None = None) -> bool:
    """Make ``version`` the holder of ``stage``; see :func:`toolbox.registry.promote`."""
    check_name(name)
    _check_stage(name, stage, None if version is None else str(version))
    _check_reason(name, reason)
    if version is None:
        raise VersionNotFoundError(f"Model {name!r}: promote needs a version.", model=name)
    with reg.store.write() as conn:
        mrow = reg._model_row(conn, name, lock=True)
        row = reg._resolve(conn, name, version, model_row=mrow)
        return move_to_stage(conn, mrow.id, row.id, stage, action="promote", reason=reason, who=actor(),
                             now=time.time())


def _stack(conn: Any, model_id: int, kind: str, slot: str) -> list[int | None]:
    stack: list[int | None] = []
    for action, to in conn.execute(select(E.c.action, E.c.to_version_id)
                                   .where(E.c.model_id == model_id, E.c.kind == kind, E.c.slot == slot)
                                   .order_by(E.c.id)):
        if action == "rollback":
            if stack:
                stack.pop()
        else:
            stack.append(to)
    return stack


def rollback(reg: Registry, name: str, stage: str, *, reason: str | None = None) -> str:
    """Re-point ``stage`` to its previous holder; returns that version. See :func:`toolbox.registry.rollback`."""
    check_name(name)
    _check_stage(name, stage)
    _check_reason(name, reason)
    with reg.store.write() as conn:
        mrow = reg._model_row(conn, name, lock=True)
        stack = _stack(conn, mrow.id, "stage", stage)
        if len(stack) < 2 or stack[-2] is None:
            raise StageError(f"Model {name!r}: the stage {stage!r} has no previous holder to roll back to.",
                             model=name)
        target = stack[-2]
        now, who = time.time(), actor()
        # the target leaves the stage it holds now (logged), then takes this one back
        held = conn.execute(select(H.c.slot).where(H.c.model_id == mrow.id, H.c.kind == "stage",
                                                   H.c.version_id == target)).scalar()
        if held is not None and held != stage:
            _set(conn, mrow.id, "stage", held, None, action="vacate", reason=reason, who=who, now=now)
        current = _holder(conn, mrow.id, "stage", stage)
        where = and_(H.c.model_id == mrow.id, H.c.kind == "stage", H.c.slot == stage)
        if current is None:
            conn.execute(insert(H).values(model_id=mrow.id, kind="stage", slot=stage, version_id=target, since=now))
        else:
            conn.execute(update(H).where(where).values(version_id=target, since=now))
        conn.execute(insert(E).values(model_id=mrow.id, kind="stage", slot=stage, action="rollback",
                                      from_version_id=current, to_version_id=target, actor=who, at=now,
                                      reason=reason))
        conn.execute(update(M).where(M.c.id == mrow.id).values(updated_at=now))
        return conn.execute(select(V.c.version).where(V.c.id == target)).scalar_one()


def set_alias(reg: Registry, name: str, alias: str, version: Any, *, reason: str | None = None) -> bool:
    """Point ``alias`` at ``version`` (a version may have several aliases); False if it already did."""
    check_name(name)
    _check_alias(name, alias)
    _check_reason(name, reason)
    with reg.store.write() as conn:
        mrow = reg._model_row(conn, name, lock=True)
        row = reg._resolve(conn, name, version, model_row=mrow)
        if _holder(conn, mrow.id, "alias", alias) == row.id:
            return False
        _set(conn, mrow.id, "alias", alias, row.id, action="alias", reason=reason, who=actor(), now=time.time())
        return True


def remove_alias(reg: Registry, name: str, alias: str, *, reason: str | None = None) -> None:
    """Remove ``alias`` (logged); :class:`VersionNotFoundError` if no version holds it."""
    check_name(name)
    _check_alias(name, alias)
    with reg.store.write() as conn:
        mrow = reg._model_row(conn, name, lock=True)
        if _holder(conn, mrow.id, "alias", alias) is None:
            raise VersionNotFoundError(f"Model {name!r}: no version holds the alias {alias!r}.", model=name)
        _set(conn, mrow.id, "alias", alias, None, action="unalias", reason=reason, who=actor(), now=time.time())


def history(reg: Registry, name: str, stage: str | None = None, *, alias: str | None = None) -> list[StageEvent]:
    """Every holder change of ``name`` (of one stage or alias if given), oldest first."""
    if stage is not None:
        _check_stage(name, stage)
    if alias is not None:
        _check_alias(name, alias)
    F, To = V.alias("f"), V.alias("t")
    with reg.store.read() as conn:
        mrow = reg._model_row(conn, name)
        q = (select(E, F.c.version.label("from_v"), To.c.version.label("to_v"))
             .outerjoin(F, F.c.id == E.c.from_version_id).outerjoin(To, To.c.id == E.c.to_version_id)
             .where(E.c.model_id == mrow.id))
        if stage is not None:
            q = q.where(E.c.kind == "stage", E.c.slot == stage)
        if alias is not None:
            q = q.where(E.c.kind == "alias", E.c.slot == alias)
        rows = conn.execute(q.order_by(E.c.id)).all()
    return [StageEvent(int(r.id), name, r.kind, r.slot, r.action, r.from_v, r.to_v, r.actor, float(r.at), r.reason)
            for r in rows]


def version_at(reg: Registry, name: str, stage: str, when: float, *, alias: str | None = None) -> str | None:
    """The version that held ``stage`` (or ``alias``, with ``stage=None``) at time ``when``; None if empty."""
    kind, slot = ("alias", _check_alias(name, alias)) if alias is not None else ("stage", _check_stage(name, stage))
    with reg.store.read() as conn:
        mrow = reg._model_row(conn, name)
        to = conn.execute(select(V.c.version).select_from(E).outerjoin(V, V.c.id == E.c.to_version_id)
                          .where(E.c.model_id == mrow.id, E.c.kind == kind, E.c.slot == slot, E.c.at <= when)
                          .order_by(E.c.id.desc()).limit(1)).first()
    return None if to is None else to[0]
