"""Run scikit-learn's own test modules with toolbox's classes and functions in place of scikit-learn's.

Usage (from the repository root; scripts/upstream-tests.sh wraps it)::

    .venv/bin/python scripts/upstream/run.py                       # every module in MODULES
    .venv/bin/python scripts/upstream/run.py metrics/tests/test_regression.py ...   # a subset

Each module is copied from the installed scikit-learn into a temporary folder
with every ``from sklearn.<family> import A, B`` (module level or inside a
test) split so that the names toolbox provides come from ``toolbox.<family>``:
exactly the one-line change the README promises. pytest then runs the copies
with scikit-learn's conftest and :mod:`plugin`, which counts only the tests
that reached a toolbox object and buckets their failures.

Results go to ``docs/compatibility.json`` (every touched test: outcome, bucket,
message; a subset run replaces the modules it ran and keeps the others) and
``docs/compatibility.md`` (per-module table, top causes, declared differences).
"""

from __future__ import annotations

import argparse
import ast
import collections
import datetime
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from buckets import classify  # noqa: E402
from declared import DECLARED, declared_for  # noqa: E402
from plugin import FAMILIES  # noqa: E402

#: scikit-learn test modules (relative to the sklearn package) that exercise what toolbox provides.
MODULES = (
    "preprocessing/tests/test_data.py",
    "preprocessing/tests/test_encoders.py",
    "preprocessing/tests/test_label.py",
    "preprocessing/tests/test_polynomial.py",
    "impute/tests/test_impute.py",
    "impute/tests/test_common.py",
    "linear_model/tests/test_base.py",
    "linear_model/tests/test_ridge.py",
    "linear_model/tests/test_coordinate_descent.py",
    "linear_model/tests/test_sparse_coordinate_descent.py",
    "linear_model/tests/test_logistic.py",
    "tests/test_discriminant_analysis.py",
    "tests/test_naive_bayes.py",
    "cluster/tests/test_k_means.py",
    "decomposition/tests/test_pca.py",
    "decomposition/tests/test_truncated_svd.py",
    "neighbors/tests/test_neighbors.py",
    "ensemble/_hist_gradient_boosting/tests/test_gradient_boosting.py",
    "ensemble/_hist_gradient_boosting/tests/test_warm_start.py",
    "ensemble/_hist_gradient_boosting/tests/test_monotonic_constraints.py",
    "metrics/tests/test_classification.py",
    "metrics/tests/test_ranking.py",
    "metrics/tests/test_regression.py",
    "metrics/tests/test_score_objects.py",
    "metrics/tests/test_common.py",
    "model_selection/tests/test_split.py",
    "model_selection/tests/test_validation.py",
    "model_selection/tests/test_search.py",
    "model_selection/tests/test_successive_halving.py",
    "model_selection/tests/test_classification_threshold.py",
)

BUCKETS = ("declared", "unsupported", "wrong-answer", "missing-warning-message", "internal-error")


def toolbox_names() -> dict[str, set[str]]:
    """family -> the public names toolbox provides there."""
    return {fam: set(importlib.import_module(f"toolbox.{fam}").__all__) for fam in FAMILIES}


def _same_object(module: str, public: str, name: str) -> bool:
    try:
        a = getattr(importlib.import_module(module), name, None)
        return a is not None and a is getattr(importlib.import_module(public), name, None)
    except ImportError:
        return False


def rewrite(source: str, names: dict[str, set[str]]) -> tuple[str, int]:
    """Split ``from sklearn.<family> import ...`` so toolbox's names come from toolbox; line numbers are kept."""
    tree = ast.parse(source)
    edits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
            continue
        parts = node.module.split(".")
        if len(parts) < 2 or parts[0] != "sklearn" or parts[1] not in names:
            continue
        provided = names[parts[1]]
        if len(parts) > 2:  # a private module: only the names that are the family's public objects
            provided = {n for n in provided if _same_object(node.module, f"sklearn.{parts[1]}", n)}
        ours = [a for a in node.names if a.name in provided]
        if not ours:
            continue
        theirs = [a for a in node.names if a.name not in provided]

        def fmt(aliases: list[ast.alias]) -> str:
            return ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)

        stmts = [f"from toolbox.{parts[1]} import {fmt(ours)}"]
        if theirs:
            stmts.insert(0, f"from {node.module} import {fmt(theirs)}")
        edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, "; ".join(stmts)))
    lines = source.splitlines(keepends=True)
    for lineno, col, end_lineno, end_col, text in sorted(edits, reverse=True):
        first, last = lines[lineno - 1], lines[end_lineno - 1]
        new = first[:col] + text + "\n" * (end_lineno - lineno) + last[end_col:]
        lines[lineno - 1:end_lineno] = [new]
    return "".join(lines), len(edits)


def prepare(modules: list[str], tmp: Path) -> dict[str, int]:
    import sklearn

    src_root = Path(sklearn.__file__).parent
    names = toolbox_names()
    swapped = {}
    for rel in modules:
        src = src_root / rel
        if not src.is_file():
            raise SystemExit(f"upstream-tests: {rel} is not a test module of the installed scikit-learn ({src_root})")
        text, n = rewrite(src.read_text(encoding="utf-8"), names)
        dst = tmp / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(text, encoding="utf-8")
        swapped[rel] = n
    (tmp / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")
    return swapped


def run_pytest(modules: list[str], tmp: Path, workers: int, timeout: int, extra: list[str]) -> int:
    out = tmp / "_results"
    out.mkdir()
    env = dict(os.environ)
    env["TOOLBOX_UPSTREAM_OUT"] = str(out)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", ""), str(ROOT)) if p)
    env.setdefault("SKLEARN_SKIP_NETWORK_TESTS", "1")
    cmd = [sys.executable, "-m", "pytest", "-c", str(tmp / "pytest.ini"), "--rootdir", str(tmp),
           "--import-mode=importlib", "-p", "sklearn.conftest", "-p", "plugin", "-q", "--no-header",
           "-rN", "--tb=no", "-p", "no:warnings", "--continue-on-collection-errors"]
    try:
        import pytest_timeout  # noqa: F401

        cmd += ["--timeout", str(timeout)]
    except ImportError:
        print("upstream-tests: pytest-timeout is not installed; running without a per-test timeout", file=sys.stderr)
    if workers > 1:
        cmd += ["-n", str(workers)]
    cmd += extra + modules
    print("upstream-tests:", " ".join(cmd), flush=True)
    return subprocess.call(cmd, cwd=tmp, env=env)


def collect(tmp: Path) -> list[dict]:
    records = {}
    for f in sorted((tmp / "_results").glob("results-*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            records[rec["nodeid"]] = rec
    out = []
    for rec in records.values():
        rec["module"] = rec["nodeid"].split("::", 1)[0]
        if rec["outcome"] == "collection-error":
            out.append(rec)
            continue
        bucket(rec)
        out.append(rec)
    return out


def bucket(rec: dict) -> None:
    """Set ``bucket``/``sub`` (and ``declared``) of a failed test's record from its facts."""
    for k in ("bucket", "sub", "declared"):
        rec.pop(k, None)
    if rec["outcome"] != "failed":
        return
    rec["bucket"], rec["sub"] = classify(rec)
    d = declared_for(rec)  # each declared difference says which buckets it explains
    if d is not None:
        rec["bucket"], rec["declared"] = "declared", d.id


def summarize(records: list[dict]) -> dict[str, dict]:
    mods: dict[str, dict] = {}
    for rec in records:
        m = mods.setdefault(rec["module"], {"collected": 0, "touched": 0, "passed": 0, "failed": 0,
                                            "skipped": 0, **{b: 0 for b in BUCKETS}})
        if rec["outcome"] == "collection-error":
            m["collection_error"] = rec.get("message", "")
            continue
        m["collected"] += 1
        if not rec.get("touched"):
            continue
        if rec["outcome"] in ("skipped", "xfailed"):
            m["skipped"] += 1
            continue
        m["touched"] += 1
        if rec["outcome"] in ("passed", "xpassed"):
            m["passed"] += 1
        else:
            m["failed"] += 1
            m[rec.get("bucket", "internal-error")] += 1
    return mods


def versions() -> dict[str, str]:
    import numpy
    import scipy
    import sklearn

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "toolbox"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    label = os.environ.get("TOOLBOX_UPSTREAM_LABEL") or commit + ("+local changes" if dirty else "")
    return {"toolbox_commit": label, "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")}


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def write_docs(data: dict, md_path: Path) -> None:
    mods = data["modules"]
    tests = [t for m in mods.values() for t in m["tests"]]
    lines = [
        "# Compatibility with scikit-learn's own tests",
        "",
        "<!-- generated by scripts/upstream-tests.sh; do not edit by hand -->",
        "",
        "scikit-learn's test modules for the estimators and functions toolbox provides, run with toolbox's",
        "class or function in place of scikit-learn's: each `from sklearn.<family> import ...` line of the",
        "copied test module takes the names toolbox provides from `toolbox.<family>` instead (the change",
        "[migrating](migrating-from-scikit-learn.md) promises). Only tests that reached a toolbox object",
        "(constructed a toolbox class, called one of its methods or a toolbox function) are counted;",
        "skipped tests are left out. Reproduce with `scripts/upstream-tests.sh` (all modules: about 9,000",
        "tests, five minutes on two cores) or `scripts/upstream-tests.sh metrics/tests/test_regression.py ...`",
        "(a subset, which replaces those modules' rows). Every counted test, with its outcome, failure bucket",
        "and message, is in [compatibility.json](compatibility.json); `--reclassify` re-buckets it without",
        "running anything. A module that cannot be imported with toolbox's objects (a toolbox class refusing",
        "a parameter scikit-learn's test module passes at import time) is listed as a collection error.",
        "",
        "Buckets of a failure, from its exception:",
        "",
        "- **declared**: one of the [declared differences](#declared-differences) below (a failure all the same);",
        "- **unsupported**: toolbox refused the input or a parameter, or lacks an attribute/method, and no",
        "  declared difference covers it (sparse input, an unknown keyword, a missing `partial_fit`...);",
        "- **wrong answer**: an assertion on a result failed;",
        "- **missing warning/message**: `pytest.warns`/`pytest.raises` saw no warning or error, or another message;",
        "- **internal error**: any other exception (from toolbox, scikit-learn or a framework), or a timeout.",
        "",
    ]
    total = collections.Counter()
    lines += ["| module | run at | touched | passed | pass rate | declared | unsupported | wrong answer | "
              "missing warning/message | internal error |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in sorted(mods):
        s = mods[name]["summary"]
        total.update({k: v for k, v in s.items() if isinstance(v, int)})
        total["collection errors"] += bool(s.get("collection_error"))
        if s.get("collection_error"):
            lines.append(f"| `{name}` | {mods[name]['run']['toolbox_commit']} | collection error: "
                         f"{s['collection_error'].replace('|', '/')} | | | | | | | |")
            continue
        lines.append(f"| `{name}` | {mods[name]['run']['toolbox_commit']} | {s['touched']} | {s['passed']} | "
                     f"{_pct(s['passed'], s['touched'])} | {s['declared']} | {s['unsupported']} | "
                     f"{s['wrong-answer']} | {s['missing-warning-message']} | {s['internal-error']} |")
    lines.append(f"| **all** | | **{total['touched']}** | **{total['passed']}** | "
                 f"**{_pct(total['passed'], total['touched'])}** | {total['declared']} | {total['unsupported']} | "
                 f"{total['wrong-answer']} | {total['missing-warning-message']} | {total['internal-error']} |")
    base = data.get("baseline")
    if base:
        lines += ["", "### Before and after", "",
                  "The same modules at an earlier toolbox commit (`--baseline`): passed / touched.", "",
                  "| module | before | after |", "|---|---:|---:|"]
        tb, ta = collections.Counter(), collections.Counter()
        for name in sorted(set(mods) | set(base)):
            b = base.get(name, {}).get("summary", {})
            a = mods.get(name, {}).get("summary", {})

            def cell(x: dict) -> str:
                if x.get("collection_error"):
                    return "collection error"
                return f"{x.get('passed', 0)} / {x.get('touched', 0)} ({_pct(x.get('passed', 0), x.get('touched', 0))})"

            tb.update({k: b.get(k, 0) for k in ("passed", "touched")})
            ta.update({k: a.get(k, 0) for k in ("passed", "touched")})
            lines.append(f"| `{name}` | {cell(b) if b else '-'} | {cell(a) if a else '-'} |")
        commits = sorted({m["run"]["toolbox_commit"] for m in base.values()})
        lines.append(f"| **all** | **{cell(tb)}** | **{cell(ta)}** |")
        lines += ["", f"Before: toolbox {', '.join(commits)}."]
    runs = sorted({json.dumps(m["run"], sort_keys=True) for m in mods.values()})
    lines += ["", "Runs (toolbox commit, versions, date):", ""]
    for r in runs:
        r = json.loads(r)
        lines.append(f"- toolbox {r['toolbox_commit']}, scikit-learn {r['scikit-learn']}, NumPy {r['numpy']}, "
                     f"SciPy {r['scipy']}, Python {r['python']}, {r['date']}")

    failed = [t for t in tests if t["outcome"] == "failed"]
    causes = collections.Counter()
    for t in failed:
        if t["bucket"] == "declared":
            key = ("declared", t["declared"])
        else:
            key = (t["bucket"], f"{t.get('sub', '')}: {t.get('exception', '')} at {t.get('where', '')}")
        causes[key] += 1
    lines += ["", "## Top failure causes", "", "| bucket | cause (kind: exception at the innermost toolbox frame) | tests |",
              "|---|---|---:|"]
    for (bucket, cause), n in causes.most_common(40):
        lines.append(f"| {bucket} | {cause.replace('|', '/')} | {n} |")

    lines += ["", "## Declared differences", "",
              "The only differences that are decisions; every other failure above is a bug to fix. The API",
              "differences are described in [migrating-from-scikit-learn.md](migrating-from-scikit-learn.md);",
              "`sklearn-private-internals` marks scikit-learn's tests of its own private attributes. The list",
              "lives in `scripts/upstream/declared.py` (a regular expression on the failure's message each).", "",
              "| id | reason | tests |", "|---|---|---:|"]
    per = collections.Counter(t.get("declared") for t in failed if t["bucket"] == "declared")
    for d in DECLARED:
        lines.append(f"| `{d.id}` | {d.reason} | {per[d.id]} |")
    md_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="test modules relative to the sklearn package (default: all)")
    ap.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per test (pytest-timeout)")
    ap.add_argument("--json", default=str(ROOT / "docs" / "compatibility.json"))
    ap.add_argument("--md", default=str(ROOT / "docs" / "compatibility.md"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--baseline", help="a compatibility.json from an earlier run: its per-module figures are "
                                       "kept (as 'before') and shown beside this run's")
    ap.add_argument("--reclassify", action="store_true",
                    help="run nothing: re-bucket the tests stored in --json and rewrite --md")
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []  # after --: extra pytest arguments
    argv = argv[:argv.index("--")] if "--" in argv else argv
    args = ap.parse_args(argv)
    modules = args.modules or list(MODULES)
    json_path = Path(args.json)
    baseline = None
    if args.baseline:
        base = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        baseline = {rel: {"run": m["run"], "summary": m["summary"]} for rel, m in base["modules"].items()}
    if args.reclassify:
        data = json.loads(json_path.read_text(encoding="utf-8"))
        if baseline is not None:
            data["baseline"] = baseline
        for rel, mod in data["modules"].items():
            for t in mod["tests"]:
                bucket(t)
            mod["summary"] = summarize([{**t, "module": rel, "touched": True} for t in mod["tests"]]).get(
                rel, mod["summary"]) | {k: mod["summary"][k] for k in ("collected", "collection_error")
                                        if k in mod["summary"]}
        json_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        write_docs(data, Path(args.md))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="toolbox-upstream-"))
    try:
        swapped = prepare(modules, tmp)
        run = versions()
        run_pytest(modules, tmp, args.workers, args.timeout, extra)
        records = collect(tmp)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"upstream-tests: kept {tmp}")

    data = json.loads(json_path.read_text(encoding="utf-8")) if json_path.exists() else {"modules": {}}
    if baseline is not None:
        data["baseline"] = baseline
    summary = summarize(records)
    for rel in modules:
        tests = sorted(({k: v for k, v in r.items() if k not in ("module", "touched")}
                        for r in records if r["module"] == rel and r.get("touched")), key=lambda r: r["nodeid"])
        empty = {"collected": 0, "touched": 0, "passed": 0, "failed": 0, "skipped": 0, **{b: 0 for b in BUCKETS}}
        data["modules"][rel] = {"run": run, "swapped_imports": swapped[rel],
                                "summary": summary.get(rel, empty), "tests": tests}
    json_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_docs(data, Path(args.md))
    s = collections.Counter()
    for rel in modules:
        s.update({k: v for k, v in data["modules"][rel]["summary"].items() if isinstance(v, int)})
    print(f"upstream-tests: {s['touched']} touched, {s['passed']} passed ({_pct(s['passed'], s['touched'])}); "
          + ", ".join(f"{b} {s[b]}" for b in BUCKETS) + f"; wrote {json_path} and {args.md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
