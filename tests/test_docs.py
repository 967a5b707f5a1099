"""Keep the README true: its quickstart and every other python block run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_quickstart_runs(capsys, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    pytest.importorskip("optuna")
    monkeypatch.chdir(tmp_path)  # toolbox.fit tracks into ./toolbox-runs, the model goes to ./cancer-model
    text = README.read_text()
    block = re.search(r"## 30-second quickstart\n\n```python\n(.*?)```", text, re.S)
    assert block, "README.md lost its quickstart code block"
    exec(compile(block.group(1), "README.md quickstart", "exec"), {})
    out = capsys.readouterr().out
    assert "torch.Tensor" in out  # predictions mirror the torch input
    assert "binary - y has 2 distinct integer values out of 569 rows" in out
    assert (tmp_path / "cancer-model" / "checksums.json").exists()


def test_readme_other_examples_run(capsys, tmp_path, monkeypatch):
    pytest.importorskip("sqlalchemy")
    import toolbox as tb

    monkeypatch.chdir(tmp_path)
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)[1:]  # the quickstart has its own test
    assert blocks
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"README.md block {i + 1}", "exec"), {"tb": tb})
    finally:
        tb.set_config(autolog=False)
    assert "('baseline', 0.333" in capsys.readouterr().out
