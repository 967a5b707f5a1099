"""Keep ``__all__`` honest: every exported name exists, and every public definition is exported."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "toolbox",
    "toolbox.cluster",
    "toolbox.decomposition",
    "toolbox.discriminant_analysis",
    "toolbox.ensemble",
    "toolbox.impute",
    "toolbox.linear_model",
    "toolbox.metrics",
    "toolbox.model_selection",
    "toolbox.naive_bayes",
    "toolbox.neighbors",
    "toolbox.backends",
    "toolbox.backends.primitives",
    "toolbox.backends.random",
    "toolbox.base",
    "toolbox.exceptions",
    "toolbox.preprocessing",
    "toolbox.testing",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_honest(name):
    mod = importlib.import_module(name)
    exported = mod.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for attr in exported:
        assert hasattr(mod, attr), f"{name}.__all__ names {attr!r}, which does not exist"
    for attr, value in vars(mod).items():
        if attr.startswith("_") or inspect.ismodule(value):
            continue
        if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == name:
            assert attr in exported, f"{name}.{attr} is public but missing from __all__"
