"""Backend selection: set_backend, use_backend (nestable, context-local), TOOLBOX_BACKEND, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import toolbox as tb
from toolbox.exceptions import BackendNotAvailableError


def test_default_is_auto():
    assert tb.get_backend() == ("auto", None)


def test_set_backend_and_restore():
    try:
        tb.set_backend("torch", device="cpu")
        assert tb.get_backend() == ("torch", "cpu")
    finally:
        tb.set_backend("auto")
    assert tb.get_backend() == ("auto", None)


def test_use_backend_nests_and_restores():
    with tb.use_backend("numpy"):
        assert tb.get_backend()[0] == "numpy"
        with tb.use_backend("jax", device="cpu"):
            assert tb.get_backend() == ("jax", "cpu")
        assert tb.get_backend()[0] == "numpy"
    assert tb.get_backend()[0] == "auto"


def test_use_backend_restores_after_exception():
    with pytest.raises(RuntimeError), tb.use_backend("torch"):
        raise RuntimeError("boom")
    assert tb.get_backend()[0] == "auto"


def test_use_backend_is_thread_local():
    seen = {}
    entered, release = threading.Event(), threading.Event()

    def worker():
        with tb.use_backend("jax"):
            entered.set()
            release.wait(5)
            seen["worker"] = tb.get_backend()[0]

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    seen["main"] = tb.get_backend()[0]  # the worker's block must not leak here
    release.set()
    t.join()
    assert seen == {"main": "auto", "worker": "jax"}


def test_unknown_backend_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown backend 'tensorflow'; valid backends are 'auto', 'numpy'"):
        tb.set_backend("tensorflow")
    with pytest.raises(ValueError, match="Unknown backend"), tb.use_backend("mxnet"):
        pass


def test_missing_backend_names_its_extra(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "cupy" else real(name, *a))
    with pytest.raises(BackendNotAvailableError, match=r"pip install 'toolbox\[cupy\]'"):
        tb.set_backend("cupy")
    assert tb.get_backend()[0] == "auto"


def test_auto_takes_no_device():
    with pytest.raises(ValueError, match="'auto' backend takes no device"):
        tb.set_backend("auto", device="cuda")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_environment_variable_sets_default():
    out = _run("import toolbox as tb; print(tb.get_backend()[0])", TOOLBOX_BACKEND="torch")
    assert out.stdout.strip() == "torch", out.stderr


def test_bad_environment_variable_is_named():
    out = _run("import toolbox as tb; tb.get_backend()", TOOLBOX_BACKEND="tensorflow")
    assert out.returncode != 0
    assert "TOOLBOX_BACKEND: Unknown backend 'tensorflow'" in out.stderr


def test_config_output_type():
    assert tb.get_config()["output_type"] == "input"
    with tb.config_context(output_type="numpy"):
        assert tb.get_config()["output_type"] == "numpy"
    with pytest.raises(ValueError, match="Unknown output_type 'pandas'"):
        tb.set_config(output_type="pandas")
    try:
        tb.set_config(output_type="backend")
        assert tb.get_config()["output_type"] == "backend"
    finally:
        tb.set_config(output_type="input")


def test_available_backends_lists_installed():
    names = tb.available_backends()
    assert "numpy" in names and "auto" not in names
