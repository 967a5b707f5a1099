"""Render docs/performance.md (tables and PNG plots) from benchmark results files.

Usage::

    python benchmarks/report.py [RESULTS.json ...] [--out docs/performance.md] [--img-dir docs/img]

Without files it renders every ``benchmarks/results/*.json`` (full mode first).
Everything above the marker line in an existing ``--out`` file is kept (the
hand-written header); everything below it is regenerated. Needs only the
standard library and matplotlib (no toolbox, no scikit-learn).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARKER = "<!-- report.py: everything below this line is generated; edit the header above it -->"

#: Column order for backends; unknown ids go last.
BACKEND_ORDER = ("numpy", "numba", "torch-cpu", "jax-cpu", "torch-cuda", "jax-gpu", "cupy")
#: Backends whose geometric mean must be within ``backend_factor`` of the NumPy backend's.
COMPARED_BACKENDS = ("torch-cpu", "jax-cpu")

DEFAULT_HEADER = """# Performance

toolbox is benchmarked against scikit-learn estimator by estimator, backend by
backend and size by size, in the same process and on the same data. The
figures below are generated; this header is not.

## Running it

```bash
bash scripts/bench.sh            # full mode: the targets table's sizes and the 10^4..10^6 sweep
bash scripts/bench.sh --quick    # quick mode: 1/20 of the sizes, about two minutes on 2 cores
bash scripts/bench.sh --backends numpy --no-setup   # one backend, skip the install step
```

`scripts/bench.sh` runs `scripts/setup.sh` (installs `.[all]`, which includes the
`bench` extra: pytest-benchmark, matplotlib, psutil), sets
`OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS` and `MKL_NUM_THREADS` to the number of
cores unless already set (the same for both libraries), runs
`pytest benchmarks/` and then `python benchmarks/report.py`, which rewrites the
part of this page below the marker line. Further arguments go to pytest (e.g.
`-k KMeans`). Results land in `benchmarks/results/<mode>.json` (fields described in
`benchmarks/README.md`); plots in `docs/img/`. The report shows the latest run of
each mode, full first.
GPU backends (torch-cuda, jax-gpu, cupy) run when present and skip otherwise,
on 10^6 rows (1/20 in quick mode) of float32 with the table's feature counts,
against scikit-learn on the CPU on the same data; on a CUDA machine the script
also sets `SCIPY_ARRAY_API=1` so scikit-learn's own Array API mode is timed on
the same torch-cuda tensors.
On a lent CUDA machine, `bash scripts/gpu-check.sh OUTDIR` runs the tests marked
`gpu` and these GPU rows in one command, in under 8 minutes, and writes its log,
summary and results files to OUTDIR, not here: see [gpu-check.md](gpu-check.md),
which also lists its runs.
The HistGradientBoosting rows of the full run below come from a separate run of
those cases only (`-k HistGradient --bench-backends=numba --bench-json=...`,
2026-12-02 06:49 UTC, after the grower's spinning helpers landed), whose rows
replaced the earlier ones in `full.json` by hand; that run is listed under
`merged_runs` there. Gradient-boosting ratios move by about 10% between runs on
different hours of this shared machine (the unchanged predictor: 0.69x at 00:54,
0.90x and 0.78x in two runs at 06:23 and 06:49); compare old and new code in one
process rather than across runs. So are the `TruncatedSVD` rows (all CPU backends), re-run after a fix
that took a copy of `X` out of its fit. The `numpy` and `numba` rows of the 13 core estimators
come from a re-run of those backends (2026-12-02 13:19 UTC, `-k "not HistGradient"
--bench-backends=numba,numpy`), the GaussianNB, LogisticRegression, LinearDiscriminantAnalysis and
KNeighborsClassifier rows from one more after the integer-label encoding (13:43 UTC); both ran on
that day's development machine, an AMD EPYC with 2 cores, where the torch-cpu and jax-cpu rows and the
run's header come from an Intel Xeon (2026-12-01). The same code gives different ratios on the two:
KNeighborsClassifier predict 0.84x on the Xeon against 0.48x-0.51x on the EPYC, GaussianNB 0.14x
against 0.18x (before the label change). A full run of every case on every CPU backend takes well over an hour on
2 cores (the pure-NumPy, torch and JAX gradient boosting on 10^6 rows above all).

## Reading it

- **ratio** = toolbox median time / scikit-learn median time for the same
  operation on the same data (below 1: toolbox is faster). Rounds alternate
  between the two libraries so machine noise hits both alike; each library is
  warmed up first (JAX compiles on its first call) and asynchronous backends are
  synchronised inside the timing. Each timed run starts after a garbage collection
  and 0.15 s idle: NumPy and SciPy (which scikit-learn calls) each ship their own
  OpenBLAS, whose threads spin for up to about 0.1 s after a call, and a run that
  starts while the other library's threads spin shares the cores with them (on 2
  cores this made toolbox's `PCA` and `Ridge` look 1.4-1.8x slower than they are).
- **timed operation**: `fit`, `fit_transform`, or `predict` after an untimed `fit`.
- **same answer**: a quality figure (R², log-loss, accuracy, inertia, explained
  variance, reconstruction error, or for scalers the outputs themselves) is
  computed for both libraries and must agree within 1e-3 relative.
- **peak memory**: the extra memory one untimed run of the operation needs above
  what was held before it (the input data is not counted): tracemalloc for NumPy
  and scikit-learn (NumPy reports its buffers to it; BLAS work buffers are not
  seen), the process's peak RSS for torch and JAX on the CPU (their allocators
  bypass Python's; scikit-learn is then measured the same way), the CUDA
  allocator's peak on GPUs. JAX's CPU figures are lower bounds (its allocator
  may reuse memory it already holds).
- **targets** (issue 4's, raised by issue 16 to what the best backend showed
  possible) are defined for the NumPy path at the table's sizes,
  float64, default parameters: NumPy arrays as toolbox computes on them by
  default, with numba kernels where numba is installed (it is in `toolbox[all]`),
  i.e. the `numba` rows (the `numpy` rows without numba). The targets table also
  gives the pure-NumPy backend's ratio (`set_backend("numpy")`: NumPy and BLAS
  only). Quick-mode figures use 1/20 of those sizes, where fixed overheads weigh
  more: PASS/MISS there is indicative only.
- **threads**: both libraries use the same BLAS/OpenMP thread count (the number
  of cores by default; recorded with each run). NumPy and SciPy each ship their
  own OpenBLAS, whose idle threads spin for a while after each call; when other
  jobs keep the cores busy (load average above the core count), this can slow
  small BLAS-heavy calls by 10x or more and the figures stop meaning much. On a
  busy machine, rerun later or with `OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`.
- These figures are measurements, **not test assertions**: the benchmark never
  fails on a slow result (an estimator that raises does fail it). The CPU
  figures come from the 2-core development machine, which other jobs share; the
  load average at the start and end of each run is shown with its results.
"""


# ---------------------------------------------------------------- helpers


def geomean(values: Iterable[float]) -> float | None:
    vals = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not vals:
        return None
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def ratio(row: dict) -> float | None:
    """toolbox median time / scikit-learn median time (below 1: toolbox is faster)."""
    tb, sk = row["toolbox"].get("median_s"), row["sklearn"].get("median_s")
    if tb is None or not sk:
        return None
    return tb / sk


def meets_target(row: dict) -> bool | None:
    """PASS (True) when the ratio is at most the row's target; None without a target or a ratio."""
    r, target = ratio(row), row.get("target")
    if r is None or target is None:
        return None
    return r <= target


def _backend_key(b: str) -> tuple[int, str]:
    return (BACKEND_ORDER.index(b) if b in BACKEND_ORDER else len(BACKEND_ORDER), b)


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"


def _fmt_mib(b: float | None) -> str:
    if b is None:
        return "—"
    mib = b / 2**20
    return f"{mib:.0f}" if mib >= 100 else f"{mib:.1f}" if mib >= 1 else f"{mib:.2f}"


def _fmt_q(x: float | None) -> str:
    return "—" if x is None else f"{x:.6g}"


def _pass(ok: bool | None) -> str:
    return "—" if ok is None else "PASS" if ok else "MISS"


def _ordered_cases(rows: Sequence[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        seen.setdefault(r["case"], None)
    return list(seen)


def _cell(value: Any) -> str:
    """A table cell: one line, pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else ":---:" if a == "c" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def in_geomean(row: dict) -> bool:
    """Whether the row counts in the geometric means (issue 4's estimators; older files: every row)."""
    return row.get("in_geomean", True)


def peer_ratios(row: dict) -> dict[str, float]:
    """toolbox median time / each timed peer's median time (peers that were skipped are left out)."""
    tb = row["toolbox"].get("median_s")
    out = {}
    for name, p in (row.get("peers") or {}).items():
        if tb is not None and p.get("median_s"):
            out[name] = tb / p["median_s"]
    return out


def best_peer(row: dict) -> tuple[str, float] | None:
    """(name, toolbox / its time) for the fastest timed peer of the row, or None."""
    peers = {k: v for k, v in (row.get("peers") or {}).items() if v.get("median_s")}
    if not peers or row["toolbox"].get("median_s") is None:
        return None
    name = min(peers, key=lambda k: peers[k]["median_s"])
    return name, row["toolbox"]["median_s"] / peers[name]["median_s"]


def _peer_names(rows: Iterable[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        for name in r.get("peers") or {}:
            seen.setdefault(name, None)
    return list(seen)


def reference_backend(doc: dict) -> str:
    """The backend the targets apply to (``numba``: NumPy arrays with numba kernels; older files: ``numpy``)."""
    return doc.get("settings", {}).get("target_backend", "numpy")


def _reference_label(doc: dict) -> str:
    ref = reference_backend(doc)
    return "NumPy path (NumPy + numba kernels, the default for NumPy arrays)" if ref == "numba" else "NumPy backend"


def backend_geomeans(doc: dict) -> dict[str, dict[str, Any]]:
    """Per backend: geometric mean of the ratios over its table rows (and over the rows shared with the
    reference backend, :func:`reference_backend`)."""
    table = [r for r in doc["rows"] if r["role"] in ("table", "gpu") and in_geomean(r)]
    by_backend: dict[str, dict[str, float]] = {}
    for r in table:
        by_backend.setdefault(r["backend"], {})[r["case"]] = ratio(r)
    ref = reference_backend(doc)
    numpy = by_backend.get(ref, {})
    out: dict[str, dict[str, Any]] = {}
    for b, ratios in sorted(by_backend.items(), key=lambda kv: _backend_key(kv[0])):
        shared = sorted(set(ratios) & set(numpy))
        g = geomean(ratios.values())
        info: dict[str, Any] = {"geomean": g, "n": len(ratios)}
        if b != ref and shared:
            gb, gn = geomean(ratios[c] for c in shared), geomean(numpy[c] for c in shared)
            info.update(shared=len(shared), geomean_shared=gb, numpy_geomean_shared=gn,
                        vs_numpy=(gb / gn) if gb and gn else None)
        out[b] = info
    return out


def target_rows(doc: dict) -> list[dict]:
    return [r for r in doc["rows"] if r.get("target_applies")]


# ---------------------------------------------------------------- plots


def plot_ratios(doc: dict, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in doc["rows"] if r["role"] in ("table", "gpu")]
    if not rows:
        return None
    case_names = _ordered_cases(rows)
    backends = sorted({r["backend"] for r in rows}, key=_backend_key)
    lookup = {(r["case"], r["backend"]): r for r in rows}
    n_b = len(backends)
    width = 0.8 / n_b
    fig, ax = plt.subplots(figsize=(max(9.0, 0.8 * len(case_names) + 4.5), 4.8), dpi=100)
    colors = plt.get_cmap("tab10")
    for j, b in enumerate(backends):
        xs, ys, bad = [], [], []
        for i, c in enumerate(case_names):
            r = lookup.get((c, b))
            if r is None:
                continue
            x = i - 0.4 + width * (j + 0.5)
            xs.append(x)
            ys.append(ratio(r))
            if not r["quality"]["agrees"]:
                bad.append((x, ratio(r)))
        ax.bar(xs, ys, width=width * 0.95, color=colors(j % 10), label=b)
        for x, y in bad:
            ax.plot([x], [y * 1.25], marker="x", color="red", markersize=6)
    for i, c in enumerate(case_names):
        r = lookup.get((c, reference_backend(doc)))
        if r is not None and r.get("target") is not None:
            ax.hlines(r["target"], i - 0.42, i + 0.42, colors="black", linewidth=1.6,
                      label=f"target ({reference_backend(doc)})" if i == 0 else None)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="scikit-learn = 1")
    ax.set_yscale("log")
    span = [v for r in rows for v in (ratio(r), r.get("target")) if v] + [1.0]
    ax.set_ylim(min(span) / 1.6, max(span) * 1.6)
    _plain_log_ticks(ax.yaxis)
    ax.set_xticks(range(len(case_names)))
    ax.set_xticklabels([_short(c) for c in case_names], rotation=30, ha="right", fontsize=9)
    ax.set_ylabel("toolbox time / scikit-learn time (log)")
    ax.set_title(f"Ratio to scikit-learn per estimator and backend — {_mode_label(doc)}", fontsize=11)
    ax.grid(axis="y", which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if any(not r["quality"]["agrees"] for r in rows):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], marker="x", color="red", linestyle="none"))
        labels.append("quality differs > 1e-3")
    ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


def _plain_log_ticks(axis: Any) -> None:
    """Log-axis labels as plain numbers (0.2, 0.5, 1, 2) rather than powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _short(case: str) -> str:
    short = {"LinearDiscriminantAnalysis": "LDA", "KNeighborsClassifier": "KNeighbors",
             "LogisticRegression": "LogisticReg.", "LinearRegression": "LinearReg."}.get(case, case)
    return (short.replace("HistGradientBoostingClassifier", "HGBClassifier")
            .replace("HistGradientBoostingRegressor", "HGBRegressor").replace("_", " "))


def sweep_cases(doc: dict) -> list[str]:
    return _ordered_cases([r for r in doc["rows"] if r["role"] == "sweep"])


def _scaling_series(doc: dict, case: str) -> tuple[dict[str, list[tuple[int, float]]], list[tuple[int, float]]]:
    """Toolbox time against n per backend, and scikit-learn's (from the NumPy rows, else the first backend)."""
    rows = [r for r in doc["rows"] if r["case"] == case and r["role"] in ("table", "sweep")]
    series: dict[str, list[tuple[int, float]]] = {}
    sk: dict[int, tuple[int, float]] = {}
    for r in sorted(rows, key=lambda r: (_backend_key(r["backend"]), r["n_samples"])):
        series.setdefault(r["backend"], []).append((r["n_samples"], r["toolbox"]["median_s"]))
        n = r["n_samples"]
        rank = _backend_key(r["backend"])[0]
        if n not in sk or rank < sk[n][0]:
            sk[n] = (rank, r["sklearn"]["median_s"])
    return series, sorted((n, t) for n, (_, t) in sk.items())


def plot_scaling(doc: dict, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sweep_cases(doc)
    if not names:
        return None
    ncol = min(2, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.6 * nrow), dpi=100, squeeze=False)
    colors = plt.get_cmap("tab10")
    all_backends = sorted({r["backend"] for r in doc["rows"]}, key=_backend_key)
    for ax, case in zip(axes.flat, names):
        series, sk = _scaling_series(doc, case)
        for b, pts in series.items():
            ax.plot(*zip(*pts), marker="o", markersize=4, color=colors(all_backends.index(b) % 10),
                    label=f"toolbox {b}")
        if sk:
            ax.plot(*zip(*sk), marker="s", markersize=4, color="black", linestyle="--", label="scikit-learn")
        feats = next(r["n_features"] for r in doc["rows"] if r["case"] == case)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
        ax.set_title(f"{case} ({feats} features)", fontsize=10)
        ax.set_xlabel("rows n")
        ax.set_ylabel("median time (s)")
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"Time against n — {_mode_label(doc)}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, pil_kwargs={"optimize": True})
    plt.close(fig)
    return path


# ---------------------------------------------------------------- markdown


def _mode_label(doc: dict) -> str:
    mode = doc.get("mode", "?")
    backends = sorted({r["backend"] for r in doc["rows"]}, key=_backend_key)
    label = "quick mode (1/20 sizes)" if mode == "quick" else f"{mode} mode"
    return f"{label}, {', '.join(backends)}"


def _env_lines(doc: dict) -> list[str]:
    m, v, t = doc.get("machine", {}), doc.get("versions", {}), doc.get("threads", {})
    gpus = ", ".join(m.get("gpus") or []) or "none"
    mem = f", {m['memory_gib']} GiB RAM" if m.get("memory_gib") else ""
    cores = m.get("physical_cores") or m.get("logical_cores")
    lines = [
        f"- Run: {doc.get('started', '?')} to {doc.get('finished', '?')} (UTC), `{doc.get('command', '')}`",
        f"- Machine: {m.get('cpu_model', '?')}, {cores} cores ({m.get('logical_cores')} logical){mem}; "
        f"GPU: {gpus}; {m.get('platform', '')}",
        f"- Load average (1, 5, 15 min) at start {m.get('load_average_start')}, at end "
        f"{m.get('load_average_end')}: a load above the core count means other jobs shared the CPUs.",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
    ]
    env = {k: t.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    pools = ", ".join(f"{p.get('internal_api')} {p.get('num_threads')}" for p in t.get("threadpools", []))
    extra = f"; torch {t['torch_num_threads']}" if "torch_num_threads" in t else ""
    lines.append(f"- Threads: {', '.join(f'{k}={val}' for k, val in env.items())}; pools: {pools}{extra}")
    return lines


def _targets_section(doc: dict) -> list[str]:
    rows = target_rows(doc)
    quick = doc.get("mode") == "quick"
    ref = reference_backend(doc)
    out = [f"### Targets: {_reference_label(doc)} against scikit-learn", ""]
    if not rows:
        return [*out, f"No `{ref}` rows at the table's sizes in this run.", ""]
    if ref != "numpy":
        out += [f"Rows: the `{ref}` backend. The last column gives the pure-NumPy backend's ratio "
                "(`toolbox.set_backend(\"numpy\")`, no numba kernels) for the same case, measured "
                "in the same run.", ""]
    if quick:
        out += ["Quick mode: the sizes are 1/20 of the targets table's, so PASS/MISS is indicative only.", ""]
    pure = {r["case"]: r for r in doc["rows"] if r["backend"] == "numpy" and r["role"] == "table"}
    with_peers = any("peers" in r for r in rows)
    body = []
    for r in rows:
        q, sk, tb = r["quality"], r["sklearn"], r["toolbox"]
        qa = "yes" if q["agrees"] else f"**no** ({q['rel_diff']:.1e})"
        if "output_max_rel_diff" in q:
            qa += f"; outputs {q['output_max_rel_diff']:.0e}"
        body.append([
            r["estimator"], r["shape"], r["op"], _fmt_s(sk["median_s"]), _fmt_s(tb["median_s"]),
            f"**{_fmt_ratio(ratio(r))}**", f"≤ {r['target']}", _pass(meets_target(r)),
            q["name"], _fmt_q(q["sklearn"]), _fmt_q(q["toolbox"]), qa,
            _fmt_mib(sk["peak_memory_bytes"]), _fmt_mib(tb["peak_memory_bytes"]),
        ] + ([_fmt_best_peer(r)] if with_peers else [])
          + ([_fmt_ratio(ratio(pure[r["case"]])) if r["case"] in pure else "—"] if ref != "numpy" else []))
    counted = [r for r in rows if in_geomean(r)]
    g = geomean(ratio(r) for r in counted)
    gt = doc.get("settings", {}).get("geomean_target", 0.5)
    cases_in = len(counted)
    extra = ref != "numpy"
    g_pure = geomean(ratio(pure[r["case"]]) for r in counted if r["case"] in pure) if extra else None
    body.append(["**geometric mean**", f"{cases_in} estimators", "", "", "", f"**{_fmt_ratio(g)}**", f"≤ {gt}",
                 _pass(None if g is None else g <= gt), "", "", "", "", "", ""]
                + ([""] if with_peers else [])
                + ([_fmt_ratio(g_pure) if g_pure else "—"] if extra else []))
    out.append(_table(
        ["estimator", "data", "timed", "sklearn s", "toolbox s", "ratio", "target", "", "quality",
         "sklearn", "toolbox", "same answer", "sklearn MiB", "toolbox MiB"] + (["vs best peer"] if with_peers else [])
        + (["pure NumPy ratio"] if extra else []),
        body, align="lllrrrrclrrlrr" + ("r" if with_peers else "") + ("r" if extra else "")))
    missing = [c for c in _expected_cases(doc) if c not in {r["case"] for r in rows}]
    out.append("")
    apart = [r["case"] for r in rows if not in_geomean(r)]
    if apart:
        out += [f"The geometric mean covers issue 4's estimators only; not in it: {', '.join(apart)}.", ""]
    if with_peers:
        out += ["vs best peer: toolbox time / the fastest peer's time (LightGBM, XGBoost) in the same rounds; "
                "see *Peers*.", ""]
    if missing:
        out += [f"Not measured in this run: {', '.join(missing)} (see *Skipped and failed*); the geometric "
                "mean covers the estimators above only.", ""]
    rss = any(r["toolbox"].get("memory_method", "").startswith("rss") for r in rows)
    out += ["Times are medians over the rounds; peak memory: tracemalloc"
            + (", or the process's RSS where *Peak memory* says so" if rss else "") + " (see *Reading it*). "
            "Quality figures: " + "; ".join(sorted({f"{r['quality']['name']}: {r['quality']['description']}"
                                                     for r in rows})) + ".", ""]
    return out


def _fmt_best_peer(row: dict) -> str:
    best = best_peer(row)
    return "—" if best is None else f"{_fmt_ratio(best[1])} ({best[0]})"


def _peers_section(doc: dict) -> list[str]:
    """Toolbox against the peers (LightGBM, XGBoost) on the rows that timed them: time, quality, targets."""
    rows = [r for r in doc["rows"] if "peers" in r and r["role"] in ("table", "sweep")]
    if not rows:
        return []
    names = _peer_names(rows)
    rows.sort(key=lambda r: (_ordered_cases(doc["rows"]).index(r["case"]), _backend_key(r["backend"])))
    body = []
    for r in rows:
        pr = peer_ratios(r)
        peers = r["peers"]
        target = r.get("peer_target")
        of = r.get("peer_target_of")
        cells = [r["case"], r["shape"], r["backend"], r["op"], _fmt_s(r["toolbox"]["median_s"]),
                 _fmt_s(r["sklearn"]["median_s"])]
        cells += [_fmt_s(peers.get(n, {}).get("median_s")) for n in names]
        cells += [_fmt_ratio(pr.get(n)) for n in names]
        applies = target is not None and of in pr and r.get("target_applies")  # the targets' rows only
        cells += [_fmt_best_peer(r), f"≤ {target} ({of})" if target is not None else "—",
                  _pass(pr[of] <= target if applies else None)]
        q = r["quality"]
        cells += [q["name"], _fmt_q(q["toolbox"]), _fmt_q(q["sklearn"])]
        cells += [_fmt_q(peers.get(n, {}).get("quality")) for n in names]
        body.append(cells)
    header = (["estimator", "data", "backend", "timed", "toolbox s", "sklearn s"] + [f"{n} s" for n in names]
              + [f"vs {n}" for n in names] + ["vs best peer", "peer target", "", "quality", "toolbox", "sklearn"]
              + names)
    align = "llll" + "rr" + "r" * len(names) * 2 + "rrc" + "l" + "rr" + "r" * len(names)
    out = ["### Peers", "",
           "toolbox against other libraries with equivalent parameters, timed in the same rounds as "
           "scikit-learn on the same NumPy data (numpy and numba rows). vs *peer*: toolbox time / the "
           "peer's time; PASS/MISS on the rows the targets apply to. The peers' quality figures are shown, not "
           "compared (other algorithms' details differ).",
           "", _table(header, body, align=align), ""]
    params = sorted({(n, p["estimator"]) for r in rows for n, p in r["peers"].items() if p.get("estimator")})
    if params:
        out += ["Peer parameters (the mapping is in `benchmarks/README.md`):", ""]
        out += [f"- {n}: `{_cell(text)}`" for n, text in params]
        out.append("")
    versions = sorted({(n, p["version"]) for r in rows for n, p in r["peers"].items() if p.get("version")})
    if versions:
        out += ["Peer versions: " + ", ".join(f"{n} {v}" for n, v in versions) + ".", ""]
    skipped: dict[str, list[str]] = {}
    for r in rows:
        for n, p in r["peers"].items():
            if "skipped" in p:
                skipped.setdefault(f"{n}: {p['skipped']}", []).append(r["id"])
    if skipped:
        out += ["Peers not measured:", ""]
        for reason, ids in skipped.items():
            shown = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
            out.append(f"- {_cell(reason)}: {shown}")
        out.append("")
    return out


def _expected_cases(doc: dict) -> list[str]:
    names = _ordered_cases(doc["rows"])
    for entry in doc.get("skipped", []) + doc.get("failed", []):
        c = entry["id"].split("-", 1)[0]
        if c not in names:
            names.append(c)
    return names


def _matrix_section(doc: dict, ratio_png: str | None) -> list[str]:
    rows = [r for r in doc["rows"] if r["role"] in ("table", "gpu")]
    if not rows:
        return []
    backends = sorted({r["backend"] for r in rows}, key=_backend_key)
    lookup = {(r["case"], r["backend"]): r for r in rows}
    header = ["estimator"] + [
        b + (" (f32, GPU size)" if any(r["role"] == "gpu" and r["backend"] == b for r in rows) else "")
        for b in backends]
    body = []
    for c in _ordered_cases(rows):
        cells = [c]
        for b in backends:
            r = lookup.get((c, b))
            if r is None:
                cells.append("—")
                continue
            mark = "" if r["quality"]["agrees"] else " ✗"
            cells.append(_fmt_ratio(ratio(r)) + mark)
        body.append(cells)
    gms = backend_geomeans(doc)
    body.append(["**geometric mean**"] + [f"**{_fmt_ratio(gms[b]['geomean'])}**" if b in gms else "—"
                                          for b in backends])
    out = ["### Ratio per estimator and backend", "",
           "toolbox time / scikit-learn time at the table's sizes (GPU columns: 10^6 rows, float32, "
           "scikit-learn on the CPU). ✗: the quality figures differ by more than 1e-3."
           + (" The geometric means cover issue 4's estimators only." if any(not in_geomean(r) for r in rows)
              else ""), "",
           _table(header, body), ""]
    factor = doc.get("settings", {}).get("backend_factor", 2.0)
    checks = []
    for b in COMPARED_BACKENDS:
        info = gms.get(b)
        if info is None or info.get("vs_numpy") is None:
            continue
        ok = info["vs_numpy"] <= factor
        ref = reference_backend(doc)
        checks.append(f"- {b}: geometric mean {_fmt_ratio(info['geomean_shared'])} over the "
                      f"{info['shared']} estimators it shares with {ref} ({_fmt_ratio(info['numpy_geomean_shared'])}"
                      f"): {info['vs_numpy']:.2f} times {ref}'s, limit {factor:g} times — **{_pass(ok)}**")
    if checks:
        out += [f"torch and JAX on the CPU against the {_reference_label(doc)}:", "", *checks, ""]
    if ratio_png:
        out += [f"![ratio to scikit-learn per estimator and backend]({ratio_png})", ""]
    ska = [r for r in rows if "sklearn_array_api" in r]
    if ska:
        body = []
        for r in ska:
            a = r["sklearn_array_api"]
            if "skipped" in a:
                body.append([r["case"], r["backend"], "—", "—", f"skipped: {a['skipped']}"])
            else:
                body.append([r["case"], r["backend"], _fmt_s(a["median_s"]), _fmt_ratio(a["ratio"]),
                             "same answer" if a["quality_agrees"] else "**quality differs**"])
        out += ["scikit-learn's own Array API mode (`array_api_dispatch=True`) on the same torch tensors:", "",
                _table(["estimator", "backend", "sklearn array-API s", "toolbox / it", "note"], body,
                       align="llrrl"), ""]
    return out


def _memory_section(doc: dict) -> list[str]:
    rows = [r for r in doc["rows"] if r["role"] in ("table", "gpu")]
    if not rows:
        return []
    backends = sorted({r["backend"] for r in rows}, key=_backend_key)
    lookup = {(r["case"], r["backend"]): r for r in rows}
    body = []
    for c in _ordered_cases(rows):
        cells = [c]
        for b in backends:
            r = lookup.get((c, b))
            cells.append("—" if r is None else
                         f"{_fmt_mib(r['toolbox']['peak_memory_bytes'])} / {_fmt_mib(r['sklearn']['peak_memory_bytes'])}")
        body.append(cells)
    methods = []
    for b in backends:
        pairs = dict.fromkeys((r["toolbox"]["memory_method"], r["sklearn"]["memory_method"])
                              for r in rows if r["backend"] == b)
        methods.append(f"{b}: " + " or ".join(f"{tb} (scikit-learn: {sk})" for tb, sk in pairs))
    rss = sorted({r["case"] for r in rows if r["toolbox"]["memory_method"].startswith("rss")
                  and r["backend"] in ("numpy", "numba")})
    note = (f" Measured by the process's RSS on every CPU backend (numba's and C++ allocations bypass "
            f"tracemalloc): {', '.join(rss)}." if rss else "")
    return ["### Peak memory", "",
            "Extra memory of one run, toolbox / scikit-learn, MiB (input excluded). Methods: "
            + "; ".join(methods) + "." + note, "", _table(["estimator", *backends], body), "",
            *_budget_section(doc)]


def _budget_section(doc: dict) -> list[str]:
    rows = [r for r in doc["rows"] if "memory_budget" in r and r["role"] in ("table", "sweep")]
    if not rows:
        return []
    names = _peer_names(rows)
    order = _ordered_cases(doc["rows"])
    rows.sort(key=lambda r: (order.index(r["case"]), _backend_key(r["backend"]), r["n_samples"]))
    body = []
    for r in rows:
        b = r["memory_budget"]
        peers = r.get("peers") or {}
        body.append([r["case"], r["shape"], r["backend"], _fmt_mib(b["bytes"]),
                     _fmt_mib(r["toolbox"]["peak_memory_bytes"]), _pass(b.get("within")),
                     _fmt_mib(r["sklearn"]["peak_memory_bytes"])]
                    + [_fmt_mib(peers.get(n, {}).get("peak_memory_bytes")) for n in names]
                    + [r["toolbox"]["memory_method"]])
    rules = sorted({r["memory_budget"]["rule"] for r in rows})
    return ["**Memory budgets**", "",
            f"Peak extra memory of the toolbox operation against its budget ({'; '.join(rules)}), on the CPU; "
            "scikit-learn and the peers measured the same way, on the same data.", "",
            _table(["estimator", "data", "backend", "budget MiB", "toolbox MiB", "", "sklearn MiB",
                    *[f"{n} MiB" for n in names], "method"], body,
                   align="lllrrcr" + "r" * len(names) + "l"), ""]


def _scaling_section(doc: dict, scaling_png: str | None) -> list[str]:
    names = sweep_cases(doc)
    if not names:
        return []
    out = ["### Time against n", "",
           "Median seconds; scikit-learn measured alongside each backend, shown from the NumPy rows.", ""]
    for case in names:
        series, sk = _scaling_series(doc, case)
        ns = sorted({n for pts in series.values() for n, _ in pts} | {n for n, _ in sk})
        backends = list(series)
        body = []
        skd = dict(sk)
        for n in ns:
            cells = [f"{n:,}"]
            for b in backends:
                cells.append(_fmt_s(dict(series[b]).get(n)))
            cells.append(_fmt_s(skd.get(n)))
            body.append(cells)
        out += [f"**{case}**", "", _table(["rows", *[f"toolbox {b}" for b in backends], "scikit-learn"], body), ""]
    if scaling_png:
        out += [f"![time against n]({scaling_png})", ""]
    return out


def _issues_section(doc: dict) -> list[str]:
    out = []
    warned = []
    for r in doc["rows"]:
        for lib in ("toolbox", "sklearn"):
            for w in r[lib].get("warnings") or []:
                warned.append(f"- {r['id']} ({lib}): {_cell(w)}")
        for lib, p in (r.get("peers") or {}).items():
            for w in p.get("warnings") or []:
                warned.append(f"- {r['id']} ({lib}): {_cell(w)}")
    skipped = [f"- {s['id']}: {s['reason']}" for s in doc.get("skipped", [])]
    failed = [f"- {f['id']} ({f.get('when', 'call')}): {_cell(f['error'])}" for f in doc.get("failed", [])]
    if skipped or failed:
        out += ["### Skipped and failed", ""]
        if failed:
            out += ["Failed (an error in the estimator or the harness):", "", *failed, ""]
        if skipped:
            out += _collapse_skips(doc.get("skipped", []))
    if warned:
        out += ["### Warnings during the warm-up run", "", *sorted(set(warned)), ""]
    return out


def _collapse_skips(skipped: list[dict]) -> list[str]:
    by_reason: dict[str, list[str]] = {}
    for s in skipped:
        by_reason.setdefault(s["reason"], []).append(s["id"])
    lines = ["Skipped:", ""]
    for reason, ids in by_reason.items():
        shown = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
        lines.append(f"- {_cell(reason)}: {shown}")
    return [*lines, ""]


def render_doc(doc: dict, stem: str, img_dir: Path, md_dir: Path) -> str:
    """The markdown section for one results file; writes its PNGs into ``img_dir``."""
    ratio_png = plot_ratios(doc, img_dir / f"perf-{stem}-ratio.png")
    scaling_png = plot_scaling(doc, img_dir / f"perf-{stem}-scaling.png")

    def rel(p: Path | None) -> str | None:
        return None if p is None else Path(os.path.relpath(p, md_dir)).as_posix()

    lines = [f"## Results: {_mode_label(doc)}", "", *_env_lines(doc), ""]
    lines += _targets_section(doc)
    lines += _peers_section(doc)
    lines += _matrix_section(doc, rel(ratio_png))
    lines += _scaling_section(doc, rel(scaling_png))
    lines += _memory_section(doc)
    lines += _issues_section(doc)
    return "\n".join(lines)


def _header(out: Path) -> str:
    if out.exists():
        text = out.read_text()
        if MARKER in text:
            return text.split(MARKER, 1)[0].rstrip() + "\n"
    return DEFAULT_HEADER


def render(paths: Sequence[Path], out: Path, img_dir: Path) -> str:
    """Write ``out`` (header kept, results regenerated) and the PNGs; returns the markdown."""
    docs = []
    for p in paths:
        docs.append((Path(p).stem, json.loads(Path(p).read_text())))
    docs.sort(key=lambda sd: (sd[1].get("mode") != "full", sd[0]))
    parts = [_header(out), MARKER, ""]
    if not docs:
        parts.append("No results yet: run `bash scripts/bench.sh --quick`.\n")
    if len(docs) > 1:
        parts += ["Sections below: " + "; ".join(f"*{_mode_label(d)}* (`{s}.json`)" for s, d in docs) + ".", ""]
    for stem, doc in docs:
        parts.append(render_doc(doc, stem, img_dir, out.parent))
    text = "\n".join(parts).rstrip() + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="*", type=Path,
                    help="results JSON files (default: the matrix's, benchmarks/results/{full,quick}.json)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    ap.add_argument("--img-dir", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args(argv)
    # the other bench_*.py files write their own results beside these (cache.json, tracking.json, ...)
    paths = args.results or [p for p in (HERE / "results" / f"{m}.json" for m in ("full", "quick")) if p.is_file()]
    render(paths, args.out, args.img_dir)
    print(f"wrote {args.out} from {', '.join(str(p) for p in paths) or 'no results'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
