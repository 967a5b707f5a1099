"""docs/registry.md: its python blocks run, in order, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

import toolbox.registry as registry

DOC = Path(__file__).resolve().parent.parent / "docs" / "registry.md"


def test_registry_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for k in ("TOOLBOX_TRACKING_URI", "TOOLBOX_REGISTRY_URI", "TOOLBOX_ARTIFACT_ROOT"):
        monkeypatch.delenv(k, raising=False)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 7, "docs/registry.md lost its examples"
    scope: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/registry.md block {i + 1}", "exec"), scope)
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)
    out = capsys.readouterr().out
    assert "1.0.0 1.1.0" in out and "promote 1.0.0 -> 1.1.0 auc 0.91 vs 0.83" in out
    assert (tmp_path / "toolbox-runs" / "toolbox.db").exists()
