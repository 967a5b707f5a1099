"""Validation of what users log: names, metric values, steps, parameter values."""

from __future__ import annotations

import numbers
import operator
import re
from typing import Any

from ..store._errors import FilterSyntaxError

__all__ = ["FilterSyntaxError", "check_name", "check_step", "metric_value", "param_value"]



#: letters, digits, and ``_ - . / : space``; at most 250 characters
NAME_RE = re.compile(r"[A-Za-z0-9_\-./: ]{1,250}")
_VALID: set[tuple[str, str]] = set()


def check_name(kind: str, name: Any) -> str:
    """Return ``name`` if it is a valid metric/parameter/tag/experiment name, else raise ``ValueError``."""
    if (kind, name) in _VALID:  # the hot path of log_metric: one set lookup
        return name
    if not isinstance(name, str):
        raise TypeError(f"The {kind} name must be a string, got {type(name).__name__} {name!r}.")
    if not NAME_RE.fullmatch(name) or name.strip() != name or name.startswith("/") or ".." in name:
        raise ValueError(
            f"Invalid {kind} name {name!r}: use 1 to 250 letters, digits, '_', '-', '.', '/', ':' or spaces "
            "(no leading '/' or surrounding spaces, no '..').")
    if len(_VALID) < 100_000:
        _VALID.add((kind, name))
    return name


def metric_value(name: str, value: Any) -> float:
    """``value`` as a float (NaN and ±inf kept); a 0-d array of any backend is accepted."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise TypeError(f"Metric {name!r}: the value must be a number, got {type(value).__name__} {value!r}.")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Metric {name!r}: the value must be a number (or a 0-d array), got "
                        f"{type(value).__name__} {value!r}.") from exc


def check_step(name: str, step: Any) -> int:
    """``step`` as an int; a float, bool or string is an error naming the metric."""
    if type(step) is int:
        return step
    if isinstance(step, bool):
        raise TypeError(f"Metric {name!r}: the step must be an integer, got the bool {step!r}.")
    try:
        return operator.index(step)
    except TypeError:
        raise TypeError(f"Metric {name!r}: the step must be an integer, got {type(step).__name__} "
                        f"{step!r}.") from None


def param_value(value: Any, *, limit: int | None = None) -> str:
    """The stored text of a parameter value: ``str`` for numbers, strings and None, ``repr`` otherwise.

    NumPy scalars become their Python value; estimators become their class name
    with parameters; ``limit`` truncates long texts (autologging).
    """
    if isinstance(value, str):
        text = value
    elif value is None or isinstance(value, (bool, numbers.Number)):
        item = getattr(value, "item", None)
        v = item() if callable(item) and not isinstance(value, (int, float, bool)) else value
        text = str(v)
    else:
        text = repr(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 3] + "..."
    return text
