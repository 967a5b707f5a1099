"""pytest plugin of the conformance runner (scripts/upstream-tests.sh): touch tracking and failure buckets.

Loaded with ``-p plugin`` by :mod:`run` into a pytest session over copies of
scikit-learn's own test modules whose ``from sklearn.<family> import ...``
lines were rewritten to take toolbox's public names from ``toolbox.<family>``.

* **Touched**: every public toolbox function, and every method defined in a
  toolbox class (``__init__``, ``fit``, ``predict``, ...), is wrapped so that a
  call sets a per-test flag. Only tests whose setup, call or teardown set it are
  counted by the report.
* **Bucket**: a failing test is classified from its exception (see
  :func:`classify`) and written, one JSON line per test, to
  ``$TOOLBOX_UPSTREAM_OUT/results-<worker>.jsonl``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import re
import traceback
from pathlib import Path
from typing import Any

import pytest

FAMILIES = (
    "preprocessing", "impute", "linear_model", "discriminant_analysis", "naive_bayes", "cluster",
    "decomposition", "neighbors", "ensemble", "metrics", "model_selection",
)

_TOUCHED = False
_WRAPPED: set[int] = set()
_TOOLBOX_DIR = ""


def _mark(func: Any) -> Any:
    @functools.wraps(func)
    def touched(*args: Any, **kwargs: Any) -> Any:
        global _TOUCHED
        _TOUCHED = True
        return func(*args, **kwargs)

    touched.__toolbox_upstream_wrapped__ = True  # type: ignore[attr-defined]
    return touched


def _instrument_class(cls: type) -> None:
    for klass in cls.__mro__:
        if not klass.__module__.startswith("toolbox") or id(klass) in _WRAPPED:
            continue
        _WRAPPED.add(id(klass))
        for name, value in list(vars(klass).items()):
            if not inspect.isfunction(value) or getattr(value, "__toolbox_upstream_wrapped__", False):
                continue
            if name.startswith("_") and name not in ("__init__", "__call__"):
                continue
            setattr(klass, name, _mark(value))


def instrument() -> None:
    """Wrap toolbox's public objects of every family (in place, before the test modules import them)."""
    global _TOOLBOX_DIR
    import toolbox

    _TOOLBOX_DIR = str(Path(toolbox.__file__).parent)
    for fam in FAMILIES:
        mod = importlib.import_module(f"toolbox.{fam}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                _instrument_class(obj)
            elif inspect.isfunction(obj) and not getattr(obj, "__toolbox_upstream_wrapped__", False):
                setattr(mod, name, _mark(obj))


# --------------------------------------------------------------------------- #
# Buckets
# --------------------------------------------------------------------------- #

_UNSUPPORTED_WORDS = re.compile(r"not supported|not implemented|unsupported|is not available in toolbox", re.I)


def _innermost_in_toolbox(excinfo: pytest.ExceptionInfo) -> bool:
    tb = excinfo.value.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return bool(last and last.startswith(_TOOLBOX_DIR))


def _any_in_toolbox(excinfo: pytest.ExceptionInfo) -> bool:
    tb = excinfo.value.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(_TOOLBOX_DIR):
            return True
        tb = tb.tb_next
    return False


def _where(excinfo: pytest.ExceptionInfo) -> str:
    """``file:line`` of the innermost frame inside toolbox, else the innermost frame."""
    frames = traceback.extract_tb(excinfo.value.__traceback__)
    inside = [f for f in frames if f.filename.startswith(_TOOLBOX_DIR)]
    f = (inside or frames or [None])[-1]
    if f is None:
        return ""
    name = f.filename
    if name.startswith(_TOOLBOX_DIR):
        name = "toolbox" + name[len(_TOOLBOX_DIR):]
    elif "site-packages/" in name:
        name = name.split("site-packages/", 1)[1]
    return f"{name}:{f.lineno}"


def classify(excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    """(bucket, sub-bucket) of a failure. Buckets: unsupported, wrong-answer, missing-warning-message, internal-error."""
    exc = excinfo.value
    msg = str(exc)
    low = msg.lower()
    name = type(exc).__name__
    from_toolbox = _innermost_in_toolbox(excinfo)
    if name == "Failed" or isinstance(exc, pytest.fail.Exception):
        if msg.startswith("Timeout"):
            return "internal-error", "timeout"
        if "DID NOT WARN" in msg:
            return "missing-warning-message", "no warning"
        if "DID NOT RAISE" in msg:
            return "missing-warning-message", "no error raised"
        return "wrong-answer", "pytest.fail"
    if isinstance(exc, AssertionError):
        if "Regex pattern did not match" in msg or ("does not match" in low and "regex" in low):
            return "missing-warning-message", "different message"
        return "wrong-answer", "assertion"
    if isinstance(exc, TypeError) and "unexpected keyword argument" in msg:
        return "unsupported", "parameter"
    if isinstance(exc, (TypeError, ValueError, NotImplementedError)) and (
            "sparse" in low and (from_toolbox or "dense data is required" in low)):
        return "unsupported", "sparse"
    if isinstance(exc, NotImplementedError) and from_toolbox:
        return "unsupported", "parameter"
    if isinstance(exc, (TypeError, ValueError)) and from_toolbox and _UNSUPPORTED_WORDS.search(msg) \
            and "toolbox" in low:
        return "unsupported", "parameter"
    if isinstance(exc, ValueError) and "Invalid parameter" in msg and "for estimator" in msg:
        return "unsupported", "parameter"
    if isinstance(exc, (ValueError, TypeError)) and from_toolbox and ("nan" in low or "infinite" in low):
        return "unsupported", "nan/inf input"
    if isinstance(exc, AttributeError) and ("object has no attribute" in msg or "has no attribute" in msg):
        return "unsupported", "missing attribute/method"
    if isinstance(exc, ImportError) and "toolbox" in low:
        return "unsupported", "missing public name"
    if isinstance(exc, (ValueError, TypeError)) and from_toolbox:
        return "internal-error", "toolbox validation refused the input"
    return "internal-error", name


# --------------------------------------------------------------------------- #
# Hooks
# --------------------------------------------------------------------------- #

_STATE: dict[str, dict[str, Any]] = {}
_OUT: Any = None


def pytest_configure(config: pytest.Config) -> None:
    global _OUT
    instrument()
    out_dir = os.environ.get("TOOLBOX_UPSTREAM_OUT")
    if out_dir:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        _OUT = open(Path(out_dir) / f"results-{worker}.jsonl", "a", encoding="utf-8")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _OUT is not None:
        _OUT.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _TOUCHED
    _TOUCHED = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    outcome = yield
    report = outcome.get_result()
    state = _STATE.setdefault(item.nodeid, {"outcome": "passed"})
    if report.when == "call" and getattr(report, "wasxfail", None) is not None:
        state["outcome"] = "xfailed" if report.skipped else "xpassed"
    elif report.skipped and state["outcome"] == "passed":
        state["outcome"] = "skipped"
        state["reason"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    elif report.failed and state["outcome"] in ("passed", "skipped"):
        state["outcome"] = "failed"
        state["when"] = report.when
        if call.excinfo is not None:
            exc = call.excinfo
            bucket, sub = classify(exc)
            first = str(exc.value).strip().splitlines()
            state.update(bucket=bucket, sub=sub, exception=type(exc.value).__name__,
                         message=(first[0] if first else "")[:300], where=_where(exc),
                         in_toolbox=_any_in_toolbox(exc))
        else:
            state.update(bucket="internal-error", sub="unknown", exception="", message="", where="")
    if report.when == "teardown":
        state["touched"] = _TOUCHED
        if _OUT is not None:
            _OUT.write(json.dumps({"nodeid": item.nodeid, **state}) + "\n")
            _OUT.flush()
        _STATE.pop(item.nodeid, None)
