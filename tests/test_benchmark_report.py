"""benchmarks/report.py renders the performance report from a results file (no timing involved)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(case, backend, n, tb, sk, *, target=1.0, role="table", q=(1.0, 1.0), features=10):
    rel = abs(q[0] - q[1]) / abs(q[1])
    return {
        "id": f"{case}-{backend}-{n}x{features}-float64", "case": case, "estimator": f"{case}()",
        "module": "toolbox.x", "op": "fit", "backend": backend, "library": backend.split("-")[0],
        "device": "cpu", "dtype": "float64", "dataset": "regression", "n_samples": n, "n_features": features,
        "n_queries": 0, "shape": f"{n:,} x {features}", "role": role,
        "toolbox": {"median_s": tb, "min_s": tb * 0.9, "max_s": tb * 1.2, "rounds": 3,
                    "peak_memory_bytes": 3 * 2**20, "memory_method": "tracemalloc", "warnings": []},
        "sklearn": {"median_s": sk, "min_s": sk * 0.9, "max_s": sk * 1.1, "rounds": 3,
                    "peak_memory_bytes": 2**20, "memory_method": "tracemalloc", "warnings": ["W: slow"]},
        "ratio": tb / sk, "target": target, "target_applies": role == "table" and backend == "numpy",
        "meets_target": tb / sk <= target,
        "quality": {"name": "r2", "description": "R^2", "higher_is_better": True, "toolbox": q[0],
                    "sklearn": q[1], "rel_diff": rel, "agrees": rel <= 1e-3},
    }


@pytest.fixture
def results(tmp_path):
    rows = [
        _row("Ridge", "numpy", 1000, 0.5, 1.0, target=0.7),             # ratio 0.5 -> PASS
        _row("Lasso", "numpy", 1000, 2.0, 1.0, target=1.0, q=(0.9, 1.0)),  # ratio 2 -> MISS; quality differs
        _row("Ridge", "torch-cpu", 1000, 1.0, 1.0, target=0.7),
        _row("Lasso", "torch-cpu", 1000, 4.0, 1.0, target=1.0),
        _row("Ridge", "numpy", 100, 0.01, 0.02, role="sweep"),
        _row("Ridge", "numpy", 10000, 5.0, 6.0, role="sweep"),
        _row("Ridge", "torch-cpu", 10000, 4.0, 6.0, role="sweep"),
    ]
    doc = {
        "schema": 1, "mode": "quick", "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00", "command": "pytest benchmarks",
        "backends": ["numpy", "torch-cpu"],
        "machine": {"cpu_model": "Test CPU", "logical_cores": 2, "physical_cores": 2, "gpus": [],
                    "load_average_start": [0.1, 0.1, 0.1], "load_average_end": [0.2, 0.1, 0.1]},
        "versions": {"numpy": "2.0", "scikit-learn": "1.9"},
        "threads": {"OMP_NUM_THREADS": "2", "threadpools": [{"internal_api": "openblas", "num_threads": 2}]},
        "settings": {"quality_rtol": 1e-3, "geomean_target": 0.5, "backend_factor": 2.0},
        "rows": rows,
        "skipped": [{"id": "KMeans-numpy-1000x10-float64", "reason": "toolbox toolbox.cluster.KMeans is not "
                     "available: no module"}],
        "failed": [{"id": "PCA-numpy-1000x10-float64", "when": "call", "error": "ValueError: boom"}],
    }
    path = tmp_path / "quick.json"
    path.write_text(json.dumps(doc))
    return path


def test_ratio_and_target_logic(report):
    row = _row("Ridge", "numpy", 10, 0.5, 1.0, target=0.7)
    assert report.ratio(row) == pytest.approx(0.5)
    assert report.meets_target(row) is True
    row = _row("Ridge", "numpy", 10, 0.8, 1.0, target=0.7)
    assert report.meets_target(row) is False
    row["target"] = None
    assert report.meets_target(row) is None
    assert report.geomean([0.5, 2.0]) == pytest.approx(1.0)
    assert report.geomean([0.25, 1.0, None]) == pytest.approx(0.5)
    assert report.geomean([]) is None


def test_backend_geomeans(report, results):
    doc = json.loads(results.read_text())
    g = report.backend_geomeans(doc)
    assert g["numpy"]["geomean"] == pytest.approx(1.0)  # sqrt(0.5 * 2)
    assert g["torch-cpu"]["geomean"] == pytest.approx(2.0)  # sqrt(1 * 4)
    assert g["torch-cpu"]["vs_numpy"] == pytest.approx(2.0)


def test_render_writes_table_and_plots(report, results, tmp_path):
    out = tmp_path / "docs" / "performance.md"
    img = tmp_path / "docs" / "img"
    text = report.render([results], out, img)
    assert out.read_text() == text
    assert text.startswith("# Performance")
    assert report.MARKER in text
    assert "quick mode" in text

    lines = text.splitlines()
    ridge = next(line for line in lines if line.startswith("| Ridge() |"))
    lasso = next(line for line in lines if line.startswith("| Lasso() |"))
    gm = next(line for line in lines if line.startswith("| **geometric mean** | 2 estimators"))
    assert "**0.50**" in ridge and "| PASS |" in ridge and "| yes |" in ridge
    assert "**2.00**" in lasso and "| MISS |" in lasso and "**no**" in lasso
    assert "**1.00**" in gm and "| MISS |" in gm  # geometric mean 1.0 > 0.5
    # memory columns in MiB
    assert "| 1.0 | 3.0 |" in ridge
    # backend matrix, the quality mark and the torch-vs-NumPy check (exactly 2x: within the limit)
    assert any(line.startswith("| Lasso | 2.00 ✗ | 4.00 |") for line in lines)
    check = next(line for line in lines if line.startswith("- torch-cpu: geometric mean"))
    assert "2.00 times numpy's" in check and "**PASS**" in check
    # the sweep table and the skipped / failed entries
    assert "| 10,000 | 5.00 | 4.00 | 6.00 |" in text
    assert "PCA-numpy-1000x10-float64 (call): ValueError: boom" in text
    assert "KMeans-numpy-1000x10-float64" in text

    for name in ("perf-quick-ratio.png", "perf-quick-scaling.png"):
        png = img / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"](img/{name})" in text


def test_targets_on_the_numba_rows_with_the_pure_numpy_column(report, results, tmp_path):
    """With ``target_backend = "numba"`` the targets table shows the numba rows plus NumPy's ratio."""
    doc = json.loads(results.read_text())
    doc["settings"]["target_backend"] = "numba"
    for r in doc["rows"]:
        r["target_applies"] = False
    numba_rows = [_row("Ridge", "numba", 1000, 0.3, 1.0, target=0.7), _row("Lasso", "numba", 1000, 0.8, 1.0)]
    for r in numba_rows:
        r["target_applies"] = True
    doc["rows"] += numba_rows
    path = tmp_path / "numba.json"
    path.write_text(json.dumps(doc))
    text = report.render([path], tmp_path / "performance.md", tmp_path / "img")
    assert "Targets: NumPy path (NumPy + numba kernels" in text
    ridge = next(line for line in text.splitlines() if line.startswith("| Ridge() |"))
    assert "**0.30**" in ridge and "| PASS |" in ridge and ridge.rstrip().endswith("| 0.50 |")  # numpy's ratio
    gm = next(line for line in text.splitlines() if line.startswith("| **geometric mean** | 2 estimators"))
    assert "**0.49**" in gm and gm.rstrip().endswith("| 1.00 |")  # sqrt(0.3 * 0.8); numpy: sqrt(0.5 * 2)
    assert report.backend_geomeans(doc)["torch-cpu"]["vs_numpy"] == pytest.approx(2.0 / 0.3**0.5 / 0.8**0.5)


def test_render_keeps_hand_written_header(report, results, tmp_path):
    out = tmp_path / "performance.md"
    out.write_text(f"# My header\n\nhand-written\n\n{report.MARKER}\n\nold generated text\n")
    text = report.render([results], out, tmp_path / "img")
    assert text.startswith("# My header\n\nhand-written\n")
    assert "old generated text" not in text
    assert text.count(report.MARKER) == 1


def test_render_without_results(report, tmp_path):
    out = tmp_path / "p.md"
    text = report.render([], out, tmp_path / "img")
    assert "No results yet" in text
    assert not (tmp_path / "img").exists()


def _with_peers(row, peers, *, budget=None, in_geomean=False, peer_target=1.1):
    """A gradient-boosting-like row: peer records (name -> (median s, MiB)), a memory budget, outside the geomean."""
    tb = row["toolbox"]["median_s"]
    row["in_geomean"] = in_geomean
    row["peers"] = {
        name: {"estimator": f"{name.upper()}Model(n_jobs=<cores>)", "version": "1.0", "median_s": t,
               "min_s": t, "max_s": t, "rounds": 2, "peak_memory_bytes": mib * 2**20, "memory_method": "rss-hwm",
               "warnings": [], "quality": 0.5, "quality_rel_diff_vs_sklearn": 0.5, "ratio": tb / t}
        for name, (t, mib) in peers.items()}
    row["peers"]["xgboost"] = row["peers"].get("xgboost") or {"estimator": "XGBModel()",
                                                              "skipped": "xgboost is not installed"}
    timed = {k: v for k, v in row["peers"].items() if "median_s" in v}
    best = min(timed, key=lambda k: timed[k]["median_s"])
    row.update(peer_best=best, ratio_vs_best_peer=timed[best]["ratio"], peer_target=peer_target,
               peer_target_of="lightgbm", meets_peer_target=row["peers"]["lightgbm"]["ratio"] <= peer_target)
    if budget is not None:
        row["memory_budget"] = {"bytes": budget * 2**20, "rule": "1.5 x n_samples x n_features bytes + 64 MiB",
                                "within": row["toolbox"]["peak_memory_bytes"] <= budget * 2**20}
    for lib in ("toolbox", "sklearn"):
        row[lib]["memory_method"] = "rss-hwm"
    return row


def test_peers_column_section_and_memory_budget(report, results, tmp_path):
    """Rows with peers: a "vs best peer" column, a Peers section, the memory budgets; kept out of the geomean."""
    doc = json.loads(results.read_text())
    hgb = _with_peers(_row("HistGradientBoostingClassifier", "numpy", 1000, 2.0, 4.0, target=0.7),
                      {"lightgbm": (1.6, 10.0)}, budget=2)  # toolbox 3 MiB: over a 2 MiB budget
    hgb_numba = _with_peers(_row("HistGradientBoostingClassifier", "numba", 1000, 1.0, 4.0, target=0.7),
                            {"lightgbm": (2.0, 10.0), "xgboost": (0.5, 20.0)}, budget=64)
    hgb_numba["target_applies"] = False
    doc["rows"] += [hgb, hgb_numba]
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(doc))
    text = report.render([path], tmp_path / "performance.md", tmp_path / "img")
    lines = text.splitlines()

    # targets table: the extra column, the row's best peer; the geometric mean leaves the row out
    header = next(line for line in lines if line.startswith("| estimator | data | timed |"))
    assert header.rstrip().endswith("| toolbox MiB | vs best peer |")
    row = next(line for line in lines if line.startswith("| HistGradientBoostingClassifier() |"))
    assert "**0.50**" in row and "| PASS |" in row and row.rstrip().endswith("| 1.25 (lightgbm) |")
    ridge = next(line for line in lines if line.startswith("| Ridge() |"))
    assert ridge.rstrip().endswith("| — |")  # no peers
    gm = next(line for line in lines if line.startswith("| **geometric mean** | 2 estimators"))
    assert "**1.00**" in gm  # Ridge and Lasso only, as before
    assert "not in it: HistGradientBoostingClassifier" in text
    assert report.backend_geomeans(doc)["numpy"]["n"] == 2

    # the Peers section: times, ratios, target against LightGBM, quality; skipped peer named
    assert "### Peers" in text
    peers = [line for line in lines if line.startswith("| HistGradientBoostingClassifier | 1,000 x 10 |")]
    numpy_line = next(line for line in peers if "| numpy |" in line)
    numba_line = next(line for line in peers if "| numba |" in line)
    assert "| 2.00 | 4.00 | 1.60 | — | 1.25 | — | 1.25 (lightgbm) | ≤ 1.1 (lightgbm) | MISS |" in numpy_line
    # PASS/MISS only where the targets apply (this numba row is marked as not)
    assert "| 1.00 | 4.00 | 2.00 | 0.5 | 0.50 | 2.00 | 2.00 (xgboost) | ≤ 1.1 (lightgbm) | — |" in numba_line
    assert "- xgboost: xgboost is not installed: HistGradientBoostingClassifier-numpy-1000x10-float64" in text
    assert "- lightgbm: `LIGHTGBMModel(n_jobs=<cores>)`" in text
    assert report.best_peer(hgb_numba) == ("xgboost", pytest.approx(2.0))
    assert report.peer_ratios(hgb) == {"lightgbm": pytest.approx(1.25)}
    assert report.best_peer(_row("Ridge", "numpy", 10, 1.0, 1.0)) is None

    # memory budgets: toolbox against the budget, scikit-learn and the peers beside it
    assert "**Memory budgets**" in text and "1.5 x n_samples x n_features bytes + 64 MiB" in text
    budget = [line for line in lines if line.startswith("| HistGradientBoostingClassifier | 1,000 x 10 | num")
              and "rss-hwm" in line]
    assert any("| numpy | 2.0 | 3.0 | MISS | 1.0 | 10.0 | — | rss-hwm |" in line for line in budget)
    assert any("| numba | 64.0 | 3.0 | PASS | 1.0 | 10.0 | 20.0 | rss-hwm |" in line for line in budget)
    assert "Measured by the process's RSS on every CPU backend" in text


def test_render_without_peers_has_no_peer_column(report, results, tmp_path):
    text = report.render([results], tmp_path / "performance.md", tmp_path / "img")
    assert "vs best peer" not in text and "### Peers" not in text and "Memory budgets" not in text
