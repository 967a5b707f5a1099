"""One benchmark per (estimator, backend, size): toolbox against scikit-learn, same process, same data.

For each cell:

1. the data is generated once per session (``cases.get_data``) and converted to the
   backend outside any timing;
2. warm-up: one untimed run of each library (two for JAX, whose first call compiles);
   its time sets the number of rounds for the mode's time budget;
3. timing: ``benchmark.pedantic`` times the toolbox operation; its ``setup`` (run
   before every round, untimed by pytest-benchmark) times one scikit-learn run, so
   the rounds alternate scikit-learn, toolbox, scikit-learn, toolbox... and machine
   noise hits both alike. Asynchronous backends are synchronised inside the timing.
   A case's peers (LightGBM, XGBoost) are timed in the same ``setup``, after
   scikit-learn, on the NumPy rows (``numpy``, ``numba``) only; a peer that is not
   installed is recorded as skipped;
4. quality: the case's quality figure for every result ("same answer" = toolbox
   within ``cases.QUALITY_RTOL`` relative of scikit-learn; peers are reported, not
   compared);
5. peak memory: one more untimed run of each library under the backend's method
   (``measure.memory_method``; the process's RSS for cases with ``rss_memory``), and
   the case's memory budget when it has one.

The row goes to the results file (``conftest.pytest_sessionfinish``). No timing is
asserted: a target missed is a figure in the report, not a failure.
"""

from __future__ import annotations

import gc
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import cases
import measure
import numpy as np
import pytest

BUDGET = {  # (seconds for all timed rounds of both libraries, min rounds, max rounds)
    "quick": (0.5, 3, 10),
    "full": (5.0, 3, 20),
}


def _runner(case: cases.Case, est_factory: Callable[[], Any], arrays: dict[str, Any], backend: str,
            device: Any, fitted: Any = None) -> Callable[[], tuple[Any, Any]]:
    """A zero-argument function running the case's timed operation once, synchronised."""
    X, y, Xq = arrays["X"], arrays.get("y"), arrays.get("X_query")
    fit_args = (X, y) if case.supervised else (X,)

    def run() -> tuple[Any, Any]:
        if case.op == "fit":
            est = est_factory().fit(*fit_args)
            out = None
            measure.sync(est, backend, device)
        elif case.op == "fit_transform":
            est = est_factory()
            out = est.fit_transform(*fit_args)
            measure.sync(out, backend, device)
        elif case.op == "predict":
            est = fitted
            out = est.predict(Xq)
            measure.sync(out, backend, device)
        else:
            raise ValueError(f"unknown op {case.op!r}")
        return est, out

    return run


def _quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
    def wrapped() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()

    return wrapped


def _probe(fn: Callable[[], Any], n: int) -> tuple[float, list[str]]:
    """Untimed warm-up runs; returns the last one's time and the warnings raised."""
    caught: list[str] = []
    t = math.inf
    for _ in range(n):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t, _ = measure.timed(fn)
        caught += [f"{x.category.__name__}: {str(x.message)[:200]}" for x in w]
    return t, sorted(set(caught))


def _peak(fn: Callable[[], Any], method: str, device: Any) -> int | None:
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with measure.peak_memory(method, device) as p:
            fn()
    return p.bytes


def _rel(a: float, b: float) -> float:
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(b), np.finfo(np.float64).tiny)


def _lib_record(times: list[float], peak: int | None, method: str, warns: list[str]) -> dict[str, Any]:
    return {**measure.summarize(times), "peak_memory_bytes": peak, "memory_method": method, "warnings": warns}


#: The rows on which a case's peers are timed: NumPy data as both libraries take it.
PEER_BACKENDS = ("numpy", "numba")


def _peer_runners(case: cases.Case, bparam, host: dict[str, Any]) -> tuple[dict[str, Callable], dict[str, str]]:
    """Runners for the case's peers on the host data (untimed fit first for ``predict``), and the skips."""
    runners: dict[str, Callable[[], tuple[Any, Any]]] = {}
    skipped: dict[str, str] = {}
    if not case.peers or bparam.gpu or bparam.id not in PEER_BACKENDS:
        return runners, skipped
    for peer in case.peers:
        why = peer.missing()
        if why is not None:
            skipped[peer.name] = why
            continue
        try:
            cls = peer.peer_class()
            kw = peer.kwargs()
            fitted = None
            if case.op == "predict":
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fitted = cls(**kw).fit(host["X"], host.get("y"))
        except Exception as exc:  # a broken install: record it, time the others
            skipped[peer.name] = f"{type(exc).__name__}: {str(exc)[:300]}"
            continue
        runners[peer.name] = _runner(case, lambda cls=cls, kw=kw: cls(**kw), host, "numpy", None, fitted)
    return runners, skipped


def test_matrix(cell, benchmark, bench_results, bench_mode, sklearn_array_api) -> None:
    from toolbox.testing import backend_param

    case, size, bparam = cell
    ds = size.dataset
    try:
        tb_cls = case.toolbox_class()
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"toolbox {case.module}.{case.cls} is not available: {exc}")
    sk_cls = case.sklearn_class()

    b = backend_param(bparam)
    if isinstance(b, str):
        pytest.skip(b)
    try:
        row = _bench(case, size, bparam, b, tb_cls, sk_cls, benchmark, bench_mode, sklearn_array_api)
    finally:
        b.close()
        gc.unfreeze()
    row["id"] = f"{case.name}-{bparam.id}-{ds.n_samples}x{ds.n_features}-{ds.dtype}"
    benchmark.extra_info.update({k: row[k] for k in ("ratio", "role")})
    bench_results.append(row)


def _bench(case, size, bparam, b, tb_cls, sk_cls, benchmark, mode, sklearn_array_api) -> dict[str, Any]:
    ds = size.dataset
    data = cases.get_data(ds)
    host = data.arrays()
    xb = {k: b.asarray(v) for k, v in host.items()}  # outside any timing
    backend, device = bparam.backend, b.device

    tb_kw = case.kwargs({k: xb[k] for k in case.data_params})
    sk_kw = case.kwargs({k: host[k] for k in case.data_params})
    tb_fitted = sk_fitted = None
    if case.op == "predict":  # fit once, untimed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tb_fitted = tb_cls(**tb_kw).fit(xb["X"], xb.get("y"))
            sk_fitted = sk_cls(**sk_kw).fit(host["X"], host.get("y"))
    tb_run = _runner(case, lambda: tb_cls(**tb_kw), xb, backend, device, tb_fitted)
    sk_run = _runner(case, lambda: sk_cls(**sk_kw), host, "numpy", None, sk_fitted)
    peer_runs, peer_skips = _peer_runners(case, bparam, host)

    # scikit-learn's own Array API mode on the same torch tensors (GPU rows; "on": CPU torch rows too)
    ska = _sklearn_array_api_runner(case, bparam, b, sk_cls, xb, sklearn_array_api)
    ska_run, ska_skip = ska if isinstance(ska, tuple) else (None, ska)

    # 1. warm-up (also: compilation, caches), which sets the number of rounds
    t_sk, sk_warn = _probe(sk_run, 1)
    t_tb, tb_warn = _probe(tb_run, 2 if backend == "jax" else 1)
    t_peers: dict[str, float] = {}
    peer_warn: dict[str, list[str]] = {}
    for name, run in list(peer_runs.items()):
        try:
            t_peers[name], peer_warn[name] = _probe(run, 1)
        except Exception as exc:  # record it; toolbox and scikit-learn are still measured
            del peer_runs[name]
            peer_skips[name] = f"{type(exc).__name__}: {str(exc)[:300]}"
    ska_warn: list[str] = []
    if ska_run is not None:
        try:
            _, ska_warn = _probe(ska_run, 1)
        except Exception as exc:  # scikit-learn's Array API support is partial: record why
            ska_run, ska_skip = None, f"{type(exc).__name__}: {str(exc)[:300]}"
    # One full collection, then freeze what exists (modules imported by the warm-up, data): the
    # per-round collections then only scan new objects (a full one takes ~0.15 s with torch and JAX
    # loaded). test_matrix unfreezes at the end.
    gc.collect()
    gc.freeze()
    budget, lo, hi = BUDGET[mode]
    if case.max_rounds is not None:
        lo, hi = min(lo, case.max_rounds), min(hi, case.max_rounds)
    rounds = int(min(hi, max(lo, math.ceil(budget / max(t_sk + t_tb + sum(t_peers.values()), 1e-9)))))

    # 2. timing, interleaved: setup() times one scikit-learn run before each toolbox round
    sk_times: list[float] = []
    ska_times: list[float] = []
    tb_times: list[float] = []
    peer_times: dict[str, list[float]] = {name: [] for name in peer_runs}
    last: dict[str, Any] = {}

    def setup():
        measure.settle()
        t, last["sk"] = measure.timed(_quiet(sk_run))
        sk_times.append(t)
        if ska_run is not None:
            measure.settle()
            t, last["ska"] = measure.timed(_quiet(ska_run))
            ska_times.append(t)
        for name, run in peer_runs.items():
            measure.settle()
            t, last[("peer", name)] = measure.timed(_quiet(run))
            peer_times[name].append(t)
        measure.settle()

    def target():
        t, res = measure.timed(_quiet(tb_run))
        tb_times.append(t)
        last["tb"] = res
        return res

    benchmark.pedantic(target, setup=setup, rounds=rounds, warmup_rounds=0, iterations=1)
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    tb_summary = measure.summarize(tb_times)
    if stats is not None and getattr(stats, "rounds", 0):  # pytest-benchmark's own figures
        tb_summary.update(median_s=stats.median, min_s=stats.min, max_s=stats.max, rounds=stats.rounds)

    # 3. quality, on the host, outside the timing
    qname = case.quality
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q_tb = cases.quality(qname, *last["tb"], xb, data, b.to_numpy)
        q_sk = cases.quality(qname, *last["sk"], host, data, np.asarray)
    quality = {"name": qname, "description": cases.QUALITY[qname][1],
               "higher_is_better": cases.QUALITY[qname][2], "toolbox": q_tb, "sklearn": q_sk,
               "rel_diff": _rel(q_tb, q_sk), "agrees": _rel(q_tb, q_sk) <= cases.QUALITY_RTOL}
    if case.compare_output:
        a = b.to_numpy(last["tb"][1]).astype(np.float64)
        r = np.asarray(last["sk"][1], dtype=np.float64)
        quality["output_max_rel_diff"] = float(np.max(np.abs(a - r)) / max(np.max(np.abs(r)), 1e-300))

    # 4. peak memory: one more untimed run each. scikit-learn is measured like the toolbox backend
    # where that method sees NumPy too (RSS), else with tracemalloc.
    tb_method = measure.memory_method(backend, device)
    if case.rss_memory and tb_method == "tracemalloc":
        tb_method = measure.rss_method()
    sk_method = tb_method if tb_method.startswith("rss") else "tracemalloc"
    tb_peak = _peak(tb_run, tb_method, device)
    sk_peak = _peak(sk_run, sk_method, None)

    sk_summary = measure.summarize(sk_times)
    ratio = tb_summary["median_s"] / sk_summary["median_s"]
    is_table = size.role == "table"
    row: dict[str, Any] = {
        "case": case.name,
        "estimator": case.param_text,
        "module": case.module,
        "op": case.op,
        "backend": bparam.id,
        "library": backend,
        "device": str(device),
        "dtype": ds.dtype,
        "dataset": ds.kind,
        "n_samples": ds.n_samples,
        "n_features": ds.n_features,
        "n_queries": ds.n_queries,
        "shape": ds.shape,
        "role": size.role,
        "toolbox": {**tb_summary, "peak_memory_bytes": tb_peak, "memory_method": tb_method,
                    "warnings": tb_warn},
        "sklearn": _lib_record(sk_times, sk_peak, sk_method, sk_warn),
        "ratio": ratio,
        "ratio_min": tb_summary["min_s"] / sk_summary["min_s"],
        "target": case.target,
        # targets are defined for the NumPy backend at the table's size (quick mode: 1/20 of it, so
        # indicative only); the other backends' rows are compared through the geometric means
        "meets_target": (ratio <= case.target) if is_table and case.target is not None else None,
        "target_applies": is_table and bparam.id == cases.target_backend(),
        "in_geomean": case.in_geomean,
        "quality": quality,
    }
    if case.memory_budget is not None and not bparam.gpu:
        limit = case.memory_budget.bytes(ds)
        row["memory_budget"] = {"bytes": limit, "rule": case.memory_budget.text,
                                "within": None if tb_peak is None else tb_peak <= limit}
    if case.peers and not bparam.gpu and bparam.id in PEER_BACKENDS:
        row.update(_peer_record(case, peer_runs, peer_skips, peer_times, peer_warn, last, host, data, q_sk,
                                tb_summary["median_s"], sk_method if sk_method.startswith("rss")
                                else measure.rss_method(), row.get("memory_budget")))
    if ska_run is not None:
        ska_method = measure.memory_method(backend, device)
        ska_summary = measure.summarize(ska_times)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearn import config_context

            with config_context(array_api_dispatch=True):
                q = cases.quality(qname, *last["ska"], xb, data, b.to_numpy)
        row["sklearn_array_api"] = {**ska_summary, "peak_memory_bytes": _peak(ska_run, ska_method, device),
                                    "memory_method": ska_method, "warnings": ska_warn, "quality": q,
                                    "quality_agrees": _rel(q_tb, q) <= cases.QUALITY_RTOL,
                                    "ratio": tb_summary["median_s"] / ska_summary["median_s"]}
    elif ska_skip:
        row["sklearn_array_api"] = {"skipped": ska_skip}
    return row


def _peer_record(case, runs, skips, times, warns, last, host, data, q_sk, tb_median, method,
                 budget) -> dict[str, Any]:
    """The row's ``peers`` (one record per peer: times, memory, quality, or ``skipped``) and the peer ratios."""
    peers: dict[str, Any] = {}
    for peer in case.peers:
        if peer.name in skips or peer.name not in runs:
            peers[peer.name] = {"estimator": peer.param_text,
                                "skipped": skips.get(peer.name, "not run")}
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            q = cases.quality(case.quality, *last[("peer", peer.name)], host, data, np.asarray)
        # C++ allocators bypass tracemalloc: peers are always measured by the process's RSS
        peak = _peak(runs[peer.name], method, None)
        summary = measure.summarize(times[peer.name])
        rec = {"estimator": peer.param_text, "version": peer.version(), **summary,
               "peak_memory_bytes": peak, "memory_method": method, "warnings": warns.get(peer.name, []),
               "quality": q, "quality_rel_diff_vs_sklearn": _rel(q, q_sk),
               "ratio": tb_median / summary["median_s"]}
        if budget is not None and peak is not None:
            rec["within_memory_budget"] = peak <= budget["bytes"]
        peers[peer.name] = rec
    out: dict[str, Any] = {"peers": peers}
    timed = {k: v for k, v in peers.items() if "median_s" in v}
    if timed:
        best = min(timed, key=lambda k: timed[k]["median_s"])
        out.update(peer_best=best, ratio_vs_best_peer=timed[best]["ratio"])
    if case.peer_target is not None:
        ref = timed.get(case.peer_target_of or "")
        out.update(peer_target=case.peer_target, peer_target_of=case.peer_target_of,
                   meets_peer_target=None if ref is None else ref["ratio"] <= case.peer_target)
    return out


def _sklearn_array_api_runner(case, bparam, b, sk_cls, xb, setting) -> tuple[Callable, None] | str | None:
    """A runner for scikit-learn in Array API mode on the torch data, or why there is none."""
    if bparam.backend != "torch" or setting == "off":
        return None
    on_gpu = bparam.gpu
    if setting == "auto" and not on_gpu:
        return None
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        return "SCIPY_ARRAY_API=1 was not set when the run started (scripts/bench.sh sets it on GPU machines)"
    from sklearn import config_context

    kw = case.kwargs({k: xb[k] for k in case.data_params})
    fitted = None
    try:
        if case.op == "predict":
            with config_context(array_api_dispatch=True), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted = sk_cls(**kw).fit(xb["X"], xb.get("y"))
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    inner = _runner(case, lambda: sk_cls(**kw), xb, "torch", b.device, fitted)

    def run() -> tuple[Any, Any]:
        with config_context(array_api_dispatch=True):
            return inner()

    return run, None
