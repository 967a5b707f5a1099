"""What the store's filter languages share: tokens, the boolean grammar and values (layer 2).

Tracking's ``search_runs`` filter and the registry's ``search`` filter have the
same shape and differ in their fields and clauses::

    filter  := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" or ")" | clause
    value   := number | 'text' | "text" | nan | inf | -inf

Each language subclasses :class:`BooleanParser` with its token pattern and its
``clause()``, compiling to bound SQLAlchemy expressions: user text only ever
becomes bound parameters.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import and_, not_, or_

from ._errors import FilterSyntaxError

__all__ = ["BooleanParser", "FilterSyntaxError", "Tok", "apply_op", "order_items", "tokenize"]

_CONSTANTS = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf,
              "infinity": math.inf, "-infinity": -math.inf}


@dataclass(frozen=True)
class Tok:
    """One token: its kind (a group name of the pattern), its text and its position in the filter."""

    kind: str
    text: str
    pos: int


def tokenize(text: str, pattern: re.Pattern[str]) -> list[Tok]:
    """Split ``text`` with ``pattern`` (named groups, leading whitespace allowed); FilterSyntaxError if stuck."""
    out, pos = [], 0
    while pos < len(text) and text[pos:].strip():
        m = pattern.match(text, pos)
        if not m or m.end() == pos:
            raise FilterSyntaxError(f"Cannot read the filter at position {pos}: {text[pos:pos + 20]!r} "
                                    f"(in {text!r}).")
        kind = m.lastgroup or ""
        out.append(Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    return out


class BooleanParser:
    """A recursive-descent parser of ``and`` / ``or`` / ``not`` / parentheses over ``clause()``.

    Subclasses set :attr:`pattern` (with groups ``num``, ``str``, ``op``,
    ``punct`` and one for words, named by :attr:`keyword_kind`) and implement
    :meth:`clause`.
    """

    pattern: ClassVar[re.Pattern[str]]
    #: the token kind of bare words: keywords (and, or, not, in, is, null) and constants (nan, inf)
    keyword_kind: ClassVar[str] = "word"

    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = tokenize(text, self.pattern)
        self.i = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def word(self, *words: str) -> bool:
        """Consume the next token if it is one of the keywords ``words`` (case-insensitive)."""
        t = self.peek()
        if t is not None and t.kind == self.keyword_kind and t.text.lower() in words:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> Tok:
        """Consume and return the next token, which must be of ``kind`` (and be ``text``)."""
        t = self.peek()
        if t is None or t.kind != kind or (text is not None and t.text != text):
            where = "the end" if t is None else f"{t.text!r} at position {t.pos}"
            want = repr(text) if text is not None else kind
            raise FilterSyntaxError(f"Expected {want} but found {where} in the filter {self.text!r}.")
        self.i += 1
        return t

    def parse(self) -> Any:
        expr = self.or_()
        t = self.peek()
        if t is not None:
            raise FilterSyntaxError(f"Unexpected {t.text!r} at position {t.pos} in the filter {self.text!r} "
                                    "(combine clauses with 'and' / 'or').")
        return expr

    def or_(self) -> Any:
        parts = [self.and_()]
        while self.word("or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else or_(*parts)

    def and_(self) -> Any:
        parts = [self.not_()]
        while self.word("and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else and_(*parts)

    def not_(self) -> Any:
        if self.word("not"):
            return not_(self.not_())
        t = self.peek()
        if t is not None and t.kind == "punct" and t.text == "(":
            self.i += 1
            expr = self.or_()
            self.expect("punct", ")")
            return expr
        return self.clause()

    def clause(self) -> Any:
        raise NotImplementedError

    def value(self) -> tuple[str, Any]:
        """The next value: ``("num", float)`` (numbers, nan, inf, -inf) or ``("str", text)``."""
        t = self.peek()
        if t is None:
            raise FilterSyntaxError(f"The filter {self.text!r} ends where a value was expected.")
        self.i += 1
        if t.kind == "num":
            return "num", float(t.text)
        if t.kind == "str":
            q = t.text[0]
            return "str", t.text[1:-1].replace(q + q, q)
        if t.kind == self.keyword_kind and t.text.lower() in _CONSTANTS:
            return "num", _CONSTANTS[t.text.lower()]
        raise FilterSyntaxError(f"Expected a number or a quoted text at position {t.pos} in the filter "
                                f"{self.text!r}, found {t.text!r}.")

    def value_list(self) -> list[tuple[str, Any]]:
        """``( value, value, ... )`` after ``in``."""
        self.expect("punct", "(")
        values = [self.value()]
        while (p := self.peek()) is not None and p.kind == "punct" and p.text == ",":
            self.i += 1
            values.append(self.value())
        self.expect("punct", ")")
        return values

    def comparison(self, label: str) -> str:
        """The operator after the field ``label``: a token of kind ``op``, or ``like`` / ``ilike``."""
        t = self.peek()
        if t is not None and t.kind == "op":
            self.i += 1
            return t.text
        if self.word("like"):
            return "like"
        if self.word("ilike"):
            return "ilike"
        where = "the end" if t is None else f"{t.text!r} at position {t.pos}"
        raise FilterSyntaxError(f"Expected a comparison after {label!r} but found {where} in the filter "
                                f"{self.text!r}.")

    def null_test(self) -> bool | None:
        """After a field: None if no ``is [not] null`` follows, else True for ``is not null``."""
        if not self.word("is"):
            return None
        negate = self.word("not")
        if not self.word("null"):
            raise FilterSyntaxError(f"Expected 'null' after 'is' in the filter {self.text!r}.")
        return negate


def apply_op(col: Any, op: str, value: Any) -> Any:
    """``col <op> value`` as a SQLAlchemy expression (``value`` bound): = == != <> < <= > >= like ilike."""
    if op in ("=", "=="):
        return col == value
    if op in ("!=", "<>"):
        return col != value
    if op == "<":
        return col < value
    if op == "<=":
        return col <= value
    if op == ">":
        return col > value
    if op == ">=":
        return col >= value
    if op == "like":
        return col.like(value)
    if op == "ilike":
        return col.ilike(value)
    raise FilterSyntaxError(f"Unknown operator {op!r}.")


def order_items(items: Any, pattern: re.Pattern[str], hint: str) -> list[tuple[str, bool, str]]:
    """``(field, descending, item)`` for each ``"FIELD [ASC|DESC]"`` of an ``order_by`` (a string or a list).

    ``pattern`` matches one item (group 1: the field, group 2: the direction);
    ``hint`` says what is accepted, in the error.
    """
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    out = []
    for item in items:
        m = pattern.fullmatch(item) if isinstance(item, str) else None
        if not m:
            raise FilterSyntaxError(f"Cannot read the order_by item {item!r}: use {hint}.")
        out.append((m.group(1), (m.group(2) or "asc").lower() == "desc", item))
    return out
