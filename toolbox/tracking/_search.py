"""The ``search_runs`` filter and ordering language, compiled to bound SQLAlchemy expressions.

Grammar (keywords are case-insensitive)::

    filter  := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" or ")" | clause
    clause  := field op value | field "in" "(" value ("," value)* ")" | field "is" ["not"] "null"
    field   := entity "." name          entity: metrics | params | tags | attributes (also run)
    name    := word | `any text`        (backticks for names with '-', '/', spaces...)
    op      := = | == | != | <> | < | <= | > | >= | like | ilike
    value   := number | 'text' | "text" | nan | inf | -inf

``metrics.X`` compares the latest value of metric X with a number;
``params.X`` and ``tags.X`` are text and take quoted values; attributes are
``status``, ``name``, ``run_id``, ``parent_id``, ``experiment`` (text) and
``start_time``, ``end_time`` (seconds since the epoch). A run without the
metric, parameter or tag never matches (``is null`` finds those). User text
only ever becomes bound parameters; no SQL is built from it.

Ordering: ``["metrics.accuracy DESC", "params.C", "attributes.start_time ASC"]``;
runs without the value come last either way.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import exists, not_, or_, select

from ..store._filter import BooleanParser, FilterSyntaxError, Tok, apply_op, order_items
from ..store._schema import experiments, latest_metrics, params, runs, tags

__all__ = ["FilterSyntaxError", "compile_filter", "compile_order"]


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])
    | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
    | (?P<field>[A-Za-z_]\w*\.(?:`[^`]+`|[\w.\-/:]+))
    | (?P<op><=|>=|==|!=|<>|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>-?[A-Za-z_]\w*)
    )""", re.X)

_ENTITIES = {"metrics": "metrics", "metric": "metrics", "params": "params", "param": "params",
             "tags": "tags", "tag": "tags", "attributes": "attributes", "attribute": "attributes",
             "attr": "attributes", "run": "attributes"}
_TEXT_ATTRS = {"status": runs.c.status, "name": runs.c.name, "run_id": runs.c.id, "id": runs.c.id,
               "parent_id": runs.c.parent_id, "experiment": experiments.c.name, "host": runs.c.host}
_NUM_ATTRS = {"start_time": runs.c.start_time, "end_time": runs.c.end_time}
def _split_field(tok: Tok, source: str) -> tuple[str, str]:
    entity, name = tok.text.split(".", 1)
    ent = _ENTITIES.get(entity.lower())
    if ent is None:
        raise FilterSyntaxError(f"Unknown field {tok.text!r} at position {tok.pos} in {source!r}: fields start "
                                "with metrics., params., tags. or attributes.")
    if name.startswith("`"):
        name = name[1:-1]
    return ent, name


class _Parser(BooleanParser):
    pattern = _TOKEN
    keyword_kind = "word"

    def clause(self) -> Any:
        tok = self.expect("field")
        entity, name = _split_field(tok, self.text)
        negate = self.null_test()
        if negate is not None:
            present = _present(entity, name, tok, self.text)
            return present if negate else not_(present)
        if self.word("in"):
            return or_(*[_compare(entity, name, "=", v, tok, self.text) for v in self.value_list()])
        op = self.comparison(tok.text)
        return _compare(entity, name, op, self.value(), tok, self.text)


def _present(entity: str, name: str, tok: Tok, source: str) -> Any:
    if entity == "attributes":
        col = _attr(name, tok, source)
        return col.is_not(None)
    table = {"metrics": latest_metrics, "params": params, "tags": tags}[entity]
    return exists().where(table.c.run_id == runs.c.id, table.c.key == name)


def _attr(name: str, tok: Tok, source: str) -> Any:
    col = _TEXT_ATTRS.get(name, _NUM_ATTRS.get(name))
    if col is None:
        raise FilterSyntaxError(f"Unknown attribute {tok.text!r} in {source!r}; attributes are "
                                f"{', '.join(sorted({*_TEXT_ATTRS, *_NUM_ATTRS}))}.")
    return col


def _compare(entity: str, name: str, op: str, value: tuple[str, Any], tok: Tok, source: str) -> Any:
    kind, v = value
    if entity == "metrics":
        if kind != "num":
            raise FilterSyntaxError(f"{tok.text!r} is a metric: compare it with a number, not {v!r} (in {source!r}).")
        if op in ("like", "ilike"):
            raise FilterSyntaxError(f"{op.upper()} does not apply to the metric {tok.text!r} (in {source!r}).")
        if v != v:  # NaN values are stored as NULL: "= nan" finds them
            if op not in ("=", "==", "!=", "<>"):
                raise FilterSyntaxError(f"Only = and != compare with nan ({tok.text!r} in {source!r}).")
            cond = latest_metrics.c.value.is_(None) if op in ("=", "==") else latest_metrics.c.value.is_not(None)
        else:
            cond = apply_op(latest_metrics.c.value, op, v)
        return exists().where(latest_metrics.c.run_id == runs.c.id, latest_metrics.c.key == name, cond)
    if entity in ("params", "tags"):
        if kind != "str":
            raise FilterSyntaxError(f"{tok.text!r} is text: quote the value, e.g. {tok.text} = '{_num_text(v)}' "
                                    f"(in {source!r}).")
        if op in ("<", "<=", ">", ">="):
            raise FilterSyntaxError(f"{tok.text!r} is text: use =, !=, LIKE, ILIKE or IN, not {op} (in {source!r}).")
        table = params if entity == "params" else tags
        return exists().where(table.c.run_id == runs.c.id, table.c.key == name, apply_op(table.c.value, op, v))
    col = _attr(name, tok, source)
    if name in _NUM_ATTRS:
        if kind != "num" or op in ("like", "ilike"):
            raise FilterSyntaxError(f"{tok.text!r} is a time in seconds since the epoch: compare it with a number "
                                    f"(in {source!r}).")
    elif kind != "str" or op in ("<", "<=", ">", ">="):
        raise FilterSyntaxError(f"{tok.text!r} is text: compare it with a quoted value using =, !=, LIKE, ILIKE or "
                                f"IN (in {source!r}).")
    return apply_op(col, op, v)


def _num_text(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def compile_filter(text: str | None) -> Any:
    """The SQLAlchemy condition on ``runs`` for a filter string (None: no condition)."""
    if text is None or not text.strip():
        return None
    if not isinstance(text, str):
        raise TypeError(f"filter must be a string, got {type(text).__name__}.")
    return _Parser(text).parse()


_ORDER = re.compile(r"\s*([A-Za-z_]\w*\.(?:`[^`]+`|[\w.\-/:]+))(?:\s+(asc|desc))?\s*", re.I)


def compile_order(items: Any) -> list[Any]:
    """ORDER BY clauses for ``["metrics.accuracy DESC", ...]`` (runs lacking the value last)."""
    out = []
    hint = "'metrics.NAME [ASC|DESC]', 'params.NAME', 'tags.NAME' or 'attributes.start_time DESC'"
    for field, desc, item in order_items(items, _ORDER, hint):
        tok = Tok("field", field, 0)
        entity, name = _split_field(tok, item)
        if entity == "attributes":
            col = _attr(name, tok, item)
        else:
            table = {"metrics": latest_metrics, "params": params, "tags": tags}[entity]
            col = (select(table.c.value).where(table.c.run_id == runs.c.id, table.c.key == name)
                   .scalar_subquery())
        out.append((col.desc() if desc else col.asc()).nulls_last())
    return out
