"""Keep the README's quickstart true: its code block must run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_quickstart_runs(capsys):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    text = README.read_text()
    block = re.search(r"## 30-second quickstart\n\n```python\n(.*?)```", text, re.S)
    assert block, "README.md lost its quickstart code block"
    exec(compile(block.group(1), "README.md quickstart", "exec"), {})
    out = capsys.readouterr().out
    assert "torch.Tensor" in out  # predictions mirror the torch input
