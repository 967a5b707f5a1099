"""Keep docs/tracking.md true: its ``python`` blocks run, in order, in an empty folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from toolbox.tracking._run import _close_session

DOC = Path(__file__).resolve().parent.parent / "docs" / "tracking.md"


def test_tracking_doc_examples_run(tmp_path, monkeypatch, capsys):
    import toolbox as tb

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 8, "docs/tracking.md lost its examples"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLBOX_TRACKING_URI", raising=False)
    monkeypatch.delenv("TOOLBOX_ARTIFACT_ROOT", raising=False)
    _close_session()
    namespace: dict = {}
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"docs/tracking.md block {i + 1}", "exec"), namespace)
    finally:
        tb.tracking.autolog(disable=True)
        _close_session()
    assert (tmp_path / "toolbox-runs" / "toolbox.db").is_file()  # the default store, where the docs say
    out = capsys.readouterr().out
    assert "finished 1.0 0.2" in out and "already logged as '1.0'" in out and "RuntimeError: out of memory" in out
