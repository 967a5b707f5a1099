"""Model registry benchmarks: the figures behind docs/registry.md.

    python benchmarks/bench_registry.py [--quick] [--postgres URL] [--out benchmarks/results/registry.json]

Measures

* 8 processes x 100 registrations of one model name, on SQLite and PostgreSQL:
  the versions must be exactly 1.0.0 ... 1.0.799 (no gap, no duplicate), no
  lock error; registrations per second (from the start gate to the last
  commit) and the wall time with process start-up;
* ``search`` over 100,000 versions (1,000 models x 100 versions, tags, metrics,
  stage holders) on SQLite: p50 / p95 of each filter over repeated runs;
* 1,000 promote/rollback cycles (2 writers x 500) against 2 readers that check,
  over and over, that exactly one version holds production: cycles per
  second, reader checks, and how many saw zero or two holders (must be 0).

PostgreSQL: ``--postgres URL``, else ``TOOLBOX_TEST_POSTGRES_URL``, else it is
skipped (``bash scripts/postgres.sh`` starts a local server and prints its URL).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRELUDE = r"""
import os, sys, time
import numpy as np
import toolbox.registry as registry
from toolbox.linear_model import LogisticRegression
uri, art = sys.argv[1], sys.argv[2]
registry.set_store(uri, art)
rng = np.random.default_rng(int(sys.argv[4]))
X = rng.standard_normal((60, 3)); y = (X[:, 0] > 0).astype(int)
def gate(path):
    while not os.path.exists(path):
        time.sleep(0.002)
"""

REGISTER = PRELUDE + r"""
n, idx, go = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
model = LogisticRegression(C=1.0 / (idx + 1)).fit(X, y)
gate(go)
t0 = time.time()
out = []
for i in range(n):
    out.append(registry.register(model, "churn", tags={"worker": str(idx)}).version)
print(t0, time.time(), " ".join(out), flush=True)
"""

FLIPPER = PRELUDE + r"""
cycles, go = int(sys.argv[3]), sys.argv[5]
versions = [f"1.0.{k}" for k in range(4)]
gate(go)
t0 = time.time(); done = 0
for c in range(cycles):
    if registry.promote("churn", versions[int(rng.integers(4))], "production"):
        registry.rollback("churn", "production")
        done += 1
print(t0, time.time(), done, flush=True)
"""

READER = PRELUDE + r"""
go, stop = sys.argv[5], sys.argv[6]
gate(go)
checks = zero = two = 0
while not os.path.exists(stop):
    try:
        registry.get_version("churn", stage="production")
    except registry.VersionNotFoundError:
        zero += 1
    n = len(registry.search("name = 'churn' and stage = 'production'"))
    zero += n == 0; two += n > 1; checks += 1
print(checks, zero, two, flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for k in ("TOOLBOX_TRACKING_URI", "TOOLBOX_REGISTRY_URI"):
        env.pop(k, None)
    return env


def _spawn(script: str, *args: object, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(), cwd=cwd)


class _PgSchema:
    """A fresh schema on the PostgreSQL server, dropped afterwards."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.conn.execute(f'CREATE SCHEMA "{self.schema}"')
        sep = "&" if "?" in url else "?"
        self.uri = f"{url}{sep}options={quote(f'-csearch_path={self.schema}')}"

    def close(self) -> None:
        self.conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        self.conn.close()


def bench_registrations(uri: str, work: Path, n_proc: int, n_each: int) -> dict:
    from toolbox.registry._semver import Version

    go = work / f"go-{uuid.uuid4().hex[:6]}"
    start = time.time()
    procs = [_spawn(REGISTER, uri, work / "art", n_each, k, go, cwd=work) for k in range(n_proc)]
    time.sleep(0.5)
    go.touch()
    outs = [p.communicate(timeout=1800) for p in procs]
    wall = time.time() - start
    lock_errors = sum("lock" in err.lower() for _, err in outs)
    failed = [err[-500:] for p, (_, err) in zip(procs, outs) if p.returncode != 0]
    t0s, t1s, versions = [], [], []
    for out, _ in outs:
        if out.strip():
            a, b, *vs = out.split()
            t0s.append(float(a))
            t1s.append(float(b))
            versions += vs
    want = [f"1.0.{k}" for k in range(n_proc * n_each)]
    exact = sorted(versions, key=Version.parse) == want
    window = max(t1s) - min(t0s) if t0s else float("nan")
    return {"processes": n_proc, "each": n_each, "registered": len(versions), "exact_versions": exact,
            "duplicates": len(versions) - len(set(versions)), "lock_errors": lock_errors, "failed": failed,
            "window_s": round(window, 2), "registrations_per_s": round(len(versions) / window, 1),
            "wall_with_startup_s": round(wall, 2)}


def bench_cycles(uri: str, work: Path, n_writers: int, cycles_each: int, n_readers: int) -> dict:
    import numpy as np

    import toolbox.registry as registry
    from toolbox.linear_model import LogisticRegression

    registry.set_store(uri, work / "art")
    try:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((40, 2))
        m = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
        for k in range(4):
            registry.register(m, "churn")
            registry.promote("churn", f"1.0.{k}", "production")
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)
    go, stop = work / f"go-{uuid.uuid4().hex[:6]}", work / f"stop-{uuid.uuid4().hex[:6]}"
    writers = [_spawn(FLIPPER, uri, work / "art", cycles_each, k + 1, go, cwd=work) for k in range(n_writers)]
    readers = [_spawn(READER, uri, work / "art", 0, 0, go, stop, cwd=work) for _ in range(n_readers)]
    time.sleep(0.5)
    go.touch()
    w = [p.communicate(timeout=1800) for p in writers]
    stop.touch()
    r = [p.communicate(timeout=600) for p in readers]
    errors = [err[-500:] for p, (_, err) in zip(writers + readers, w + r) if p.returncode != 0]
    t0 = min(float(out.split()[0]) for out, _ in w)
    t1 = max(float(out.split()[1]) for out, _ in w)
    done = sum(int(out.split()[2]) for out, _ in w)
    checks = [list(map(int, out.split())) for out, _ in r]
    registry.set_store(uri, work / "art")
    try:
        fsck_ok = registry.fsck().ok
        final = registry.get_version("churn", stage="production").version
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)
    return {"writers": n_writers, "cycles_attempted": n_writers * cycles_each, "cycles_done": done,
            "cycles_per_s": round(done / (t1 - t0), 1), "reader_checks": sum(c[0] for c in checks),
            "readers_saw_zero": sum(c[1] for c in checks), "readers_saw_two": sum(c[2] for c in checks),
            "final_holder": final, "fsck_ok": fsck_ok, "errors": errors}


def _populate(store, n_models: int, per_model: int) -> None:
    """Insert versions directly (same schema, same keys): registering 100,000 models would measure save()."""
    from sqlalchemy import insert

    from toolbox.registry._semver import Version
    from toolbox.store import _schema as S

    rnd = random.Random(0)
    now = time.time()
    teams = ["risk", "growth", "ops", "fraud"]
    prefixes = ["churn", "fraud", "ltv", "upsell", "credit"]
    manifest = json.dumps({"format": "toolbox-registry-artifact", "format_version": 1, "files": {}})
    vid = 0
    with store.write() as conn:
        for m in range(n_models):
            name = f"{prefixes[m % len(prefixes)]}-{m:04d}"
            conn.execute(insert(S.registry_models).values(id=m + 1, name=name, description=None, created_at=now,
                                                          updated_at=now))
            versions, tags, metrics = [], [], []
            for k in range(per_model):
                vid += 1
                v = Version(k // 25 + 1, (k // 5) % 5, k % 5)
                versions.append({"id": vid, "model_id": m + 1, "name": name, "version": str(v), "sort_key": v.key,
                                 "major": v.major, "minor": v.minor, "patch": v.patch, "prerelease": None,
                                 "description": None, "estimator": "toolbox.linear_model.LogisticRegression",
                                 "signature": "{}", "params": "{}", "manifest": manifest, "sha256": "0" * 64,
                                 "size": 1000, "toolbox_version": "0.1.0", "backend": "numpy", "device": "cpu",
                                 "dtype": "float64", "run_id": None, "data_fingerprint": None, "code_version": None,
                                 "created_by": "bench", "created_at": now + vid})
                tags.append({"version_id": vid, "key": "team", "value": rnd.choice(teams)})
                metrics.append({"version_id": vid, "key": "auc", "value": rnd.uniform(0.6, 1.0)})
                metrics.append({"version_id": vid, "key": "loss", "value": rnd.uniform(0.0, 1.0)})
            conn.execute(insert(S.registry_versions), versions)
            conn.execute(insert(S.registry_version_tags), tags)
            conn.execute(insert(S.registry_version_metrics), metrics)
            conn.execute(insert(S.registry_holders).values(model_id=m + 1, kind="stage", slot="production",
                                                           version_id=vid - rnd.randrange(per_model), since=now))


SEARCHES = [
    "name like 'churn%' and tags.team = 'risk' and metrics.auc >= 0.9 and stage = 'production' or version ~ '^2'",
    "name like 'churn%' and tags.team = 'risk' and metrics.auc >= 0.9 and stage = 'production'",
    "name = 'fraud-0421' and version ~ '^3.2'",
    "stage = 'production' and metrics.auc > 0.95",
    "tags.team = 'ops' and (metrics.loss < 0.01 or version ~ '~4.4')",
]


def bench_search(work: Path, n_models: int, per_model: int, repeats: int) -> dict:
    import toolbox.registry as registry
    from toolbox.store import open_store

    store = open_store(work / "search-store", work / "search-art")
    t = time.time()
    _populate(store, n_models, per_model)
    fill = time.time() - t
    store.close()
    registry.set_store(work / "search-store", work / "search-art")
    out = {"versions": n_models * per_model, "models": n_models, "fill_s": round(fill, 1), "filters": []}
    try:
        reg = registry.get_registry()
        from toolbox.registry._api import _search

        for f in SEARCHES:
            for order in (None, ["metrics.auc DESC"]):
                n = len(_search(reg, f, order, 100))  # warm
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    _search(reg, f, order, 100)
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                out["filters"].append({"filter": f, "order_by": order, "results": n, "max_results": 100,
                                       "p50_ms": round(statistics.median(times), 2),
                                       "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)})
    finally:
        registry.get_registry().store.close()
        registry.set_store(None)
    out["worst_p95_ms"] = max(x["p95_ms"] for x in out["filters"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--postgres", default=os.environ.get("TOOLBOX_TEST_POSTGRES_URL"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "registry.json"))
    ap.add_argument("--search-only", action="store_true",
                    help="re-measure search only, keeping the other figures already in --out")
    args = ap.parse_args()
    n_each, cycles_each, n_models, repeats = (10, 50, 100, 20) if args.quick else (100, 500, 1000, 100)
    results: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                                 "cpus": os.cpu_count()}, "quick": args.quick}
    if args.search_only and Path(args.out).exists():
        results = {**json.loads(Path(args.out).read_text()), **results}
    with tempfile.TemporaryDirectory(prefix="bench-registry-", dir=os.environ.get("TMPDIR")) as tmp:
        work = Path(tmp)
        targets = [("sqlite", lambda: (str(work / f"s-{uuid.uuid4().hex[:6]}"), None))]
        if args.postgres:
            def pg():
                s = _PgSchema(args.postgres)
                return s.uri, s
            targets.append(("postgresql", pg))
        for dialect, make in [] if args.search_only else targets:
            uri, handle = make()
            try:
                r = bench_registrations(uri, work, 8, n_each)
                print(f"{dialect}: 8 x {n_each} registrations: {r}", flush=True)
                results.setdefault("registrations", {})[dialect] = r
            finally:
                if handle is not None:
                    handle.close()
            uri, handle = make()
            try:
                c = bench_cycles(uri, work, 2, cycles_each, 2)
                print(f"{dialect}: promote/rollback: {c}", flush=True)
                results.setdefault("promote_rollback", {})[dialect] = c
            finally:
                if handle is not None:
                    handle.close()
        s = bench_search(work, n_models, 100, repeats)
        print(f"search over {s['versions']} versions: worst p95 {s['worst_p95_ms']} ms", flush=True)
        for f in s["filters"]:
            print(f"  p50 {f['p50_ms']:7.2f} ms  p95 {f['p95_ms']:7.2f} ms  {f['results']:3d} results  "
                  f"{f['filter'][:70]} {f['order_by'] or ''}")
        results["search"] = s
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
