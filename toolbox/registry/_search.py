"""The registry's ``search`` filter and ordering, compiled to bound SQLAlchemy expressions on versions.

Grammar (keywords are case-insensitive; the same shape as ``search_runs``)::

    filter  := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" or ")" | clause
    clause  := field op value | field "in" "(" value ("," value)* ")" | field "is" ["not"] "null"
    field   := attribute | tags.NAME | metrics.NAME   (backticks for names with '-', '/', spaces: tags.`a-b`)
    op      := = | == | != | <> | < | <= | > | >= | like | ilike | ~

Attributes: ``name``, ``stage``, ``alias``, ``description``, ``estimator``
(also ``class``), ``backend``, ``device``, ``dtype``, ``created_by``,
``run_id``, ``data_fingerprint``, ``code_version`` (text: quoted values,
``= != like ilike in is null``); ``created_at``, ``size`` (numbers);
``version``: ``version ~ '^2'`` matches a semver range, ``version >= '1.4'``
compares by semver precedence, ``version = '1.4'`` is the range ``1.4.x``.
``metrics.X`` compares a stored metric with a number, ``tags.X`` a tag with a
quoted text. A version without the tag, metric or stage never matches a
comparison (``is null`` finds those). User text only ever becomes bound
parameters.

Tags and metrics compile to correlated ``EXISTS`` probes of their primary keys
(cheap per row, so an ordered scan stops after ``max_results`` matches);
stages and aliases to ``id IN (holders)``, a handful of rows that can drive
the query.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exists, not_, or_, select

from ..store import _schema as S
from ..store._filter import BooleanParser, FilterSyntaxError, apply_op, order_items
from ._semver import Range, SemverError

__all__ = ["FilterSyntaxError", "compile_filter", "compile_order", "metric_lead", "metric_walk"]

V, T, MT, H = S.registry_versions, S.registry_version_tags, S.registry_version_metrics, S.registry_holders

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
    | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<op><=|>=|==|!=|<>|=|<|>|~)
    | (?P<punct>[(),])
    | (?P<ident>-?[A-Za-z_]\w*(?:\.(?:`[^`]+`|[\w.\-/:]+))?)
    )""", re.X)

_TEXT = {"name": V.c.name, "description": V.c.description, "estimator": V.c.estimator, "class": V.c.estimator,
         "backend": V.c.backend, "device": V.c.device, "dtype": V.c.dtype, "created_by": V.c.created_by,
         "run_id": V.c.run_id, "data_fingerprint": V.c.data_fingerprint, "code_version": V.c.code_version}
_NUM = {"created_at": V.c.created_at, "size": V.c.size}
_HOLDERS = {"stage": "stage", "alias": "alias"}
_ATTRS = sorted({*_TEXT, *_NUM, *_HOLDERS, "version"})
def _field(text: str, source: str, pos: int) -> tuple[str, str]:
    entity, dot, name = text.partition(".")
    low = entity.lower()
    if not dot:
        if low not in _ATTRS:
            raise FilterSyntaxError(f"Unknown field {text!r} at position {pos} in {source!r}: use "
                                    f"{', '.join(_ATTRS)}, tags.NAME or metrics.NAME.")
        return "attr", low
    if name.startswith("`"):
        name = name[1:-1]
    if low in ("tags", "tag"):
        return "tags", name
    if low in ("metrics", "metric"):
        return "metrics", name
    if low in ("attributes", "attribute", "attr") and name.lower() in _ATTRS:
        return "attr", name.lower()
    raise FilterSyntaxError(f"Unknown field {text!r} at position {pos} in {source!r}: fields are "
                            f"{', '.join(_ATTRS)}, tags.NAME and metrics.NAME.")


class _Parser(BooleanParser):
    pattern = _TOKEN
    keyword_kind = "ident"

    def clause(self) -> Any:
        t = self.peek()
        if t is None or t.kind != "ident":
            where = "the end" if t is None else f"{t.text!r} at position {t.pos}"
            raise FilterSyntaxError(f"Expected a field but found {where} in the filter {self.text!r}.")
        self.i += 1
        entity, name = _field(t.text, self.text, t.pos)
        label = t.text
        negate = self.null_test()
        if negate is not None:
            present = _present(entity, name)
            return present if negate else not_(present)
        if self.word("in"):
            return or_(*[_compare(entity, name, "=", v, label, self.text) for v in self.value_list()])
        op = self.comparison(label)
        return _compare(entity, name, op, self.value(), label, self.text)


def _present(entity: str, name: str) -> Any:
    if entity == "tags":
        return exists().where(T.c.version_id == V.c.id, T.c.key == name)
    if entity == "metrics":
        return exists().where(MT.c.version_id == V.c.id, MT.c.key == name)
    if name in _HOLDERS:
        return V.c.id.in_(select(H.c.version_id).where(H.c.kind == _HOLDERS[name]))
    if name == "version":
        return V.c.id.is_not(None)
    return (_TEXT.get(name) if name in _TEXT else _NUM[name]).is_not(None)


def _compare(entity: str, name: str, op: str, value: tuple[str, Any], label: str, source: str) -> Any:
    kind, v = value
    if op == "~" and (entity, name) != ("attr", "version"):
        raise FilterSyntaxError(f"'~' (a semver range) applies to version only, not {label!r} (in {source!r}).")
    if entity == "metrics":
        if kind != "num" or op in ("like", "ilike"):
            raise FilterSyntaxError(f"{label!r} is a metric: compare it with a number (in {source!r}).")
        if v != v:
            if op not in ("=", "==", "!=", "<>"):
                raise FilterSyntaxError(f"Only = and != compare with nan ({label!r} in {source!r}).")
            cond = MT.c.value.is_(None) if op in ("=", "==") else MT.c.value.is_not(None)
        else:
            cond = apply_op(MT.c.value, op, v)
        return exists().where(MT.c.version_id == V.c.id, MT.c.key == name, cond)
    if entity == "tags" or name in _TEXT or name in _HOLDERS:
        if kind != "str" or op in ("<", "<=", ">", ">="):
            raise FilterSyntaxError(f"{label!r} is text: compare it with a quoted value using =, !=, LIKE, ILIKE or "
                                    f"IN (in {source!r}).")
        if entity == "tags":
            return exists().where(T.c.version_id == V.c.id, T.c.key == name, apply_op(T.c.value, op, v))
        if name in _HOLDERS:
            return V.c.id.in_(select(H.c.version_id).where(H.c.kind == _HOLDERS[name], apply_op(H.c.slot, op, v)))
        return apply_op(_TEXT[name], op, v)
    if name in _NUM:
        if kind != "num" or op in ("like", "ilike"):
            raise FilterSyntaxError(f"{label!r} is a number: compare it with a number (in {source!r}).")
        return apply_op(_NUM[name], op, v)
    # version
    if kind != "str":
        raise FilterSyntaxError(f"version takes a quoted version or range, e.g. version ~ '^1.4' (in {source!r}).")
    if op in ("like", "ilike"):
        return apply_op(V.c.version, op, v)
    negate = op in ("!=", "<>")
    text = v if op == "~" else ("=" if negate or op == "==" else op) + v
    try:
        rng = Range.parse(text)
    except SemverError as exc:
        raise FilterSyntaxError(f"version {op} {v!r}: {exc} (in {source!r}).") from None
    cond = rng.sql(V.c.sort_key, V.c.prerelease, V.c.major, V.c.minor, V.c.patch)
    return not_(cond) if negate else cond


def compile_filter(text: str | None) -> Any:
    """The SQLAlchemy condition on ``registry_versions`` for a filter (None: no condition)."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"filter must be a string, got {type(text).__name__}.")
    if not text.strip():
        return None
    return _Parser(text).parse()


_ORDER = re.compile(r"\s*([A-Za-z_]\w*(?:\.(?:`[^`]+`|[\w.\-/:]+))?)(?:\s+(asc|desc))?\s*", re.I)


_ORDER_HINT = "'metrics.NAME [ASC|DESC]', 'tags.NAME', 'name', 'version DESC' or 'created_at'"


def _order_fields(items: Any) -> list[tuple[str, str, bool]]:
    return [(*_field(field, item, 0), desc) for field, desc, item in order_items(items, _ORDER, _ORDER_HINT)]


def metric_lead(items: Any) -> tuple[str, bool, Any] | None:
    """``(metric, descending, rest)`` when ``order_by`` starts with ``metrics.NAME``, else None.

    ``rest`` is the remaining ``order_by`` items (a list, possibly empty).
    """
    if items is None:
        return None
    listed = [items] if isinstance(items, str) else list(items)
    fields = _order_fields(listed)
    if not fields or fields[0][0] != "metrics":
        return None
    return fields[0][1], fields[0][2], listed[1:]


def metric_walk(cond: Any, items: Any, limit: int) -> Any:
    """A bounded index walk for ``cond`` ordered by ``items`` when it starts with ``metrics.NAME``, else None.

    Returns ``walk(conn, window)``: it reads the versions with the ``window``
    best values of the metric in order from its ``(key, value)`` index and
    returns the first ``limit`` that match ``cond``, in ``items`` order. When
    it finds ``limit`` rows they are the full query's answer (every version
    at or above the window's edge was considered; the rest rank after them);
    otherwise the caller runs the full query. A filter that many versions
    match then costs about ``limit / density`` rows instead of a sort of every
    match.
    """
    lead = metric_lead(items)
    if lead is None:
        return None
    key, desc, rest = lead
    tail = [*compile_order(rest), V.c.id]
    has = (MT.c.key == key) & MT.c.value.is_not(None)
    # an alias, so that the filter's own metric probes (EXISTS on MT) still correlate with V only
    M = MT.alias("lead_metric")
    q = (select(V).select_from(M.join(V, V.c.id == M.c.version_id))
         .where(M.c.key == key, M.c.value.is_not(None))
         .order_by(M.c.value.desc() if desc else M.c.value.asc(), *tail).limit(limit))
    if cond is not None:
        q = q.where(cond)

    def walk(conn: Any, window: int) -> list[Any]:
        edge = conn.execute(select(MT.c.value).where(has).order_by(MT.c.value.desc() if desc else MT.c.value.asc())
                            .offset(window - 1).limit(1)).scalar()
        bounded = q if edge is None else q.where(M.c.value >= edge if desc else M.c.value <= edge)
        return conn.execute(bounded).all()

    return walk


def compile_order(items: Any) -> list[Any]:
    """ORDER BY clauses for ``["metrics.auc DESC", "version", "created_at DESC"]`` (missing values last)."""
    out = []
    for entity, name, desc in _order_fields(items):
        if entity == "tags":
            col = select(T.c.value).where(T.c.version_id == V.c.id, T.c.key == name).scalar_subquery()
        elif entity == "metrics":
            col = select(MT.c.value).where(MT.c.version_id == V.c.id, MT.c.key == name).scalar_subquery()
        elif name == "version":
            col = V.c.sort_key
        elif name in _HOLDERS:
            col = (select(H.c.slot).where(H.c.version_id == V.c.id, H.c.kind == _HOLDERS[name])
                   .order_by(H.c.slot).limit(1).scalar_subquery())
        else:
            col = _TEXT.get(name, _NUM.get(name))
        out.append((col.desc() if desc else col.asc()).nulls_last())
    return out
