"""Make the screenshots of docs/dashboard.md: a store with example runs, the dashboard, headless Chromium.

    .venv/bin/python scripts/dashboard_screenshots.py [--out docs/img] [--store /tmp/toolbox-dashboard-demo]

Needs the dashboard extra, Playwright for Python and Debian's chromium
(``bash scripts/chromium.sh``). One training process keeps logging while the
pictures are taken, so the progress panel and the curves are live.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]

TRAINER = r"""
import math, sys, time
from toolbox import tracking
tracking.set_store(sys.argv[1])
with tracking.start_run("churn", name="mlp-live", tags={"toolbox.total_steps": "600"}) as run:
    run.log_params({"lr": 0.003, "hidden": 128, "model": "mlp"})
    for step in range(600):
        run.log_metrics({"loss": 0.3 + 1.1 * math.exp(-step / 120) + 0.02 * math.sin(step / 3),
                         "val_accuracy": 0.93 - 0.35 * math.exp(-step / 150)}, step=step)
        time.sleep(0.05)
"""


def populate(store: str) -> dict[str, str]:
    """Finished runs with curves, a grid search with child runs, a classifier report and importances."""
    import numpy as np

    import toolbox as tb
    from toolbox import tracking
    from toolbox.linear_model import LogisticRegression
    from toolbox.model_selection import GridSearchCV

    tracking.set_store(store)
    rng = np.random.default_rng(0)
    ids = {}
    for i, (lr, hidden) in enumerate([(0.01, 64), (0.003, 64), (0.001, 256)]):
        with tracking.start_run("churn", name=f"mlp-{hidden}-lr{lr}") as run:
            run.log_params({"lr": lr, "hidden": hidden, "model": "mlp"})
            noise = rng.standard_normal(2000)
            for step in range(2000):
                run.log_metrics({"loss": 0.25 + (1.2 - 0.1 * i) * np.exp(-step * lr / 3) + 0.03 * noise[step],
                                 "val_accuracy": 0.94 - 0.3 * np.exp(-step * lr / 4) - 0.01 * i}, step=step)
            ids[f"mlp{i}"] = run.id
    X = rng.standard_normal((600, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] - 0.8 * X[:, 2] + 0.3 * rng.standard_normal(600) > 0).astype(int)
    names = ["tenure", "monthly_charges", "support_calls", "contract_months", "age", "region_code"]
    tb.set_config(autolog=True)
    tracking.autolog(experiment="churn")
    with tracking.start_run("churn", name="logreg-grid") as run:
        search = GridSearchCV(LogisticRegression(max_iter=200),
                              {"C": [0.001, 0.01, 0.1, 1.0, 10.0], "penalty": ["l2", None]}, cv=3).fit(X, y)
        ids["grid"] = run.id
    tracking.autolog(disable=True)
    with tracking.start_run("churn", name="logreg-best") as run:
        model = LogisticRegression(C=search.best_params_["C"], max_iter=200).fit(X, y)
        run.log_params(search.best_params_)
        tracking.log_classifier_report(run, y, model.predict_proba(X)[:, 1])
        coef = np.abs(np.asarray(model.coef_)[0])
        tracking.log_feature_importance(run, coef / coef.sum(), names, kind="|coefficient| share")
        ids["best"] = run.id
    tracking.flush()
    return ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--store", default=None, help="default: a fresh temporary folder")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from toolbox import dashboard

    store = args.store or tempfile.mkdtemp(prefix="toolbox-dashboard-demo-")
    if args.store and Path(store).exists():
        shutil.rmtree(store)
    ids = populate(store)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trainer = subprocess.Popen([sys.executable, "-c", TRAINER, store])
    d = dashboard.serve(store, quiet=True)
    base = d.url.rstrip("/")
    try:
        time.sleep(4)  # the live run is a few hundred steps in
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for scheme in ("light", "dark"):
                page = browser.new_page(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
                page.goto(f"{base}/experiments/1")
                page.wait_for_selector("body[data-ready='1']")
                page.wait_for_timeout(2500)
                page.screenshot(path=str(out / f"dashboard-experiment-{scheme}.png"), full_page=False)
                page.close()
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for name, url in (("run", f"/runs/{ids['best']}"), ("search", f"/runs/{ids['grid']}"),
                              ("compare", f"/compare?runs={ids['mlp0']},{ids['mlp1']},{ids['mlp2']}")):
                page.goto(base + url)
                page.wait_for_selector("body[data-ready='1']")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"dashboard-{name}.png"), full_page=True)
            page.close()
            narrow = browser.new_page(viewport={"width": 420, "height": 900})
            narrow.goto(f"{base}/experiments/1")
            narrow.wait_for_selector("body[data-ready='1']")
            narrow.wait_for_timeout(1500)
            narrow.screenshot(path=str(out / "dashboard-narrow.png"))
            browser.close()
    finally:
        d.stop()
        trainer.kill()
        trainer.wait()
    for f in sorted(out.glob("dashboard-*.png")):
        print(f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
