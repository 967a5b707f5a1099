"""Helpers for ``scripts/gpu-check.sh`` (standard library only; see docs/gpu-check.md).

Subcommands::

    python scripts/gpu_check.py fetch DIR            # download the carried wheels (versions of this Python's)
    python scripts/gpu_check.py verify DIR [--tree ROOT]   # check them (and the size of what travels)
    python scripts/gpu_check.py env OUT.json         # versions, GPUs, imports (on the GPU machine)
    python scripts/gpu_check.py summary OUTDIR WORK  # write OUTDIR/gpu-check.json from the steps' files

It is also a pytest plugin (``-p gpu_check`` with ``scripts/`` on ``PYTHONPATH``): when
``GPU_CHECK_STOP_AT`` (a Unix time) has passed, it stops the session after the current test, so that
pytest still writes its JUnit file and the benchmark its results file before the step's hard
time limit (``timeout``) would kill it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

#: The distributions the GPU machine lacks; they travel as wheels, pinned to the development venv.
REQUIRED = ("array-api-compat", "array-api-extra", "array-api-strict")
#: What the wheels may require that the GPU machine's image already holds (docs of the device tool).
ON_DEVICE = ("numpy", "scipy", "scikit-learn", "joblib", "threadpoolctl", "torch", "jax", "jaxlib",
             "cupy-cuda13x", "numba", "llvmlite", "pandas", "pytest", "pytest-xdist", "pytest-benchmark",
             "psutil", "matplotlib", "packaging", "typing-extensions", "pluggy", "iniconfig", "execnet",
             "py-cpuinfo", "pygments")
#: The device tool's limit on what travels (working tree plus carried paths).
TREE_LIMIT = 64 * 2**20
#: The target Python of the GPU machine.
TARGET_PY = (3, 12)
_PYVER = f"{TARGET_PY[0]}.{TARGET_PY[1]}"
MANIFEST = "MANIFEST"

_WHEEL_RE = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)"
                       r"-(?P<plat>[^-]+)\.whl$")


def norm(name: str) -> str:
    """A distribution name in normalised form (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _mib(n: float) -> str:
    return f"{n / 2**20:.2f} MiB"


# ---------------------------------------------------------------- fetch


def fetch(wheel_dir: Path) -> int:
    """Download REQUIRED at this Python's installed versions into ``wheel_dir``; write its MANIFEST."""
    import importlib.metadata

    wheel_dir.mkdir(parents=True, exist_ok=True)
    pins = {}
    for dist in REQUIRED:
        try:
            pins[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            print(f"gpu-check: {dist} is not installed in {sys.executable}; install the project first "
                  "(bash scripts/setup.sh)", file=sys.stderr)
            return 1
    for old in wheel_dir.glob("*.whl"):  # keep one version of each: two stop the whole install
        m = _WHEEL_RE.match(old.name)
        if m and norm(m["name"]) in pins and m["version"] != pins[norm(m["name"])]:
            print(f"removing {old.name} (pinned: {pins[norm(m['name'])]})")
            old.unlink()
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
           "--only-binary=:all:", "--python-version", _PYVER, "--implementation", "cp",
           "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
           "--platform", "manylinux2014_x86_64", "-d", str(wheel_dir),
           *(f"{d}=={v}" for d, v in pins.items())]
    print("+ " + " ".join(cmd))
    rc = subprocess.call(cmd)
    if rc:
        return rc
    write_manifest(wheel_dir)
    return verify(wheel_dir)


def write_manifest(wheel_dir: Path) -> Path:
    """``sha256sum``-format lines (``sha256sum -c MANIFEST`` checks them) for every wheel in the folder."""
    lines = [f"{sha256(p)}  {p.name}\n" for p in sorted(wheel_dir.glob("*.whl"))]
    path = wheel_dir / MANIFEST
    path.write_text("".join(lines))
    print(f"wrote {path} ({len(lines)} wheels)")
    return path


# ---------------------------------------------------------------- verify


def _tags_ok(py: str, abi: str, plat: str) -> bool:
    pys = py.split(".")
    major, minor = TARGET_PY
    py_ok = any(t in (f"py{major}", f"cp{major}{minor}", f"py{major}{minor}") for t in pys) or (
        abi == "abi3" and any(re.fullmatch(rf"cp{major}(\d+)", t) and int(t[3:]) <= minor for t in pys))
    abi_ok = all(a in ("none", "abi3", f"cp{major}{minor}") for a in abi.split("."))
    plat_ok = all(p == "any" or (p.endswith("x86_64") and ("linux" in p)) for p in plat.split("."))
    return py_ok and abi_ok and plat_ok


def _metadata(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        if not names:
            raise ValueError("no *.dist-info/METADATA inside")
        text = z.read(names[0]).decode("utf-8", "replace")
    meta: dict[str, list[str]] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        if ":" in line and not line.startswith((" ", "\t")):
            k, v = line.split(":", 1)
            meta.setdefault(k.strip(), []).append(v.strip())
    return meta


def _requirement_needed(req: str) -> str | None:
    """The distribution a Requires-Dist line needs on the target (None: an extra, or a marker that is false)."""
    try:
        from packaging.requirements import Requirement

        r = Requirement(req)
        env = {"python_version": _PYVER, "python_full_version": f"{_PYVER}.0",
               "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
               "os_name": "posix", "implementation_name": "cpython", "extra": ""}
        if r.marker is not None and not r.marker.evaluate(env):
            return None
        return norm(r.name)
    except ImportError:
        if "extra ==" in req.replace('"', "'").replace("extra==", "extra =="):
            return None
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req)
        return norm(m.group(1)) if m else None


def _python_ok(spec: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:
        return True
    return SpecifierSet(spec).contains(f"{_PYVER}.0")


def tree_size(root: Path) -> int | None:
    """Bytes of what the device tool sends: tracked and untracked-not-ignored files (None: not a git checkout)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-co", "--exclude-standard", "-z"],
                             capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    total = 0
    for rel in out.decode("utf-8", "surrogateescape").split("\0"):
        if rel:
            p = root / rel
            if p.is_file() or p.is_symlink():
                total += p.lstat().st_size
    return total


def check_wheels(wheel_dir: Path) -> tuple[list[str], list[str], int]:
    """(problems, notes, total bytes) for the wheel folder: one wheel per REQUIRED distribution, listed in
    MANIFEST with the same sha256, for CPython 3.12 on x86-64 Linux, whose requirements are carried or
    on the GPU machine."""
    problems: list[str] = []
    notes: list[str] = []
    if not wheel_dir.is_dir():
        return ([f"wheel folder {wheel_dir} does not exist: run `bash scripts/gpu-check.sh --fetch-wheels` "
                 f"(missing wheels: {', '.join(REQUIRED)})"], notes, 0)
    manifest: dict[str, str] = {}
    mpath = wheel_dir / MANIFEST
    if mpath.is_file():
        for line in mpath.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                manifest[parts[1].lstrip("*")] = parts[0].lower()
    else:
        problems.append(f"{mpath} is missing: run `bash scripts/gpu-check.sh --fetch-wheels`")
    wheels = sorted(wheel_dir.glob("*.whl"))
    total = sum(p.stat().st_size for p in wheels)
    by_dist: dict[str, list[Path]] = {}
    carried = set()
    requires: dict[str, list[str]] = {}
    for p in wheels:
        m = _WHEEL_RE.match(p.name)
        if not m:
            problems.append(f"{p.name}: not a wheel file name")
            continue
        dist = norm(m["name"])
        by_dist.setdefault(dist, []).append(p)
        carried.add(dist)
        if not _tags_ok(m["py"], m["abi"], m["plat"]):
            problems.append(f"{p.name}: not for CPython {TARGET_PY[0]}.{TARGET_PY[1]} on x86-64 Linux "
                            f"(tags {m['py']}-{m['abi']}-{m['plat']})")
        want = manifest.get(p.name)
        if mpath.is_file() and want is None:
            problems.append(f"{p.name}: not listed in {MANIFEST}")
        elif want is not None and sha256(p) != want:
            problems.append(f"{p.name}: sha256 differs from {MANIFEST} (corrupt or replaced)")
        try:
            meta = _metadata(p)
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            problems.append(f"{p.name}: unreadable wheel ({exc})")
            continue
        name, version = (meta.get("Name") or [""])[0], (meta.get("Version") or [""])[0]
        if norm(name) != dist or version != m["version"]:
            problems.append(f"{p.name}: its METADATA says {name} {version}")
        for spec in meta.get("Requires-Python", []):
            if not _python_ok(spec):
                problems.append(f"{p.name}: Requires-Python {spec} excludes {TARGET_PY[0]}.{TARGET_PY[1]}")
        requires[p.name] = [d for d in map(_requirement_needed, meta.get("Requires-Dist", [])) if d]
        notes.append(f"{p.name}  {_mib(p.stat().st_size)}  {version}")
    for name in manifest:
        if not (wheel_dir / name).is_file():
            problems.append(f"{name}: listed in {MANIFEST} but missing from {wheel_dir}")
    for dist in REQUIRED:
        found = by_dist.get(norm(dist), [])
        if not found:
            problems.append(f"missing wheel: {dist} (run `bash scripts/gpu-check.sh --fetch-wheels`)")
        elif len(found) > 1:
            problems.append(f"{dist}: {len(found)} wheels ({', '.join(p.name for p in found)}); keep one version")
    on_device = {norm(d) for d in ON_DEVICE}
    for wheel, deps in requires.items():
        for d in deps:
            if d not in carried and d not in on_device:
                problems.append(f"{wheel} needs {d}, which is neither carried nor known to be on the GPU machine")
    return problems, notes, total


def verify(wheel_dir: Path, root: Path | None = None) -> int:
    problems, notes, total = check_wheels(wheel_dir)
    print(f"wheels in {wheel_dir}: {len(notes)}, {_mib(total)}")
    for n in notes:
        print(f"  {n}")
    if root is not None:
        tree = tree_size(root)
        if tree is None:
            print(f"working tree: {root} is not a git checkout; size not checked")
        else:
            inside = wheel_dir.resolve().is_relative_to(root.resolve())
            extra = total if inside else 0
            print(f"what travels: working tree {_mib(tree)} + carried wheels {_mib(extra)} = "
                  f"{_mib(tree + extra)} (limit {_mib(TREE_LIMIT)})")
            if not inside:
                print(f"  note: {wheel_dir} is outside {root}; the device call carries .whl from the repo root")
            if tree + extra >= TREE_LIMIT:
                problems.append(f"what travels is {_mib(tree + extra)}, over the device tool's {_mib(TREE_LIMIT)}")
    for p in problems:
        print(f"PROBLEM: {p}", file=sys.stderr)
    print("wheels: OK" if not problems else f"wheels: {len(problems)} problem(s)")
    return 1 if problems else 0


# ---------------------------------------------------------------- env (on the GPU machine)


def _smi() -> list[dict[str, str]]:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,compute_cap",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.stdout.strip().splitlines():
        parts = [x.strip() for x in line.split(",")]
        if len(parts) >= 3:
            gpus.append(dict(zip(("name", "driver", "memory_total", "compute_cap"), parts)))
    return gpus


_DISTS = ("numpy", "scipy", "scikit-learn", "torch", "jax", "jaxlib", "jax-cuda13-plugin", "jax-cuda12-plugin",
          "cupy-cuda13x", "cupy-cuda12x", "numba", "array-api-compat", "array-api-extra", "array-api-strict",
          "pytest", "pytest-xdist", "pytest-benchmark", "psutil", "matplotlib", "threadpoolctl", "pandas")
_IMPORTS = ("toolbox", "array_api_compat", "array_api_extra", "array_api_strict", "sklearn", "pytest", "xdist",
            "pytest_benchmark", "psutil", "matplotlib", "torch", "jax", "cupy")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def probe_env() -> dict[str, Any]:
    import importlib
    import importlib.metadata

    info: dict[str, Any] = {
        "hostname": platform.node(), "platform": platform.platform(), "python": sys.version.split()[0],
        "python_executable": sys.executable, "cpu_model": _cpu_model(), "logical_cores": os.cpu_count(),
        "gpus": _smi(),
    }
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))  # type: ignore[union-attr]
        info["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, AttributeError):
        pass
    versions = {}
    for d in _DISTS:
        try:
            versions[d] = importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            pass
    imports: dict[str, str] = {}
    for mod in _IMPORTS:
        try:
            m = importlib.import_module(mod)
            imports[mod] = "ok " + str(getattr(m, "__version__", ""))
            if mod == "toolbox":
                versions["toolbox"] = str(getattr(m, "__version__", "?"))
                info["toolbox_path"] = str(Path(m.__file__).parent)
        except Exception as exc:
            imports[mod] = f"{type(exc).__name__}: {str(exc)[:200]}"
    gpu: dict[str, Any] = {}
    if imports.get("torch", "").startswith("ok"):
        import torch

        gpu["torch_cuda"] = bool(torch.cuda.is_available())
        gpu["torch_cuda_version"] = torch.version.cuda
        if gpu["torch_cuda"]:
            gpu["torch_device"] = torch.cuda.get_device_name(0)
    if imports.get("jax", "").startswith("ok"):
        try:
            import jax

            gpu["jax_devices"] = [str(d) for d in jax.devices("gpu")]
        except Exception as exc:
            gpu["jax_devices"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    if imports.get("cupy", "").startswith("ok"):
        try:
            import cupy

            gpu["cupy_devices"] = int(cupy.cuda.runtime.getDeviceCount())
            gpu["cupy_cuda_runtime"] = int(cupy.cuda.runtime.runtimeGetVersion())
        except Exception as exc:
            gpu["cupy_devices"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    info.update(versions=versions, imports=imports, gpu_backends=gpu)
    return info


def env_cmd(out: Path) -> int:
    info = probe_env()
    out.write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1))
    missing = [m for m in ("toolbox", "array_api_compat", "array_api_extra", "pytest")
               if not info["imports"][m].startswith("ok")]
    if missing:
        print(f"gpu-check: cannot import {', '.join(missing)}: the tests cannot run", file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- summary


#: The GPU backend ids of the test matrix and the benchmark (toolbox.testing.BACKEND_PARAMS).
GPU_BACKENDS = ("torch-cuda", "jax-gpu", "cupy")


def _backend_of(test_name: str) -> str | None:
    m = re.search(r"\[(.*)\]$", test_name)
    if m:
        for part in re.split(r"[-\[\]]", m.group(1).replace("torch-cuda", "torch_cuda").replace("jax-gpu", "jax_gpu")):
            b = part.replace("_", "-")
            if b in GPU_BACKENDS:
                return b
    return None


def junit_counts(path: Path) -> dict[str, Any] | None:
    """passed/failed/errors/skipped from a JUnit XML file (the test cases that ran), also per GPU backend,
    with the failed ids."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    per: dict[str, dict[str, int]] = {b: dict.fromkeys(counts, 0) for b in GPU_BACKENDS}
    failed: list[dict[str, str]] = []
    for tc in root.iter("testcase"):
        kinds = {child.tag for child in tc}
        kind = ("errors" if "error" in kinds else "failed" if "failure" in kinds
                else "skipped" if "skipped" in kinds else "passed")
        counts[kind] += 1
        backend = _backend_of(tc.get("name", ""))
        if backend is not None:
            per[backend][kind] += 1
        if kind in ("errors", "failed"):
            node = next(c for c in tc if c.tag in ("error", "failure"))
            cls = tc.get("classname", "").replace(".", "/")
            failed.append({"id": f"{cls}.py::{tc.get('name')}", "message": (node.get("message") or "")[:300]})
    return {**counts, "ran": sum(counts.values()), "by_backend": per, "failed_ids": failed[:100],
            "source": "junit"}


def log_counts(text: str) -> dict[str, Any]:
    """Counts from pytest's last summary line and its collection line (when there is no JUnit file)."""
    out: dict[str, Any] = {"source": "log"}
    lines = [ln for ln in text.splitlines() if re.search(r"\d+ (passed|failed|skipped|errors?)\b", ln)]
    if lines:
        for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)\b", lines[-1]):
            out["errors" if kind.startswith("error") else kind] = int(n)
    return out


def selected_count(text: str) -> int | None:
    for pat in (r"(\d+) selected", r"\[(\d+) items?\]", r"collected (\d+) items?"):
        m = re.findall(pat, text)
        if m:
            return int(m[-1])
    return None


def _geomean(vals: list[float]) -> float | None:
    vals = [v for v in vals if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(map(math.log, vals)) / len(vals)) if vals else None


def bench_summary(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"file": path.name}
    if not path.is_file():
        out["missing"] = "no results file (no rows, or the run was killed before the end)"
        return out
    doc = json.loads(path.read_text())
    rows = []
    for r in doc.get("rows", []):
        ska = r.get("sklearn_array_api") or {}
        rows.append({"id": r.get("id"), "case": r.get("case"), "backend": r.get("backend"), "shape": r.get("shape"),
                     "toolbox_s": r["toolbox"].get("median_s"), "sklearn_s": r["sklearn"].get("median_s"),
                     "ratio": r.get("ratio"), "same_answer": r.get("quality", {}).get("agrees"),
                     "sklearn_array_api_s": ska.get("median_s"), "vs_sklearn_array_api": ska.get("ratio"),
                     **({"sklearn_array_api_skipped": ska["skipped"][:200]} if "skipped" in ska else {})})
    backends = sorted({r["backend"] for r in rows})
    out.update(mode=doc.get("mode"), started=doc.get("started"), finished=doc.get("finished"),
               n_rows=len(rows), n_skipped=len(doc.get("skipped", [])), failed=doc.get("failed", []),
               geomean_ratio={b: _geomean([r["ratio"] for r in rows if r["backend"] == b]) for b in backends},
               quality_differs=[r["id"] for r in rows if r["same_answer"] is False], rows=rows)
    return out


def verdict(steps: list[dict], tests: dict, benches: list[dict], bench_backends: list[str]) -> tuple[str, list[str]]:
    """("pass" | "partial" | "fail", the problems). "partial": only time caps stopped something."""
    problems: list[str] = []
    cut: list[str] = []
    if not steps:
        problems.append("no step ran")
    for s in steps:
        if s["status"] in ("timed-out", "stopped-at-cap", "no-time"):
            cut.append(f"step {s['name']}: {s['status']} (cap {s['cap_s']} s)")
        elif s["status"] not in ("ok", "skipped-optional"):
            problems.append(f"step {s['name']}: {s['status']} (rc {s['rc']})")
    bad = tests.get("failed", 0) + tests.get("errors", 0)
    if bad:
        problems.append(f"{bad} test(s) failed or errored")
    for b, c in (tests.get("by_backend") or {}).items():
        if not c.get("passed"):
            problems.append(f"no test passed on {b} ({c.get('skipped', 0)} skipped): is it installed and on the GPU?")
    if not tests.get("passed"):
        problems.append("no test marked gpu passed")
    rows: dict[str, int] = dict.fromkeys(bench_backends, 0)
    for bench in benches:
        for f in bench.get("failed") or []:
            problems.append(f"benchmark {f.get('id')}: {f.get('error', '')[:200]}")
        for r in bench.get("rows") or []:
            if r.get("backend") in rows:
                rows[r["backend"]] += 1
    if benches:
        for b, n in rows.items():
            if not n:
                problems.append(f"no benchmark row on {b}")
    if problems:
        return "fail", problems + cut
    return ("partial" if cut else "pass"), cut


def _read_steps(work: Path) -> list[dict[str, Any]]:
    steps = []
    path = work / "steps.tsv"
    if path.is_file():
        for line in path.read_text().splitlines():
            name, cap, secs, rc, status, cmd = (line.split("\t") + [""] * 6)[:6]
            steps.append({"name": name, "cap_s": int(cap or 0), "seconds": int(secs or 0),
                          "rc": int(rc) if rc.lstrip("-").isdigit() else None, "status": status, "command": cmd})
    return steps


def summary(outdir: Path, work: Path, meta: dict[str, Any]) -> int:
    """Write OUTDIR/gpu-check.json from the step files in ``work``; exit 0 when everything passed.

    ``work`` holds ``env.json`` (``env``), ``steps.tsv`` (one line per step: name, cap, seconds, rc, status,
    command), ``tests.out`` (the tests' output) and ``pytest-gpu.xml`` (their JUnit file).
    """
    env = {}
    if (work / "env.json").is_file():
        env = json.loads((work / "env.json").read_text())
    steps = _read_steps(work)
    test_log = work / "tests.out"
    text = test_log.read_text(errors="replace") if test_log.is_file() else ""
    tests: dict[str, Any] = junit_counts(work / "pytest-gpu.xml") or log_counts(text)
    tests["selected"] = selected_count(text)
    benches = [bench_summary(outdir / name) for name in meta.get("bench_files", [])]
    result, problems = verdict(steps, tests, benches, meta.get("bench_backends") or list(GPU_BACKENDS))
    first_gpu = (env.get("gpus") or [{}])[0]
    doc = {
        "schema": 1,
        "tool": "scripts/gpu-check.sh",
        "result": result,
        "started": meta.get("started"),
        "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "elapsed_s": int(time.time() - meta["start_epoch"]) if "start_epoch" in meta else None,
        "budget_s": meta.get("budget_s"),
        "commit": meta.get("commit"),
        "hostname": env.get("hostname"),
        "gpu": first_gpu.get("name") or (env.get("gpu_backends") or {}).get("torch_device"),
        "driver": first_gpu.get("driver"),
        "machine": {k: env.get(k) for k in ("platform", "python", "python_executable", "cpu_model",
                                             "logical_cores", "memory_gib", "gpus")},
        "versions": env.get("versions", {}),
        "imports": env.get("imports", {}),
        "gpu_backends": env.get("gpu_backends", {}),
        "problems": problems,
        "steps": steps,
        "tests": tests,
        "benchmarks": benches,
        "report": meta.get("report"),
        "files": sorted({p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file()}
                        | {"gpu-check.json"}),
    }
    path = outdir / "gpu-check.json"
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    t = tests
    print(f"gpu-check: {result}; tests: {t.get('passed', '?')} passed, {t.get('failed', '?')} failed, "
          f"{t.get('errors', 0)} errors, {t.get('skipped', '?')} skipped of {t.get('selected', '?')} selected")
    for b in benches:
        if "missing" in b:
            print(f"  {b['file']}: {b['missing']}")
        else:
            gm = ", ".join(f"{k} {v:.3g}" for k, v in b["geomean_ratio"].items() if v is not None)
            print(f"  {b['file']}: {b['n_rows']} rows, {b['n_skipped']} skipped, {len(b['failed'])} failed; "
                  f"geometric-mean ratio to scikit-learn: {gm or '—'}")
    for s in steps:
        rc = "" if s["rc"] is None else f", rc {s['rc']}"
        print(f"  step {s['name']}: {s['status']} ({s['seconds']} s of {s['cap_s']} s{rc})")
    for p in problems:
        print(f"  problem: {p}")
    print(f"wrote {path}")
    return 0 if result == "pass" else 1


# ---------------------------------------------------------------- pytest plugin (-p gpu_check)


class _StopAtCap:
    """Stops the session once a test ends past ``stop_at`` and more are left: the last test is not "stopped".

    Without xdist, at the end of a test that has a next one; with xdist, the controller stops the workers
    when any test ends (each finishes the tests already sent to it).
    """

    def __init__(self, config: Any, stop_at: float, marker: str | None) -> None:
        self.config, self.stop_at, self.marker = config, stop_at, marker
        self.session: Any = None
        self.fired = False

    def pytest_sessionstart(self, session: Any) -> None:
        self.session = session

    def _fire(self) -> None:
        self.fired = True
        msg = "gpu-check: time cap reached, stopping after the current test(s)"
        dsession = self.config.pluginmanager.getplugin("dsession")
        if dsession is not None:
            dsession.shouldstop = msg
        elif self.session is not None:
            self.session.shouldstop = msg
        if self.marker:
            Path(self.marker).write_text(msg + "\n")
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        if tr is not None:
            tr.write_line(msg)

    def pytest_runtest_teardown(self, item: Any, nextitem: Any) -> None:  # without xdist
        if not self.fired and nextitem is not None and time.time() >= self.stop_at:
            self._fire()

    def pytest_runtest_logreport(self, report: Any) -> None:  # the xdist controller
        if (not self.fired and report.when == "teardown" and time.time() >= self.stop_at
                and self.config.pluginmanager.getplugin("dsession") is not None):
            self._fire()


def pytest_configure(config: Any) -> None:
    stop_at = os.environ.get("GPU_CHECK_STOP_AT")
    if not stop_at or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(_StopAtCap(config, float(stop_at), os.environ.get("GPU_CHECK_STOP_FILE")),
                                  "gpu-check-stop-at-cap")


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fetch")
    p.add_argument("dir", type=Path)
    p = sub.add_parser("verify")
    p.add_argument("dir", type=Path)
    p.add_argument("--tree", type=Path, default=None, help="repo root: also check the size of what travels")
    p = sub.add_parser("env")
    p.add_argument("out", type=Path)
    p = sub.add_parser("summary")
    p.add_argument("outdir", type=Path)
    p.add_argument("work", type=Path)
    p.add_argument("--started", default=None)
    p.add_argument("--start-epoch", type=float, default=None)
    p.add_argument("--budget", type=int, default=None)
    p.add_argument("--commit", default=None)
    p.add_argument("--report", default=None, help="the report's path, or why there is none")
    p.add_argument("--bench-files", default="", help="comma-separated results files in OUTDIR")
    p.add_argument("--bench-backends", default=",".join(GPU_BACKENDS), help="backends that must have rows")
    a = ap.parse_args(argv)
    if a.cmd == "fetch":
        return fetch(a.dir)
    if a.cmd == "verify":
        return verify(a.dir, a.tree)
    if a.cmd == "env":
        return env_cmd(a.out)
    meta = {"started": a.started, "budget_s": a.budget, "commit": a.commit or None, "report": a.report,
            "bench_files": [f for f in a.bench_files.split(",") if f],
            "bench_backends": [b for b in a.bench_backends.split(",") if b]}
    if a.start_epoch is not None:
        meta["start_epoch"] = a.start_epoch
    return summary(a.outdir, a.work, meta)


if __name__ == "__main__":
    raise SystemExit(main())
