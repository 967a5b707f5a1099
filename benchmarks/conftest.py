"""The backend-matrix benchmark: options, the (case x size x backend) matrix, the results file.

Run it with ``bash scripts/bench.sh [--quick]`` (see docs/performance.md), or directly::

    .venv/bin/python -m pytest benchmarks --bench-mode=quick -p no:cacheprovider

Options: ``--bench-mode=quick|full``, ``--bench-backends=numpy,torch-cpu,...``,
``--bench-json=PATH`` (default ``benchmarks/results/<mode>.json``),
``--bench-sklearn-array-api=auto|on|off``.
"""

from __future__ import annotations

import os

# Pin BLAS/OpenMP threads for both libraries before NumPy, torch or JAX load (scripts/bench.sh
# sets them too; an explicit setting by the user wins).
_CORES = str(os.cpu_count() or 1)
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _CORES)

import datetime  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import cases  # noqa: E402
import measure  # noqa: E402
import pytest  # noqa: E402

HERE = Path(__file__).resolve().parent

#: The benchmarked backends (ids of toolbox.testing.BACKEND_PARAMS). array_api_strict is a reference
#: implementation for tests and is not benchmarked.
CPU_BACKENDS = ("numpy", "numba", "torch-cpu", "jax-cpu")
GPU_BACKENDS = ("torch-cuda", "jax-gpu", "cupy")

_ROWS: list[dict] = []
_SKIPPED: list[dict] = []
_FAILED: list[dict] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("toolbox benchmark matrix")
    g.addoption("--bench-mode", default="quick", choices=cases.MODES,
                help="quick: 1/20 of the sizes (a minute or two); full: the targets table's sizes and the "
                     "10^4..10^6 sweep")
    g.addoption("--bench-backends", default=",".join(CPU_BACKENDS + GPU_BACKENDS),
                help="comma-separated backend ids (missing libraries and GPUs skip)")
    g.addoption("--bench-json", default=None,
                help="results file (default: benchmarks/results/<mode>.json); 'none' to not write one")
    g.addoption("--bench-sklearn-array-api", default="auto", choices=("auto", "on", "off"),
                help="also time scikit-learn's Array API mode on the torch rows; auto: on CUDA rows when "
                     "SCIPY_ARRAY_API=1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU (skipped without one)")
    config._bench_started = datetime.datetime.now(datetime.UTC)  # type: ignore[attr-defined]
    config._bench_load_start = measure.machine_info().get("load_average")  # type: ignore[attr-defined]


def _selected_backends(config: pytest.Config) -> list[str]:
    from toolbox.testing import BACKEND_PARAMS

    known = {p.id for p in BACKEND_PARAMS}
    chosen = [b.strip() for b in config.getoption("--bench-backends").split(",") if b.strip()]
    unknown = [b for b in chosen if b not in known or b.startswith("array_api_strict") or b == "jax-cpu-f32"]
    if unknown:
        raise pytest.UsageError(
            f"--bench-backends: unknown backend(s) {unknown}; choose from {CPU_BACKENDS + GPU_BACKENDS}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    from toolbox.testing import BACKEND_PARAMS

    params = {p.id: p for p in BACKEND_PARAMS}
    mode = metafunc.config.getoption("--bench-mode")
    chosen = _selected_backends(metafunc.config)
    cells = []
    for gpu, pool in ((False, CPU_BACKENDS), (True, GPU_BACKENDS)):
        backends = [b for b in pool if b in chosen]
        if not backends:
            continue
        for case, size in cases.cases_for(mode, gpu=gpu):
            ds = size.dataset
            for b in backends:
                marks = [pytest.mark.gpu] if gpu else []
                cid = f"{case.name}-{b}-{ds.n_samples}x{ds.n_features}-{ds.dtype}"
                cells.append(pytest.param((case, size, params[b]), id=cid, marks=marks))
    metafunc.parametrize("cell", cells)


@pytest.fixture
def bench_results() -> list[dict]:
    """Rows of the results file; a test appends one row per (case, backend, size)."""
    return _ROWS


@pytest.fixture
def bench_mode(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--bench-mode")


@pytest.fixture
def sklearn_array_api(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--bench-sklearn-array-api")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "test_matrix" not in report.nodeid:
        return
    cid = report.nodeid.split("[", 1)[-1].rstrip("]")
    if report.skipped and report.when in ("setup", "call"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append({"id": cid, "reason": reason.removeprefix("Skipped: ")})
    elif report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        error = crash.message if crash is not None else str(report.longrepr).strip().splitlines()[-1]
        _FAILED.append({"id": cid, "when": report.when, "error": error[:500]})


def _results_path(config: pytest.Config) -> Path | None:
    opt = config.getoption("--bench-json")
    if opt is not None and opt.lower() == "none":
        return None
    if opt:
        return Path(opt)
    return HERE / "results" / f"{config.getoption('--bench-mode')}.json"


def _round(x: object) -> object:
    """Floats to 6 significant digits (timings are not more precise than that)."""
    if isinstance(x, float):
        return float(f"{x:.6g}")
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_round(v) for v in x]
    return x


def _dumps(doc: dict) -> str:
    """JSON with one line per row (small, and diffs show which rows changed)."""
    doc = _round(doc)
    head = {k: v for k, v in doc.items() if k not in ("rows", "skipped", "failed")}
    text = json.dumps(head, indent=1, default=str)[:-2]
    for key in ("rows", "skipped", "failed"):
        items = ",\n  ".join(json.dumps(x, default=str, separators=(",", ":")) for x in doc[key])
        text += f',\n "{key}": [\n  {items}\n ]' if items else f',\n "{key}": []'
    return text + "\n}\n"


def _program() -> str:
    name = Path(sys.argv[0]).name
    return "python -m pytest" if name in ("__main__.py", "pytest") else name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput") or not _ROWS:
        return
    path = _results_path(config)
    if path is None:
        return
    machine = measure.machine_info()
    machine["load_average_start"] = config._bench_load_start  # type: ignore[attr-defined]
    machine["load_average_end"] = machine.pop("load_average", None)
    doc = {
        "schema": 1,
        "mode": config.getoption("--bench-mode"),
        "started": config._bench_started.isoformat(timespec="seconds"),  # type: ignore[attr-defined]
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join([_program(), *sys.argv[1:]]),
        "backends": _selected_backends(config),
        "machine": machine,
        "versions": measure.library_versions(),
        "threads": measure.thread_info(),
        "environment": {"SCIPY_ARRAY_API": os.environ.get("SCIPY_ARRAY_API")},
        "settings": {
            "quality_rtol": cases.QUALITY_RTOL,
            "geomean_target": cases.GEOMEAN_TARGET,
            "backend_factor": cases.BACKEND_FACTOR,
            "target_backend": cases.target_backend(),
            "ratio": "toolbox median time / scikit-learn median time, same process, same data, "
                     "rounds interleaved",
            "peak_memory": "peak extra memory during one untimed run of the operation, input excluded",
            "peers": "other libraries (LightGBM, XGBoost) timed beside scikit-learn in the same rounds, on "
                     "the numpy and numba rows of the cases that name them; ratio = toolbox / peer median",
        },
        "rows": _ROWS,
        "skipped": _SKIPPED,
        "failed": _FAILED,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dumps(doc))
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"benchmark results: {path} ({len(_ROWS)} rows, {len(_SKIPPED)} skipped, "
                      f"{len(_FAILED)} failed)")
