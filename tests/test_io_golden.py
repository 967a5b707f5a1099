"""Format stability: model files written by earlier toolbox versions keep loading, with the same outputs.

``tests/golden/v<N>/`` was written once by ``tests/golden/make_golden.py`` when
format version N was current; these folders are never regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import toolbox as tb
import toolbox.io

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("v*/*") if p.is_dir())


def test_every_format_version_has_golden_files():
    versions = {int(p.parent.name[1:]) for p in CASES}
    assert versions == set(range(1, toolbox.io.FORMAT_VERSION + 1))
    assert len(CASES) >= 6


@pytest.mark.parametrize("folder", CASES, ids=[f"{p.parent.name}-{p.name}" for p in CASES])
def test_golden_model_loads_with_the_same_outputs(folder):
    expected = json.loads(folder.with_name(folder.name + ".expected.json").read_text())
    if folder.name.endswith("_torch"):
        pytest.importorskip("torch")
    model = tb.load(folder)
    X = np.array([[np.nan if v is None else v for v in row] for row in expected["X"]])
    if expected["pandas_columns"]:
        import pandas as pd

        X = pd.DataFrame(X, columns=expected["pandas_columns"])
    result = np.asarray(tb.to_backend(getattr(model, expected["method"])(X), "numpy"))
    assert str(result.dtype) == expected["dtype"]
    np.testing.assert_allclose(result, np.array(expected["result"], dtype=result.dtype), rtol=1e-9, atol=1e-12)
    on_numpy = tb.load(folder, backend="numpy")
    np.testing.assert_allclose(np.asarray(getattr(on_numpy, expected["method"])(X)), result, rtol=1e-9, atol=1e-12)
