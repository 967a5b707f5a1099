"""scripts/gpu-check.sh: the dry run on fake wheels, and the summary it writes (no GPU, no network)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu-check.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.fixture(scope="module")
def gc():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _wheel(folder: Path, dist: str, version: str, requires=(), tags="py3-none-any") -> Path:
    path = folder / f"{dist.replace('-', '_')}-{version}-{tags}.whl"
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nRequires-Python: >=3.10\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{dist.replace('-', '_')}-{version}.dist-info/METADATA", meta)
        z.writestr(f"{dist.replace('-', '_')}/__init__.py", "")
    return path


def _manifest(folder: Path) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(folder.glob("*.whl"))]
    (folder / "MANIFEST").write_text("".join(lines))


@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "whl"
    folder.mkdir()
    _wheel(folder, "array-api-compat", "1.16.0")
    _wheel(folder, "array-api-extra", "0.11.5", ["array-api-compat<2,>=1.15.0"])
    _wheel(folder, "array-api-strict", "2.6.1", ["numpy", "pytest ; extra == 'test'"])
    _manifest(folder)
    return folder


def _dry_run(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GPU_CHECK_WHEELS": str(folder), "GPU_CHECK_COLLECT": "0"}
    return subprocess.run(["bash", str(SCRIPT), "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_dry_run_passes_on_good_wheels(wheels):
    r = _dry_run(wheels)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "wheels: OK" in out and "gpu-check dry run: OK" in out
    assert "-m pytest tests -m gpu" in out
    assert "--bench-mode=quick" in out and "--bench-mode=full" in out
    assert "LinearRegression\\ or\\ Ridge\\ or\\ PCA\\ or\\ TruncatedSVD" in out
    assert "SCIPY_ARRAY_API=1" in out
    assert "bash scripts/gpu-check.sh \"$OUT\"', carry=[\".whl\"], timeout_s=600)" in out


def test_dry_run_fails_naming_the_missing_wheel(wheels):
    next(wheels.glob("array_api_extra-*.whl")).unlink()
    r = _dry_run(wheels)
    assert r.returncode != 0
    assert "missing wheel: array-api-extra" in r.stderr
    assert "gpu-check dry run: FAILED" in r.stderr


def test_dry_run_fails_on_a_changed_wheel(wheels):
    path = next(wheels.glob("array_api_compat-*.whl"))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("array_api_compat/extra.py", "x = 1\n")
    r = _dry_run(wheels)
    assert r.returncode != 0
    assert f"{path.name}: sha256 differs from MANIFEST" in r.stderr


def test_wheel_checks(gc, wheels):
    assert gc.check_wheels(wheels)[0] == []
    _wheel(wheels, "array-api-compat", "1.15.0")          # a second version of a distribution
    _wheel(wheels, "somepkg", "1.0", tags="cp311-cp311-win_amd64")  # wrong Python and platform
    _wheel(wheels, "other", "1.0", ["not-on-the-gpu-machine>=1"])
    _manifest(wheels)
    problems = "\n".join(gc.check_wheels(wheels)[0])
    assert "array-api-compat: 2 wheels" in problems
    assert "somepkg-1.0-cp311-cp311-win_amd64.whl: not for CPython 3.12" in problems
    assert "needs not-on-the-gpu-machine" in problems
    assert gc._tags_ok("cp312", "cp312", "manylinux_2_17_x86_64.manylinux2014_x86_64")
    assert gc._tags_ok("cp39", "abi3", "manylinux_2_28_x86_64")
    assert not gc._tags_ok("cp312", "cp312", "manylinux_2_17_aarch64")
    assert not gc.check_wheels(wheels.parent / "nowhere")[0] == []


def _junit(path: Path, outcomes: dict[str, str]) -> None:
    cases = []
    for name, outcome in outcomes.items():
        inner = {"passed": "", "skipped": '<skipped message="no GPU"/>',
                 "failed": '<failure message="AssertionError: off">trace</failure>'}[outcome]
        cases.append(f'<testcase classname="tests.test_x" name="{name}" time="0.1">{inner}</testcase>')
    path.write_text(f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{"".join(cases)}'
                    "</testsuite></testsuites>")


def _bench(path: Path, backends, failed=()) -> None:
    rows = [{"id": f"Ridge-{b}-1000000x100-float32", "case": "Ridge", "backend": b, "shape": "1,000,000 x 100",
             "toolbox": {"median_s": 0.01}, "sklearn": {"median_s": 0.1}, "ratio": 0.1,
             "quality": {"agrees": True}, "sklearn_array_api": {"median_s": 0.02, "ratio": 0.5}}
            for b in backends]
    path.write_text(json.dumps({"mode": "full", "rows": rows, "skipped": [], "failed": list(failed)}))


def _work(tmp_path: Path, statuses: dict[str, str], outcomes: dict[str, str]) -> tuple[Path, Path]:
    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir(parents=True)
    work.mkdir()
    (work / "steps.tsv").write_text("".join(f"{n}\t100\t5\t{0 if s == 'ok' else 2}\t{s}\tcmd\n"
                                            for n, s in statuses.items()))
    (work / "env.json").write_text(json.dumps({"hostname": "gpu1", "gpus": [
        {"name": "NVIDIA H200", "driver": "580.159.04", "memory_total": "143771 MiB"}], "versions": {"torch": "2"}}))
    _junit(work / "pytest-gpu.xml", outcomes)
    (work / "tests.out").write_text("collected 10 items / 7 deselected / 3 selected\n")
    return out, work


STEPS_OK = {"env": "ok", "tests": "ok", "bench-quick": "ok", "bench-blas": "ok", "report": "ok"}
ALL_PASS = {"test_a[torch-cuda]": "passed", "test_a[jax-gpu]": "passed", "test_a[cupy]": "passed"}
META = {"bench_files": ["bench-gpu-1e6.json"], "bench_backends": ["torch-cuda", "jax-gpu", "cupy"]}


def test_summary_pass(gc, tmp_path):
    out, work = _work(tmp_path, STEPS_OK, ALL_PASS)
    _bench(out / "bench-gpu-1e6.json", ["torch-cuda", "jax-gpu", "cupy"])
    assert gc.summary(out, work, {**META, "commit": "abc"}) == 0
    doc = json.loads((out / "gpu-check.json").read_text())
    assert doc["result"] == "pass" and doc["problems"] == []
    assert doc["gpu"] == "NVIDIA H200" and doc["driver"] == "580.159.04" and doc["hostname"] == "gpu1"
    assert doc["tests"]["passed"] == 3 and doc["tests"]["selected"] == 3
    assert doc["tests"]["by_backend"]["cupy"]["passed"] == 1
    b = doc["benchmarks"][0]
    assert b["n_rows"] == 3 and b["geomean_ratio"]["cupy"] == pytest.approx(0.1)
    assert b["rows"][0]["vs_sklearn_array_api"] == 0.5
    assert "gpu-check.json" in doc["files"]


def test_summary_fail_and_partial(gc, tmp_path):
    outcomes = {**ALL_PASS, "test_b[cupy]": "failed"}
    out, work = _work(tmp_path, STEPS_OK, outcomes)
    _bench(out / "bench-gpu-1e6.json", ["torch-cuda", "jax-gpu"])  # no cupy row
    assert gc.summary(out, work, META) == 1
    doc = json.loads((out / "gpu-check.json").read_text())
    assert doc["result"] == "fail"
    assert doc["tests"]["failed_ids"][0]["id"] == "tests/test_x.py::test_b[cupy]"
    assert any("no benchmark row on cupy" in p for p in doc["problems"])

    out2, work2 = _work(tmp_path / "2", {**STEPS_OK, "bench-blas": "stopped-at-cap"}, ALL_PASS)
    _bench(out2 / "bench-gpu-1e6.json", ["torch-cuda", "jax-gpu", "cupy"])
    assert gc.summary(out2, work2, META) == 1
    doc = json.loads((out2 / "gpu-check.json").read_text())
    assert doc["result"] == "partial" and doc["problems"] == ["step bench-blas: stopped-at-cap (cap 100 s)"]


def test_stop_at_cap_plugin(tmp_path):
    (tmp_path / "test_three.py").write_text("def test_1():\n    pass\n\ndef test_2():\n    pass\n\n"
                                            "def test_3():\n    pass\n")
    marker = tmp_path / "stopped"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "scripts"), "GPU_CHECK_STOP_AT": "0",
           "GPU_CHECK_STOP_FILE": str(marker)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "gpu_check", "-p", "no:cacheprovider", "-q",
                        "test_three.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stdout  # interrupted after the first test
    assert "1 passed" in r.stdout and "time cap reached" in r.stdout
    assert marker.is_file()
