"""Several processes logging into one store, and a writer killed with SIGKILL (SQLite and PostgreSQL).

The sizes here are what CI affords; ``benchmarks/bench_tracking.py`` runs the
full 8 x 100,000 points and reports the throughput.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from test_store import store_uri  # noqa: F401 - the fixture (SQLite and PostgreSQL)

from toolbox import tracking
from toolbox.tracking import RunStatus
from toolbox.tracking._run import _close_session

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import sys
from toolbox import tracking
uri, art, n, idx = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tracking.set_store(uri, artifact_root=art)
with tracking.start_run(experiment="load", name=f"worker-{idx}") as run:
    for i in range(n):
        run.log_metric("x", float(i), step=i)
print(run.id)
"""

VICTIM = r"""
import sys
from toolbox import tracking
tracking.set_store(sys.argv[1], artifact_root=sys.argv[2])
run = tracking.start_run(experiment="crash", name="victim")
run.log_params({"kind": "victim"})
print(run.id, flush=True)
i = 0
while True:
    for _ in range(250):
        run.log_metric("x", float(i), step=i)
        i += 1
    run.flush()
    print(i, flush=True)  # every point below i is committed: an acknowledged batch
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("TOOLBOX_TRACKING_URI", None)
    return env


def test_processes_logging_into_one_store_lose_nothing(store_uri, tmp_path):  # noqa: F811
    n_proc, n_points = 8, 4000
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, store_uri, str(tmp_path / "art"), str(n_points),
                               str(k)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                              cwd=tmp_path)
             for k in range(n_proc)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs):
        assert p.returncode == 0, err
        assert "locked" not in err.lower()
    run_ids = [out.split()[-1] for out, _ in outs]
    tracking.set_store(store_uri, artifact_root=tmp_path / "art")
    try:
        s = tracking._run._session()
        assert s.tracking.count_metric_points() == n_proc * n_points
        runs = tracking.search_runs("load", max_results=None)
        assert sorted(r.id for r in runs) == sorted(run_ids)
        for r in runs:
            assert r.status == RunStatus.FINISHED and r.metrics == {"x": float(n_points - 1)}
        hist = tracking.get_metric_history(run_ids[0], "x")
        assert [m.step for m in hist] == list(range(n_points))
    finally:
        _close_session()


def test_sigkilled_writer_leaves_a_sound_store(store_uri, tmp_path):  # noqa: F811
    proc = subprocess.Popen([sys.executable, "-c", VICTIM, store_uri, str(tmp_path / "art")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        run_id = proc.stdout.readline().strip()
        assert len(run_id) == 32, proc.stderr.read() if proc.poll() is not None else run_id
        acknowledged = 0
        while acknowledged < 3000:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            acknowledged = int(line)
        os.kill(proc.pid, signal.SIGKILL)  # mid-run: the writer thread is likely inside a transaction
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    if not store_uri.startswith("postgresql"):
        db = sqlite3.connect(tmp_path / "store" / "toolbox.db")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            db.close()
    tracking.set_store(store_uri, artifact_root=tmp_path / "art")  # the next open marks the run killed
    try:
        rec = tracking.get_run(run_id)
        assert rec.status == RunStatus.KILLED and rec.end_time is not None
        assert rec.params == {"kind": "victim"}
        steps = [m.step for m in tracking.get_metric_history(run_id, "x")]
        assert len(steps) >= acknowledged  # every acknowledged batch is there
        assert steps == list(range(len(steps)))  # whole batches only, in order
    finally:
        _close_session()
