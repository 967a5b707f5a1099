"""Write the golden model files of the current format version (run once per new format version).

    .venv/bin/python tests/golden/make_golden.py

Every later toolbox must keep loading what this wrote, with the same outputs
(``tests/test_io_golden.py``). Never regenerate an existing version's folder.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import make_pipeline

import toolbox as tb
import toolbox.io
from toolbox.cluster import KMeans
from toolbox.ensemble import HistGradientBoostingClassifier
from toolbox.linear_model import LogisticRegression, Ridge
from toolbox.model_selection import GridSearchCV
from toolbox.preprocessing import OneHotEncoder, StandardScaler


def models() -> dict:
    rng = np.random.default_rng(42)
    X = rng.normal(size=(60, 4))
    y3 = np.array(["bird", "cat", "dog"], dtype=object)[np.argmax(X[:, :3], axis=1)]
    yr = X @ np.array([1.0, -1.0, 2.0, 0.5])
    df = pd.DataFrame(X, columns=["age", "income", "visits", "score"])
    Xi = rng.integers(0, 3, size=(60, 2)).astype(np.float64)
    hgb_X = X.copy()
    hgb_X[::9, 2] = np.nan
    out = {
        "logistic_regression": (LogisticRegression(C=0.5).fit(X, y3 == "cat"), X, "predict_proba"),
        "pipeline_strings": (make_pipeline(StandardScaler(), LogisticRegression()).fit(df, y3), df, "predict_proba"),
        "hgb_classifier": (HistGradientBoostingClassifier(max_iter=8, max_leaf_nodes=5, random_state=0)
                           .fit(hgb_X, y3), hgb_X, "predict_proba"),
        "kmeans": (KMeans(n_clusters=3, n_init=1, random_state=0).fit(X), X, "transform"),
        "onehot": (OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(Xi), Xi, "transform"),
        "grid_search": (GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=3).fit(X, yr), X, "predict"),
    }
    try:
        import torch

        Xt = torch.asarray(X)
        out["ridge_torch"] = (Ridge(alpha=0.3).fit(Xt, torch.asarray(yr)), X, "predict")
    except ImportError:
        print("torch missing: no ridge_torch", file=sys.stderr)
    return out


def main() -> None:
    root = Path(__file__).parent / f"v{tb.io.FORMAT_VERSION}"
    if root.exists():
        sys.exit(f"{root} exists: golden files are never regenerated")
    root.mkdir()
    for name, (est, X, method) in models().items():
        tb.save(est, root / name)
        Xn = X.to_numpy() if isinstance(X, pd.DataFrame) else X
        result = np.asarray(tb.to_backend(getattr(est, method)(X), "numpy"))
        expected = {"method": method, "pandas_columns": list(X.columns) if isinstance(X, pd.DataFrame) else None,
                    "X": [[None if np.isnan(v) else v for v in row] for row in Xn.tolist()],
                    "result": result.tolist(), "dtype": str(result.dtype)}
        (root / f"{name}.expected.json").write_text(json.dumps(expected))
        print(name, method, result.shape)


if __name__ == "__main__":
    main()
