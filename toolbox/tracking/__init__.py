"""Experiment tracking: runs, parameters, metrics, tags and artifacts in an embedded store.

>>> import toolbox.tracking as tracking
>>> with tracking.start_run(experiment="churn") as run:
...     run.log_params({"C": 1.0})
...     for epoch in range(10):
...         run.log_metric("loss", 1.0 / (epoch + 1))
>>> tracking.search_runs("churn", filter="metrics.loss < 0.5", order_by=["metrics.loss"])

The store is ``./toolbox-runs/`` (SQLite + artifacts) unless
``TOOLBOX_TRACKING_URI`` or :func:`set_store` names another folder, a
``sqlite:///`` file or a ``postgresql://`` server. :func:`autolog` records every
toolbox ``fit``. See ``docs/tracking.md``. Needs ``pip install 'toolbox[tracking]'``;
SQLAlchemy is imported at the first store use, not at import.
"""

from __future__ import annotations

from ._autolog import autolog
from ._checks import FilterSyntaxError
from ._records import Artifact, Experiment, Metric, RunList, RunRecord, RunStatus
from ._reports import log_classifier_report, log_feature_importance
from ._run import (
    Run,
    active_run,
    delete_runs,
    download_artifact,
    end_run,
    flush,
    get_metric_history,
    get_run,
    get_store_uri,
    list_experiments,
    log_artifact,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    search_runs,
    set_store,
    set_tag,
    set_tags,
    start_run,
)

__all__ = [
    "Artifact",
    "Experiment",
    "FilterSyntaxError",
    "Metric",
    "Run",
    "RunList",
    "RunRecord",
    "RunStatus",
    "active_run",
    "autolog",
    "delete_runs",
    "download_artifact",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "get_store_uri",
    "list_experiments",
    "log_artifact",
    "log_classifier_report",
    "log_feature_importance",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "search_runs",
    "set_store",
    "set_tag",
    "set_tags",
    "start_run",
]
