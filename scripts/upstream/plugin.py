"""pytest plugin of the conformance runner (scripts/upstream-tests.sh): touch tracking and failure buckets.

Loaded with ``-p plugin`` by :mod:`run` into a pytest session over copies of
scikit-learn's own test modules whose ``from sklearn.<family> import ...``
lines were rewritten to take toolbox's public names from ``toolbox.<family>``.

* **Touched**: every public toolbox function, and every method defined in a
  toolbox class (``__init__``, ``fit``, ``predict``, ...), is wrapped so that a
  call sets a per-test flag. Only tests whose setup, call or teardown set it are
  counted by the report.
* **Facts**: a failing test's exception (class, message, where it was raised,
  whether it came through toolbox) is written, one JSON line per test, to
  ``$TOOLBOX_UPSTREAM_OUT/results-<worker>.jsonl``; :mod:`buckets` turns the
  facts into a bucket, so buckets can be revised without running again.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import re
import sys
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
_ROOT = ""


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
                wrapped = _mark(obj)
                setattr(mod, name, wrapped)
                home = sys.modules.get(obj.__module__)  # pickle finds a function by its defining module
                if home is not None and getattr(home, obj.__qualname__, None) is obj:
                    setattr(home, obj.__qualname__, wrapped)


# --------------------------------------------------------------------------- #
# What a failure was (buckets.py classifies it)
# --------------------------------------------------------------------------- #


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    return traceback.extract_tb(exc.__traceback__)


def _short(filename: str) -> str:
    if filename.startswith(_TOOLBOX_DIR):
        return "toolbox" + filename[len(_TOOLBOX_DIR):]
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if _ROOT and filename.startswith(_ROOT):
        return filename[len(_ROOT):].lstrip("/")
    return filename


_LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning)): (.*)$")


def _first_fit_error(text: str) -> dict[str, Any] | None:
    """The first error of scikit-learn-style 'N fits failed with the following error:' text."""
    if "fits failed with the following error" not in text:
        return None
    block = text.split("fits failed with the following error:", 1)[1].split("-" * 80, 1)[0]
    lines = block.strip().splitlines()
    for line in reversed(lines):
        m = _LAST_LINE.match(line.strip())
        if m:
            frames = [ln for ln in lines if ln.strip().startswith("File ")]
            last = frames[-1] if frames else ""
            return {"exception": m.group(1).rsplit(".", 1)[-1], "message": m.group(2)[:600],
                    "where": last.strip()[:200], "raised_in_toolbox": _TOOLBOX_DIR in last,
                    "through_toolbox": any(_TOOLBOX_DIR in f for f in frames), "raises_mismatch": False}
    return None


def facts(exc: BaseException) -> dict[str, Any]:
    """Exception class, message, where it was raised (innermost toolbox frame, else innermost frame)."""
    frames = _frames(exc)
    inside = [f for f in frames if f.filename.startswith(_TOOLBOX_DIR)]
    f = (inside or frames or [None])[-1]
    return {
        "exception": type(exc).__name__,
        "message": str(exc).strip()[:600],
        "where": f"{_short(f.filename)}:{f.lineno}" if f is not None else "",
        "raised_in_toolbox": bool(frames) and frames[-1].filename.startswith(_TOOLBOX_DIR),
        "through_toolbox": bool(inside),
        "raises_mismatch": bool(getattr(exc, "__toolbox_upstream_raises_mismatch__", False)),
    }


# --------------------------------------------------------------------------- #
# Hooks
# --------------------------------------------------------------------------- #

_STATE: dict[str, dict[str, Any]] = {}
_OUT: Any = None


def _flag_raises_mismatch() -> None:
    """Mark an exception that ``pytest.raises(SomeOtherError)`` let through (it was not the one expected)."""
    from _pytest import raises

    cls = getattr(raises, "RaisesExc", None)
    if cls is None or getattr(cls.__exit__, "__toolbox_upstream_wrapped__", False):
        return
    exit_ = cls.__exit__

    def __exit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        __tracebackhide__ = True
        caught = exit_(self, exc_type, exc_val, exc_tb)
        if not caught and exc_val is not None:
            try:
                exc_val.__toolbox_upstream_raises_mismatch__ = True
            except AttributeError:
                pass
        return caught

    __exit__.__toolbox_upstream_wrapped__ = True  # type: ignore[attr-defined]
    cls.__exit__ = __exit__


def pytest_configure(config: pytest.Config) -> None:
    global _OUT, _ROOT
    _ROOT = str(config.rootpath)
    instrument()
    _flag_raises_mismatch()
    out_dir = os.environ.get("TOOLBOX_UPSTREAM_OUT")
    if out_dir:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        _OUT = open(Path(out_dir) / f"results-{worker}.jsonl", "a", encoding="utf-8")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _OUT is not None:
        _OUT.close()


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module that fails to import (e.g. a toolbox class refusing a parameter at import time) is recorded."""
    if report.failed and _OUT is not None:
        text = str(report.longrepr).strip().splitlines()
        last = next((ln for ln in reversed(text) if ln.startswith("E ")), text[-1] if text else "")
        _OUT.write(json.dumps({"nodeid": report.nodeid, "outcome": "collection-error",
                               "message": last[1:].strip()[:600]}) + "\n")
        _OUT.flush()


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
            exc = call.excinfo.value
            state.update(facts(exc))
            fit_error = _first_fit_error(str(exc))
            if fit_error is not None:  # "All the N fits failed": what the first fit raised
                state["context"] = fit_error
            inner = exc.__context__
            if inner is not None and (isinstance(exc, AssertionError) or type(exc).__name__ == "Failed"):
                # what pytest.raises(match=...) saw, or what was raised inside pytest.warns
                state["context"] = facts(inner)
        else:
            state.update(exception="", message=str(report.longrepr)[:600], where="")
    if report.when == "teardown":
        state["touched"] = _TOUCHED
        if _OUT is not None:
            _OUT.write(json.dumps({"nodeid": item.nodeid, **state}) + "\n")
            _OUT.flush()
        _STATE.pop(item.nodeid, None)
