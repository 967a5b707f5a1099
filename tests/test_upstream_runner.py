"""The conformance runner's pieces (scripts/upstream): import rewriting, buckets, declared differences.

The runner itself (scikit-learn's test modules with toolbox swapped in) is too slow for the default
suite; ``scripts/upstream-tests.sh`` runs it and writes docs/compatibility.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parent.parent / "scripts" / "upstream"


@pytest.fixture(scope="module")
def runner():
    sys.path.insert(0, str(UPSTREAM))
    try:
        import buckets
        import declared
        import run

        yield run, buckets, declared
    finally:
        sys.path.remove(str(UPSTREAM))


def test_rewrite_swaps_only_toolbox_names_and_keeps_line_numbers(runner):
    run, _, _ = runner
    src = (
        "import numpy as np\n"
        "from sklearn.preprocessing import (\n"
        "    StandardScaler,\n"
        "    QuantileTransformer as QT,\n"
        ")\n"
        "from sklearn.utils import check_array\n"
        "def test_x():\n"
        "    from sklearn.metrics import accuracy_score, make_scorer\n"
        "    from sklearn.preprocessing._label import LabelEncoder, _inverse_binarize_multiclass\n"
        "    return 1\n"
    )
    out, n = run.rewrite(src, run.toolbox_names())
    assert n == 3
    lines = out.splitlines()
    assert len(lines) == len(src.splitlines())
    assert lines[1] == ("from sklearn.preprocessing import QuantileTransformer as QT; "
                        "from toolbox.preprocessing import StandardScaler")
    assert lines[5] == "from sklearn.utils import check_array"
    assert lines[6] == "def test_x():"
    assert lines[7] == "    from sklearn.metrics import make_scorer; from toolbox.metrics import accuracy_score"
    # a private module's name is swapped only when it is the family's public object
    assert lines[8] == ("    from sklearn.preprocessing._label import _inverse_binarize_multiclass; "
                        "from toolbox.preprocessing import LabelEncoder")
    compile(out, "rewritten", "exec")


@pytest.mark.parametrize("record, bucket", [
    ({"exception": "TypeError", "message": "Sparse data was passed for X, but dense data is required.",
      "raised_in_toolbox": True}, ("unsupported", "sparse")),
    ({"exception": "TypeError", "message": "Ridge.__init__() got an unexpected keyword argument 'foo'"},
     ("unsupported", "parameter")),
    ({"exception": "AssertionError", "message": "Not equal to tolerance rtol=1e-07"}, ("wrong-answer", "assertion")),
    ({"exception": "Failed", "message": "DID NOT WARN. No warnings of type ..."},
     ("missing-warning-message", "no (matching) warning")),
    ({"exception": "Failed", "message": "DID NOT RAISE ValueError"}, ("missing-warning-message", "no error raised")),
    ({"exception": "AssertionError", "message": "Regex pattern did not match.\n Expected regex: 'x'",
      "context": {"exception": "ValueError", "message": "y", "raised_in_toolbox": True}},
     ("missing-warning-message", "different message")),
    ({"exception": "ZeroDivisionError", "message": "division by zero", "raised_in_toolbox": True},
     ("internal-error", "ZeroDivisionError")),
    ({"exception": "Failed", "message": "Timeout (>120.0s) from pytest-timeout."}, ("internal-error", "timeout")),
])
def test_buckets(runner, record, bucket):
    _, buckets, _ = runner
    assert buckets.classify(record) == bucket


def test_declared_differences_cover_refusals_only(runner):
    run, _, declared = runner
    assert all(d.reason for d in declared.DECLARED) and len({d.id for d in declared.DECLARED}) == len(declared.DECLARED)
    rec = {"outcome": "failed", "exception": "ValueError", "raised_in_toolbox": True,
           "message": "Input X contains NaN: 3 NaN and 0 infinite value(s); the first is at row 1, column 0."}
    run.bucket(rec)
    assert rec["bucket"] == "declared" and rec["declared"] == "nan-refused"
    # the same words in a wrong message under pytest.raises are a message failure, not a declared one
    rec = {"outcome": "failed", "exception": "AssertionError",
           "message": "Regex pattern did not match.\n Actual message: 'Input X contains NaN: 1 NaN'",
           "context": {"exception": "ValueError", "message": "Input X contains NaN: 1 NaN", "raised_in_toolbox": True}}
    run.bucket(rec)
    assert rec["bucket"] == "missing-warning-message"
