"""Buckets of a failed upstream test, from the facts :mod:`plugin` recorded about its exception.

* ``unsupported`` (sub: ``sparse``, ``parameter``, ``nan/inf input``, ``missing attribute/method``):
  toolbox refused the input or a parameter, or lacks what the test used;
* ``wrong-answer``: an assertion on a result failed;
* ``missing-warning-message``: ``pytest.warns``/``pytest.raises`` saw no warning or error, another
  message, or another exception class;
* ``internal-error``: anything else (an exception from toolbox, scikit-learn or a framework; a timeout).

``declared`` (a declared difference, :mod:`declared`) is applied on top of these by :mod:`run`.
"""

from __future__ import annotations

import re

_UNSUPPORTED_WORDS = re.compile(r"not supported|not implemented|unsupported|\(not multilabel", re.I)


def _unsupported(f: dict) -> str | None:
    """The sub-bucket when the exception is toolbox refusing something on purpose, else None."""
    exc, msg = f.get("exception", ""), f.get("message", "")
    low = msg.lower()
    raised_in_toolbox = f.get("raised_in_toolbox", False)
    if exc == "TypeError" and "unexpected keyword argument" in msg:
        return "parameter"
    if exc in ("TypeError", "ValueError", "NotImplementedError") and "sparse" in low and (
            raised_in_toolbox or "dense data is required" in low):
        return "sparse"
    if exc == "NotImplementedError" and raised_in_toolbox:
        return "parameter"
    if exc in ("TypeError", "ValueError") and raised_in_toolbox and "toolbox" in low \
            and _UNSUPPORTED_WORDS.search(msg):
        return "parameter"
    if exc in ("ValueError", "InvalidParameterError") and "Invalid parameter" in msg and "for estimator" in msg:
        return "parameter"
    if exc in ("ValueError", "TypeError") and raised_in_toolbox and ("nan" in low or "infinite" in low):
        return "nan/inf input"
    if raised_in_toolbox and ("toolbox estimators need numeric data" in msg or "holds non-numeric" in msg):
        return "non-numeric input"
    if exc == "InvalidParameterError" and f.get("through_toolbox"):  # toolbox's constraints, narrower than sklearn's
        return "parameter"
    if exc == "AttributeError" and "has no attribute" in msg:
        return "missing attribute/method"
    if exc == "ImportError" and "toolbox" in low:
        return "missing public name"
    return None


def classify(rec: dict) -> tuple[str, str]:
    """(bucket, sub-bucket) of a failed test's record."""
    exc, msg = rec.get("exception", ""), rec.get("message", "")
    if exc == "Failed":
        if msg.startswith("Timeout"):
            return "internal-error", "timeout"
        inner = rec.get("context")  # an exception raised inside pytest.warns
        if "DID NOT WARN" in msg and inner:
            if inner.get("raised_in_toolbox") or inner.get("through_toolbox"):
                sub = _unsupported(inner)
                if sub is not None:
                    return "unsupported", sub
                return "internal-error", f"{inner.get('exception')} inside pytest.warns"
        if "DID NOT WARN" in msg or ("did not match any of the" in msg and "warnings emitted" in msg):
            return "missing-warning-message", "no (matching) warning"
        if "DID NOT RAISE" in msg:
            return "missing-warning-message", "no error raised"
        return "wrong-answer", "pytest.fail"
    if exc == "AssertionError":
        if msg.startswith("Regex pattern did not match"):
            inner = rec.get("context")  # the exception pytest.raises saw: unsupported only if toolbox refused
            sub = _unsupported(inner) if inner else None
            if sub in ("sparse", "parameter", "missing attribute/method", "missing public name"):
                return "unsupported", sub
            return "missing-warning-message", "different message"
        return "wrong-answer", "assertion"
    sub = _unsupported(rec)
    if sub is not None:
        return "unsupported", sub
    inner = rec.get("context")
    if inner and "fits failed" in msg:  # classify what the fits raised
        sub = _unsupported(inner)
        if sub is not None:
            return "unsupported", sub
        return "internal-error", f"fits failed: {inner.get('exception')}"
    if rec.get("raises_mismatch"):
        return "missing-warning-message", "another exception class"
    if exc in ("ValueError", "TypeError") and rec.get("raised_in_toolbox"):
        return "internal-error", "toolbox refused the input"
    return "internal-error", exc or "setup/teardown"
