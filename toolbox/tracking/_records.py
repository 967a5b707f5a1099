"""Plain records returned by tracking reads: experiments, runs, metric points, artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Artifact", "Experiment", "Metric", "RunList", "RunRecord", "RunStatus"]


class RunStatus:
    """The statuses a run can have."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    KILLED = "killed"
    ALL = (RUNNING, FINISHED, FAILED, KILLED)


@dataclass(frozen=True)
class Experiment:
    """An experiment: a named group of runs."""

    id: int
    name: str
    created_at: float
    n_runs: int = 0


@dataclass(frozen=True)
class Metric:
    """One logged point of a metric (``value`` may be NaN or ±inf)."""

    key: str
    value: float
    step: int
    timestamp: float


@dataclass(frozen=True)
class Artifact:
    """A file logged with a run: its path in the run, content digest (sha256) and size."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True)
class RunRecord:
    """A run as stored: attributes, parameters, latest metric values, tags and artifacts.

    ``metrics`` maps each metric name to its latest value (the one at the
    highest step); :func:`toolbox.tracking.get_metric_history` gives every point.
    """

    id: str
    experiment_id: int
    experiment: str
    name: str
    parent_id: str | None
    status: str
    start_time: float
    end_time: float | None
    host: str
    pid: int
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: tuple[Artifact, ...] = ()

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (None while running)."""
        return None if self.end_time is None else self.end_time - self.start_time

    def to_dict(self) -> dict[str, Any]:
        """A flat dict: attributes, then ``params.*``, ``metrics.*`` and ``tags.*`` columns."""
        row: dict[str, Any] = {
            "run_id": self.id, "experiment": self.experiment, "name": self.name, "status": self.status,
            "parent_id": self.parent_id, "start_time": self.start_time, "end_time": self.end_time,
        }
        row.update({f"params.{k}": v for k, v in self.params.items()})
        row.update({f"metrics.{k}": v for k, v in self.metrics.items()})
        row.update({f"tags.{k}": v for k, v in self.tags.items()})
        return row


class RunList(list):
    """A list of :class:`RunRecord` with :meth:`to_pandas`."""

    def to_pandas(self) -> Any:
        """One row per run: ``run_id``, ``experiment``, ``name``, ``status``, ``parent_id``, times
        (pandas ``Timestamp``, UTC), then ``params.*``, ``metrics.*`` and ``tags.*`` columns."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError("RunList.to_pandas needs pandas: pip install pandas") from exc
        columns = ["run_id", "experiment", "name", "status", "parent_id", "start_time", "end_time"]
        df = pd.DataFrame([r.to_dict() for r in self], columns=None if self else columns)
        for col in ("start_time", "end_time"):
            df[col] = pd.to_datetime(df[col], unit="s", utc=True)
        return df
