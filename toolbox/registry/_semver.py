"""Semantic versions (semver 2.0.0) and npm-style ranges, with a byte-comparable precedence key.

``Version.parse("1.4.2-rc.1+build.5")``; precedence as in semver 2.0.0 (build
metadata ignored; a pre-release sorts before its release; numeric identifiers
compare as numbers and before alphanumeric ones; a longer set of identifiers
wins when the shared ones are equal). ``Version.key`` is a string whose plain
byte order is that precedence, so the database can sort and filter on it.

Ranges (``Range.parse``) follow npm's ``node-semver``: ``1.4.2`` / ``=1.4.2``,
``<``, ``<=``, ``>``, ``>=``, ``!=``, partial versions and wildcards (``1.4``,
``1.x``, ``*``), caret (``^1.4``: ``>=1.4.0 <2.0.0-0``; ``^0.2.3``:
``>=0.2.3 <0.3.0-0``), tilde (``~1.4.2``: ``>=1.4.2 <1.5.0-0``), hyphen ranges
(``1.2 - 2.3``), comparators joined by spaces or commas (all must hold) and
alternatives joined by ``||``. A pre-release matches a range only when one of
its comparators names a pre-release of the same ``major.minor.patch``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUMPS", "Range", "SemverError", "Version"]

BUMPS = ("major", "minor", "patch")

_NUM = r"0|[1-9]\d*"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?")
_MAX_PART = 10**15  # the key holds each number in 15 digits
_MAX_LEN = 64
_MAX_PRE = 40


class SemverError(ValueError):
    """A text that is not a semantic version or range (the registry re-raises it naming the model)."""


@dataclass(frozen=True)
class Version:
    """A semantic version ``major.minor.patch[-prerelease][+build]``."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: Any) -> Version:
        """Parse ``text``; :class:`SemverError` says what is wrong."""
        if isinstance(text, Version):
            return text
        if not isinstance(text, str):
            raise SemverError(f"a version is a string such as '1.4.2', not {type(text).__name__} {text!r}")
        s = text.strip()
        if len(s) > _MAX_LEN:
            raise SemverError(f"{text!r} is longer than {_MAX_LEN} characters")
        m = _SEMVER.fullmatch(s)
        if m is None:
            raise SemverError(
                f"{text!r} is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (e.g. '1.4.2', "
                "'2.0.0-rc.1'; no leading zeros, no 'v' prefix)")
        parts = [int(m.group(k)) for k in ("major", "minor", "patch")]
        if any(p >= _MAX_PART for p in parts):
            raise SemverError(f"{text!r}: each number must be below {_MAX_PART}")
        pre_text = m.group("pre") or ""
        if len(pre_text) > _MAX_PRE:
            raise SemverError(f"{text!r}: the pre-release part is longer than {_MAX_PRE} characters")
        pre = tuple(int(p) if p.isdigit() else p for p in pre_text.split(".")) if pre_text else ()
        return cls(parts[0], parts[1], parts[2], pre, m.group("build") or "")

    def __str__(self) -> str:
        out = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            out += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            out += "+" + self.build
        return out

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def _order(self) -> tuple[Any, ...]:
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._order() < other._order()

    def __le__(self, other: Version) -> bool:
        return self._order() <= other._order()

    def __gt__(self, other: Version) -> bool:
        return self._order() > other._order()

    def __ge__(self, other: Version) -> bool:
        return self._order() >= other._order()

    def same_precedence(self, other: Version) -> bool:
        """Equal but for build metadata."""
        return self._order() == other._order()

    @property
    def key(self) -> str:
        """A string whose byte order is this version's precedence (build metadata left out)."""
        out = f"{self.major:015d}.{self.minor:015d}.{self.patch:015d}"
        if not self.prerelease:
            return out + "~"  # '~' sorts after '-': a release after its pre-releases
        ids = [f"0{len(str(p)):02d}{p}" if isinstance(p, int) else f"1{p}" for p in self.prerelease]
        return out + "-" + "!".join(ids)  # '!' sorts before every identifier character

    def bump(self, part: str) -> Version:
        """The next version by ``part`` (``"major"``, ``"minor"``, ``"patch"``), as ``npm version`` does.

        A pre-release bumps to its own release where that is the next step:
        ``2.0.0-rc.1`` → ``2.0.0`` for any part, ``1.5.0-rc.1`` → ``1.5.0``
        for minor or patch, ``1.4.3-rc.1`` → ``1.4.3`` for patch.
        """
        if part not in BUMPS:
            raise SemverError(f"bump must be one of {', '.join(BUMPS)}, not {part!r}")
        pre = bool(self.prerelease)
        if part == "major":
            if pre and self.minor == 0 and self.patch == 0:
                return Version(self.major, 0, 0)
            return Version(self.major + 1, 0, 0)
        if part == "minor":
            if pre and self.patch == 0:
                return Version(self.major, self.minor, 0)
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch if pre else self.patch + 1)


# --------------------------------------------------------------------------- #
# ranges
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class _Cmp:
    op: str  # "<", "<=", ">", ">=", "=", "!="
    version: Version
    synthetic: bool = False  # an upper bound "<X.Y.Z-0" made by desugaring: allows no pre-release

    def holds(self, v: Version) -> bool:
        o, w = v._order(), self.version._order()
        return {"<": o < w, "<=": o <= w, ">": o > w, ">=": o >= w, "=": o == w, "!=": o != w}[self.op]


_PARTIAL = re.compile(
    r"(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*])(?:\.(?P<patch>\d+|[xX*])"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?)?)?")
_OPS = ("<=", ">=", "==", "!=", "<", ">", "=", "^", "~")


def _partial(text: str, source: str) -> tuple[list[int | None], tuple[int | str, ...]]:
    """``[major, minor, patch]`` with None for missing or wildcard parts, and the pre-release."""
    m = _PARTIAL.fullmatch(text)
    if m is None:
        raise SemverError(f"cannot read {text!r} in the version range {source!r}")
    parts: list[int | None] = []
    for k in ("major", "minor", "patch"):
        g = m.group(k)
        parts.append(None if g is None or g in "xX*" else int(g))
    for i in range(1, 3):  # "1.x.3" means "1.x"
        if parts[i - 1] is None:
            parts[i] = None
    pre: tuple[int | str, ...] = ()
    if m.group("pre"):
        if None in parts:
            raise SemverError(f"{text!r} in {source!r}: a pre-release needs a full version")
        pre = Version.parse(f"{parts[0]}.{parts[1]}.{parts[2]}-{m.group('pre')}").prerelease
    return parts, pre


def _v(major: int, minor: int = 0, patch: int = 0, pre: tuple[int | str, ...] = ()) -> Version:
    return Version(major, minor, patch, pre)


def _upper(major: int, minor: int | None = None, patch: int | None = None) -> _Cmp:
    return _Cmp("<", _v(major, minor or 0, patch or 0, (0,)), synthetic=True)


def _x_range(parts: list[int | None]) -> list[_Cmp]:
    ma, mi, pa = parts
    if ma is None:
        return [_Cmp(">=", _v(0))]
    if mi is None:
        return [_Cmp(">=", _v(ma)), _upper(ma + 1)]
    if pa is None:
        return [_Cmp(">=", _v(ma, mi)), _upper(ma, mi + 1)]
    return []  # full: handled by the caller


def _desugar(op: str, text: str, source: str) -> list[_Cmp]:
    parts, pre = _partial(text, source)
    ma, mi, pa = parts
    full = None not in parts
    if op in ("", "=", "=="):
        return [_Cmp("=", _v(ma, mi, pa, pre))] if full else _x_range(parts)  # type: ignore[arg-type]
    if op == "!=":
        if not full:
            raise SemverError(f"'!=' needs a full version in {source!r}, not {text!r}")
        return [_Cmp("!=", _v(ma, mi, pa, pre))]  # type: ignore[arg-type]
    if op == "~":
        if ma is None:
            return [_Cmp(">=", _v(0))]
        if mi is None:
            return [_Cmp(">=", _v(ma)), _upper(ma + 1)]
        return [_Cmp(">=", _v(ma, mi, pa or 0, pre)), _upper(ma, mi + 1)]
    if op == "^":
        if ma is None:
            return [_Cmp(">=", _v(0))]
        low = _Cmp(">=", _v(ma, mi or 0, pa or 0, pre))
        if ma > 0 or mi is None:
            return [low, _upper(ma + 1)]
        if mi > 0 or pa is None:
            return [low, _upper(0, mi + 1)]
        return [low, _upper(0, 0, pa + 1)]
    if ma is None:  # "<*" matches nothing, ">*" / ">=*" everything
        return [_Cmp("<", _v(0, 0, 0, (0,)), synthetic=True)] if op in ("<", ">") else [_Cmp(">=", _v(0))]
    if full:
        return [_Cmp(op, _v(ma, mi, pa, pre))]  # type: ignore[arg-type]
    nxt = _v(ma + 1) if mi is None else _v(ma, mi + 1)
    if op == ">":
        return [_Cmp(">=", nxt)]
    if op == ">=":
        return [_Cmp(">=", _v(ma, mi or 0))]
    if op == "<":
        return [_Cmp("<", _v(ma, mi or 0, 0, (0,)), synthetic=True)]
    return [_Cmp("<", Version(nxt.major, nxt.minor, 0, (0,)), synthetic=True)]  # "<="


_HYPHEN = re.compile(r"\s*(\S+)\s+-\s+(\S+)\s*")
_SIMPLE = re.compile(r"(<=|>=|==|!=|<|>|=|\^|~)?\s*([^\s,<>=!^~]+)")


@dataclass(frozen=True)
class Range:
    """A set of versions: alternatives (``||``) of comparators that must all hold."""

    text: str
    alternatives: tuple[tuple[_Cmp, ...], ...] = field(default=())

    @classmethod
    def parse(cls, text: Any) -> Range:
        """Parse an npm-style range (see the module docstring)."""
        if isinstance(text, Range):
            return text
        if not isinstance(text, str):
            raise SemverError(f"a version range is a string such as '^1.4', not {type(text).__name__}")
        alts = []
        for part in text.split("||"):
            alts.append(tuple(cls._parse_set(part, text)))
        return cls(text, tuple(alts))

    @staticmethod
    def _parse_set(part: str, source: str) -> list[_Cmp]:
        part = part.strip()
        if part in ("", "*", "x", "X"):
            return [_Cmp(">=", _v(0))]
        m = _HYPHEN.fullmatch(part)
        if m:
            low, _ = _partial(m.group(1), source)
            out = [_Cmp(">=", _v(low[0] or 0, low[1] or 0, low[2] or 0, _partial(m.group(1), source)[1]))]
            hi, hi_pre = _partial(m.group(2), source)
            if None not in hi:
                out.append(_Cmp("<=", _v(hi[0], hi[1], hi[2], hi_pre)))  # type: ignore[arg-type]
            elif hi[0] is not None:
                out.append(_upper(hi[0] + 1) if hi[1] is None else _upper(hi[0], hi[1] + 1))
            return out
        out: list[_Cmp] = []
        pos = 0
        while pos < len(part):
            while pos < len(part) and part[pos] in " \t,":
                pos += 1
            if pos >= len(part):
                break
            m = _SIMPLE.match(part, pos)
            if m is None or m.end() == pos:
                raise SemverError(f"cannot read {part[pos:]!r} in the version range {source!r}")
            out.extend(_desugar(m.group(1) or "", m.group(2), source))
            pos = m.end()
        return out

    def matches(self, version: Version | str) -> bool:
        """Whether ``version`` is in the range."""
        v = Version.parse(version)
        for cmps in self.alternatives:
            if not all(c.holds(v) for c in cmps):
                continue
            if v.prerelease and not any(c.version.prerelease and not c.synthetic and c.version.core == v.core
                                        for c in cmps):
                continue
            return True
        return False

    def sql(self, sort_key: Any, prerelease: Any, major: Any, minor: Any, patch: Any) -> Any:
        """The same test as :meth:`matches` as a SQLAlchemy condition on version columns."""
        from sqlalchemy import and_, false, or_

        alts = []
        for cmps in self.alternatives:
            conds = []
            for c in cmps:
                k = c.version.key
                conds.append({"<": sort_key < k, "<=": sort_key <= k, ">": sort_key > k, ">=": sort_key >= k,
                              "=": sort_key == k, "!=": sort_key != k}[c.op])
            cores = {c.version.core for c in cmps if c.version.prerelease and not c.synthetic}
            pre_ok = [and_(major == a, minor == b, patch == p) for a, b, p in sorted(cores)]
            conds.append(or_(prerelease.is_(None), *pre_ok))
            alts.append(and_(*conds))
        return or_(*alts) if alts else false()

    def __str__(self) -> str:
        return self.text
