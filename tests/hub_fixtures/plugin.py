"""Fixtures shared by the hub tests (imported by name from each test module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .guard import no_network
from .tiny import COMMIT, REPO_ID, build_tiny_bert, lay_out_cache

__all__ = ["hf_cache", "no_network", "tiny_cached", "tiny_src"]

pytest.importorskip("transformers")
pytest.importorskip("huggingface_hub")

_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOOLBOX_HUB_OFFLINE", "TOOLBOX_HUB_ALLOW_NETWORK", "HF_ENDPOINT",
        "TOOLBOX_HUB_CACHE", "HF_HOME")


@pytest.fixture(scope="session")
def tiny_src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT (2 layers, 32 wide) with a WordPiece tokenizer trained on the shipped suite."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny") / "tiny-bert")


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HF cache for this test, named by HF_HUB_CACHE; every offline/endpoint variable cleared."""
    for var in _ENV:
        monkeypatch.delenv(var, raising=False)
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def tiny_cached(tiny_src: Path, hf_cache: Path):
    """The tiny BERT laid out in the test's HF cache as ``toolbox-test/tiny-bert``, with alias ``tiny-bert``."""
    from toolbox.hub._aliases import register_alias, unregister_alias

    snap = lay_out_cache(tiny_src, hf_cache)
    register_alias("tiny-bert", REPO_ID, revision=COMMIT, task="feature-extraction", replace=True)
    yield snap
    unregister_alias("tiny-bert")
