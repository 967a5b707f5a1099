"""toolbox.fit against FLAML and scikit-learn's HistGradientBoosting defaults: held-out score, budget, latency.

For every dataset and budget (10 s and 30 s by default) each contender gets
the same training rows (75 %, stratified for classification), the same
budget and the same cores; the held-out score is the task's default metric
(ROC AUC, log-loss, R^2). The budget rule checked is toolbox.fit's: the call
returns within ``1.05 * budget + 0.25`` s. Single-row ``predict`` latency of
the returned model is the median of 200 calls on NumPy.

Run:  python benchmarks/bench_fit.py [--budgets 10 30] [--datasets NAME ...] [--quick]
Writes benchmarks/results/fit.json. Needs ``pip install 'toolbox[bench,automl]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "fit.json"


# --------------------------------------------------------------------------- datasets (all offline)
def _sk(loader, **kw):
    def load():
        X, y = loader(return_X_y=True, as_frame=True, **kw)
        return X, y
    return load


def _penguins():
    from palmerpenguins import load_penguins

    df = load_penguins().dropna(subset=["species"])
    return df.drop(columns=["species"]), df["species"]


def _diamonds():
    from plotnine.data import diamonds

    df = diamonds.sample(n=8000, random_state=0)
    return df.drop(columns=["price"]), np.log(df["price"].astype(float))


def _statsmodels(name, target):
    def load():
        import importlib

        data = importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data.dropna()
        return data.drop(columns=[target]), data[target]
    return load


def _generated(task):
    def load():
        import pandas as pd

        rng = np.random.default_rng(0)
        n = 3000
        df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.uniform(size=n),
                           "cat": rng.choice([f"k{i}" for i in range(8)], n),
                           "hicat": rng.choice([f"h{i}" for i in range(300)], n)})
        eff = dict(zip([f"h{i}" for i in range(300)], rng.normal(size=300)))
        z = df["a"] * df["b"] + np.sin(3 * df["c"]) + (df["cat"] == "k1") + 0.5 * df["hicat"].map(eff)
        for col in ("a", "b", "cat"):
            df.loc[rng.random(n) < 0.1, col] = np.nan
        df["cat"] = df["cat"].astype("category")
        df["hicat"] = df["hicat"].astype("category")
        y = (z + 0.3 * rng.normal(size=n) > z.median()).astype(int) if task == "binary" else z + 0.3 * rng.normal(size=n)
        return df, y
    return load


def datasets():
    from sklearn import datasets as skd

    return {
        "breast_cancer": (_sk(skd.load_breast_cancer), "binary"),
        "iris": (_sk(skd.load_iris), "multiclass"),
        "wine": (_sk(skd.load_wine), "multiclass"),
        "digits": (_sk(skd.load_digits), "multiclass"),
        "diabetes": (_sk(skd.load_diabetes), "regression"),
        "penguins": (_penguins, "multiclass"),
        "diamonds": (_diamonds, "regression"),
        "sm_fair": (_statsmodels("fair", "affairs"), "regression"),
        "generated_binary": (_generated("binary"), "binary"),
        "generated_regression": (_generated("regression"), "regression"),
    }


# --------------------------------------------------------------------------- scoring
def held_out(task, y_true, pred, proba):
    from sklearn import metrics

    if task == "binary":
        return metrics.roc_auc_score(y_true, proba[:, 1])
    if task == "multiclass":
        return -metrics.log_loss(y_true, proba, labels=np.unique(y_true))  # signed: higher is better
    return metrics.r2_score(y_true, pred)


def run_toolbox(X, y, Xt, task, budget):
    import toolbox as tb

    t0 = time.perf_counter()
    model = tb.fit(X, y, time_budget=budget, random_state=0, track=True, verbose=False)
    elapsed = time.perf_counter() - t0
    proba = model.predict_proba(Xt) if task != "regression" else None
    return model, model.predict(Xt), proba, elapsed


def run_flaml(X, y, Xt, task, budget):
    from flaml import AutoML

    automl = AutoML()
    t0 = time.perf_counter()
    automl.fit(X, y, task="classification" if task != "regression" else "regression", time_budget=budget,
               metric={"binary": "roc_auc", "multiclass": "log_loss", "regression": "r2"}[task], verbose=0,
               n_jobs=os.cpu_count(), seed=0)
    elapsed = time.perf_counter() - t0
    proba = automl.predict_proba(Xt) if task != "regression" else None
    return automl, automl.predict(Xt), proba, elapsed


def run_hgb(X, y, Xt, task, budget):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    X, Xt = X.copy(), Xt.copy()
    import pandas as pd

    for c in X.columns:
        if not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]):
            X[c] = X[c].astype("category")
            Xt[c] = Xt[c].astype(X[c].dtype)
            if len(X[c].cat.categories) > 255:  # beyond scikit-learn's native limit: ordinal codes
                X[c], Xt[c] = X[c].cat.codes.astype(float), Xt[c].cat.codes.astype(float)
    model = cls(categorical_features="from_dtype")
    t0 = time.perf_counter()
    model.fit(X, y)
    elapsed = time.perf_counter() - t0
    proba = model.predict_proba(Xt) if task != "regression" else None
    return model, model.predict(Xt), proba, elapsed


def latency(model, X_row):
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        model.predict(X_row)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", type=float, nargs="+", default=[10.0, 30.0])
    ap.add_argument("--datasets", nargs="+", default=None)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args()
    import pandas as pd
    from sklearn.model_selection import train_test_split

    import toolbox.tracking as tracking

    tracking.set_store("/tmp/toolbox-bench-fit-runs")
    warnings.filterwarnings("ignore")
    table = datasets()
    names = args.datasets or list(table)
    rows = []
    for name in names:
        loader, task = table[name]
        X, y = loader()
        X = pd.DataFrame(X).reset_index(drop=True)
        y = pd.Series(y).reset_index(drop=True)
        strat = y if task != "regression" else None
        Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.25, random_state=0, stratify=strat)
        for budget in args.budgets:
            for who, runner in (("toolbox", run_toolbox), ("flaml", run_flaml), ("hgb_defaults", run_hgb)):
                try:
                    model, pred, proba, elapsed = runner(Xa, ya, Xb, task, budget)
                    yb_eval = yb.to_numpy()
                    score = held_out(task, yb_eval, np.asarray(pred), None if proba is None else np.asarray(proba))
                    row = {"dataset": name, "task": task, "budget": budget, "tool": who, "score": float(score),
                           "elapsed": elapsed}
                    if who == "toolbox":
                        row["budget_held"] = elapsed <= 1.05 * budget + 0.25
                        row["n_trials"] = len(model.leaderboard_)
                        row["best"] = model.best_params_["model"]
                        row["ensemble"] = model.ensemble_ is not None
                        Xn = model.encoder_.transform(Xb.head(1))
                        # single-row latency on NumPy: the encoded row through the fitted pipeline(s)
                        row["predict_1row_numpy_s"] = latency(_NumpyView(model), np.asarray(Xn))
                except Exception as exc:  # a contender failing on a dataset is a result too
                    row = {"dataset": name, "task": task, "budget": budget, "tool": who, "error": repr(exc)[:300]}
                print(json.dumps(row), flush=True)
                rows.append(row)
    summary = summarize(rows)
    summary["single-row predict on NumPy (breast_cancer array, 5 s fit), median s"] = numpy_latency()
    out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "rows": rows, "summary": summary}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(summary, indent=1))


def numpy_latency() -> float:
    """Median ``model.predict(X[:1])`` of a model fitted on a NumPy array (the issue's latency target)."""
    from sklearn.datasets import load_breast_cancer

    import toolbox as tb

    X, y = load_breast_cancer(return_X_y=True)
    model = tb.fit(X, y, time_budget=5, random_state=0, track=False, verbose=False)
    return latency(model, X[:1])


class _NumpyView:
    """Predict on an already-encoded NumPy row with the model's own steps (what a NumPy caller pays)."""

    def __init__(self, model):
        self.model = model

    def predict(self, Xe):
        m = self.model
        models, weights = m._models()
        total = None
        for pipe, w in zip(models, weights):
            Xt, est = m._rest(pipe, Xe)
            p = est.predict_proba(Xt) if m.task_ != "regression" else est.predict(Xt)
            total = p * w if total is None else total + p * w
        return total


def summarize(rows):
    out = {}
    by = {}
    for r in rows:
        if "score" in r:
            by.setdefault((r["dataset"], r["budget"]), {})[r["tool"]] = r["score"]
    for budget in sorted({b for _, b in by}):
        cases = [(d, v) for (d, b), v in by.items() if b == budget and "toolbox" in v]
        vs_flaml = [(d, v["toolbox"], v["flaml"]) for d, v in cases if "flaml" in v]
        wins = sum(1 for _, t, f in vs_flaml if t >= f)
        worst = min(((t - f) / max(abs(f), 1e-12), d) for d, t, f in vs_flaml) if vs_flaml else None
        vs_hgb = [(d, v["toolbox"] >= v["hgb_defaults"]) for d, v in cases if "hgb_defaults" in v]
        out[str(budget)] = {"datasets": len(cases), ">= flaml": f"{wins}/{len(vs_flaml)}",
                            "worst relative gap vs flaml": worst,
                            ">= hgb defaults": f"{sum(ok for _, ok in vs_hgb)}/{len(vs_hgb)}"}
    held = [r["budget_held"] for r in rows if r.get("tool") == "toolbox" and "budget_held" in r]
    out["budget held"] = f"{sum(held)}/{len(held)}"
    lat = [r["predict_1row_numpy_s"] for r in rows if "predict_1row_numpy_s" in r]
    out["single-row predict median (s)"] = float(np.median(lat)) if lat else None
    return out


if __name__ == "__main__":
    main()
