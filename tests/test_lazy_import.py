"""``import toolbox`` must not import any heavy framework."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["torch", "jax", "cupy", "numba", "array_api_strict", "transformers", "huggingface_hub", "plotly", "optuna",
         "safetensors", "starlette", "uvicorn", "dask", "distributed"]


def test_import_toolbox_is_lazy():
    code = (
        "import sys, toolbox, toolbox.base, toolbox.backends, toolbox.preprocessing, toolbox.testing,"
        " toolbox.linear_model, toolbox.cluster, toolbox.decomposition, toolbox.impute, toolbox.metrics,"
        " toolbox.model_selection, toolbox.ensemble, toolbox.io, toolbox.cache;"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"imported eagerly: {out.stdout.strip()}"


def test_numpy_work_does_not_import_gpu_frameworks():
    code = (
        "import sys, numpy as np, toolbox as tb; from toolbox.preprocessing import StandardScaler;"
        "tb.set_backend('numpy'); StandardScaler().fit_transform(np.ones((5, 2)));"
        "print(' '.join(m for m in ['torch', 'jax', 'cupy', 'numba'] if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_plain_import_is_light():
    code = "import sys, toolbox; print(' '.join(m for m in ['sklearn', 'scipy', 'pandas'] if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_numpy_model_files_do_not_import_gpu_frameworks(tmp_path):
    code = (
        "import sys, numpy as np, toolbox as tb; from toolbox.linear_model import Ridge;"
        f"tb.save(Ridge().fit(np.eye(4), np.arange(4.0)), {str(tmp_path / 'm')!r});"
        f"tb.load({str(tmp_path / 'm')!r}).predict(np.eye(4));"
        "print(' '.join(m for m in ['torch', 'jax', 'cupy'] if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_cache_is_not_imported_until_used():
    code = (
        "import sys, numpy as np, toolbox as tb; from toolbox.linear_model import LogisticRegression;"
        "X = np.random.default_rng(0).standard_normal((20, 2)); y = (X[:, 0] > 0).astype(int);"
        "LogisticRegression().fit(X, y); a = 'toolbox.cache' in sys.modules;"
        "tb.set_config(cache=True); LogisticRegression().fit(X, y);"
        "print(a, 'toolbox.cache' in sys.modules, 'torch' in sys.modules or 'jax' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "False"]
