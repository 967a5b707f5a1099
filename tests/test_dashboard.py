"""The dashboard's server: pages, API, exports, security, and WebSocket deltas with resume (Starlette's TestClient)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("starlette")
pytest.importorskip("httpx")
pytest.importorskip("plotly")

from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from test_store import store_uri  # noqa: F401 - the fixture (SQLite and PostgreSQL)

from toolbox import tracking
from toolbox.dashboard import create_app
from toolbox.dashboard._downsample import minmax_lttb, window
from toolbox.dashboard._security import CSP
from toolbox.tracking._run import _close_session

XSS = "<img src=x onerror=alert(1)>"
LOOP = "http://127.0.0.1"
WS = "ws://127.0.0.1/ws"  # TestClient addresses a bare path to "testserver", which a loopback dashboard refuses
WS_LOCAL = "ws://localhost:8000/ws"


@pytest.fixture
def tr(tmp_path, monkeypatch):
    """toolbox.tracking on a fresh SQLite store in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLBOX_TRACKING_URI", raising=False)
    tracking.set_store(tmp_path / "store")
    try:
        yield tracking
    finally:
        _close_session()


def _client(store, **kw):
    return TestClient(create_app(store, interval=0.02, **kw), base_url=LOOP)


def _runs(tr, n_points=50):
    ids = {}
    for i, lr in enumerate([0.1, 0.01]):
        with tr.start_run("exp", name=f"run-{i}", tags={"team": "a"}) as run:
            run.log_params({"lr": lr, "depth": 3 + i})
            for s in range(n_points):
                run.log_metrics({"loss": 1.0 / (s + 1) + i, "acc": s / n_points}, step=s)
            ids[i] = run.id
    tr.flush()
    return ids


def _recv(ws, kind="delta"):
    while True:
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg


# --------------------------------------------------------------------------- #
# downsampling
# --------------------------------------------------------------------------- #
def test_minmax_lttb_keeps_extremes_ends_and_shape():
    rng = np.random.default_rng(0)
    x = np.arange(200_000, dtype=float)
    y = np.cumsum(rng.standard_normal(x.size))
    y[77_777] = y.max() + 50  # a one-point spike: must survive
    y[123] = y.min() - 50
    idx = minmax_lttb(x, y, 2000)
    assert 1900 <= idx.size <= 2002
    assert np.all(np.diff(idx) > 0)
    assert idx[0] == 0 and idx[-1] == x.size - 1
    assert 77_777 in idx and 123 in idx
    assert y[idx].max() == y.max() and y[idx].min() == y.min()
    # the drawn line follows the data: in every 1% slice, the kept points span most of its range
    edges = np.linspace(0, x.size, 101).astype(int)
    for a, b in itertools.pairwise(edges):
        kept = y[idx[(idx >= a) & (idx < b)]]
        assert kept.size >= 5
        assert kept.max() - kept.min() >= 0.5 * (y[a:b].max() - y[a:b].min())


def test_minmax_lttb_small_inputs_and_window():
    x = np.arange(10.0)
    assert minmax_lttb(x, x**2, 2000).tolist() == list(range(10))
    assert minmax_lttb(x[:0], x[:0], 100).size == 0
    idx = minmax_lttb(np.arange(5000.0), np.sin(np.arange(5000.0)), 100)
    assert idx.size <= 102
    s = window(np.arange(100.0), 10.5, 20.5)
    assert (s.start, s.stop) == (10, 22)  # one point either side of the window
    assert window(np.arange(100.0), None, None) == slice(0, 100)
    assert window(np.arange(100.0), 200, 300).start <= 100


# --------------------------------------------------------------------------- #
# pages and API
# --------------------------------------------------------------------------- #
def test_import_is_light():
    code = ("import sys, toolbox, toolbox.dashboard, toolbox.cli;"
            "print(' '.join(m for m in ['starlette', 'uvicorn', 'plotly', 'websockets', 'sqlalchemy']"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_pages_are_local_and_hardened(tr, tmp_path):
    ids = _runs(tr)
    with _client(tmp_path / "store") as c:
        for path in ("/", "/experiments/1", f"/runs/{ids[0]}", f"/compare?runs={ids[0]},{ids[1]}", "/models"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == CSP
            assert "default-src 'self'" in CSP and "http" not in CSP
            assert r.headers["x-frame-options"] == "DENY"
            assert "://" not in r.text  # every script and style from this server
        js = c.get("/vendor/plotly.min.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert "plotly.js" in js.text[:200]
        assert c.get("/static/app.js").status_code == 200
        assert c.get("/static/../_app.py").status_code == 404


def test_api_runs_filter_sort_and_detail(tr, tmp_path):
    ids = _runs(tr)
    with _client(tmp_path / "store") as c:
        exps = c.get("/api/experiments").json()["experiments"]
        assert [(e["name"], e["n_runs"], e["n_running"]) for e in exps] == [("exp", 2, 0)]
        runs = c.get("/api/runs", params={"experiment": exps[0]["id"]}).json()["runs"]
        assert {r["name"] for r in runs} == {"run-0", "run-1"}
        got = c.get("/api/runs", params={"filter": "params.lr = '0.1'"}).json()["runs"]
        assert [r["id"] for r in got] == [ids[0]]
        got = c.get("/api/runs", params={"order_by": "metrics.loss DESC"}).json()["runs"]
        assert [r["id"] for r in got] == [ids[1], ids[0]]
        bad = c.get("/api/runs", params={"filter": "metrics.loss <"})
        assert bad.status_code == 400 and "error" in bad.json()
        one = c.get(f"/api/runs/{ids[0]}").json()["run"]
        assert one["params"] == {"depth": "3", "lr": "0.1"} and one["metric_points"] == {"acc": 50, "loss": 50}
        assert c.get("/api/runs/" + "0" * 32).status_code == 404
        prog = c.get("/api/progress", params={"runs": ids[1]}).json()["progress"][ids[1]]
        assert prog["loss"]["step"] == 49 and prog["loss"]["n"] == 50 and prog["loss"]["min"] == pytest.approx(1 + 1 / 50)


def test_series_downsampled_window_and_non_finite(tr, tmp_path):
    with tr.start_run("big") as run:
        rows = [(run.id, "loss", float(np.sin(i / 50.0)), i, 1000.0 + i) for i in range(30_000)]
        rows[100] = (run.id, "loss", float("nan"), 100, 1100.0)
        rows[200] = (run.id, "loss", float("inf"), 200, 1200.0)
        run._session.tracking.log_metric_batch(rows)
    with _client(tmp_path / "store") as c:
        s = c.get("/api/series", params={"run": run.id, "key": "loss"}).json()
        assert s["n_total"] == 30_000 and s["n_nonfinite"] == 2 and s["downsampled"]
        assert len(s["x"]) <= 2002 and s["x"] == sorted(s["x"])
        assert max(s["y"]) == pytest.approx(1.0, abs=1e-6) and min(s["y"]) == pytest.approx(-1.0, abs=1e-6)
        z = c.get("/api/series", params={"run": run.id, "key": "loss", "x0": 1000, "x1": 1500}).json()
        assert z["n_window"] == 503 and not z["downsampled"] and z["x"][0] == 999 and z["x"][-1] == 1501
        t = c.get("/api/series", params={"run": run.id, "key": "loss", "x": "time", "n": 100}).json()
        assert t["x"][0] == pytest.approx(1_000_000.0) and len(t["x"]) <= 102
        assert c.get("/api/series", params={"run": run.id, "key": "loss", "x": "bad"}).status_code == 400
        assert c.get("/api/series", params={"run": "f" * 32, "key": "loss"}).status_code == 404
        assert c.get("/api/series", params={"run": run.id, "key": "nope"}).json()["n_total"] == 0


def test_user_text_is_escaped(tr, tmp_path):
    with tr.start_run("exp", name=XSS, tags={"note": XSS}) as run:
        run.log_params({"kind": XSS})
        run.log_metric("loss", 1.0)
        run.log_metric("loss", 0.5)
    with _client(tmp_path / "store") as c:
        page = c.get(f"/runs/{XSS}")  # the path lands in an attribute: escaped
        assert XSS not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        snap = c.get("/export/compare.html", params={"runs": run.id})
        assert snap.status_code == 200
        assert XSS not in snap.text and "&lt;img src=x onerror=alert(1)&gt;" in snap.text
        assert "\\u003cimg src=x onerror=alert(1)\\u003e" in snap.text  # the chart data inside <script>
        # the JSON API returns the text as data; the page puts it in the DOM with textContent only
        assert c.get(f"/api/runs/{run.id}").json()["run"]["name"] == XSS
    source = (create_app.__globals__["STATIC"] / "app.js").read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source


def test_exports(tr, tmp_path):
    ids = _runs(tr, n_points=3000)
    with _client(tmp_path / "store") as c:
        csv = c.get("/export/history.csv", params={"runs": f"{ids[0]},{ids[1]}", "key": "loss"})
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.strip().split("\n")
        assert lines[0] == "run_id,run_name,metric,step,timestamp,value" and len(lines) == 1 + 6000  # every point
        data = c.get("/export/history.json", params={"runs": ids[0]}).json()
        assert set(data["runs"][0]["metrics"]) == {"acc", "loss"} and len(data["runs"][0]["metrics"]["loss"]["step"]) == 3000
        snap = c.get("/export/compare.html", params={"runs": f"{ids[0]},{ids[1]}"})
        assert snap.status_code == 200 and "attachment" in snap.headers["content-disposition"]
        assert "plotly.js v" in snap.text  # Plotly inline: the file opens offline
        assert "<script src" not in snap.text and "<link" not in snap.text
        assert c.get("/export/history.xml", params={"runs": ids[0]}).status_code == 404


def test_classifier_report_and_importances(tr, tmp_path):
    from toolbox.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    with tr.start_run("clf", name="binary") as run:
        model = LogisticRegression().fit(X, y)
        rep = tr.log_classifier_report(run, y, model.predict_proba(X)[:, 1])
        run.log_model(model)
    assert np.array(rep["confusion_matrix"]).sum() == 200 and rep["labels"] == ["0", "1"]
    assert len(rep["roc"]) == 1 and rep["roc"][0]["auc"] > 0.95
    yk = np.array(["a", "b", "c"])[rng.integers(0, 3, 90)]
    proba = rng.dirichlet(np.ones(3), 90)
    with tr.start_run("clf", name="three") as run3:
        rep3 = tr.log_classifier_report(None, yk, proba)
        tr.log_feature_importance(run3, [0.5, 0.2, 0.1], ["f0", "f1", "f2"], std=[0.1, 0.05, 0.0])
    assert rep3["labels"] == ["a", "b", "c"] and len(rep3["roc"]) == 3 and len(rep3["pr"]) == 3
    with pytest.raises(ValueError, match="columns"):
        with tr.start_run("clf"):
            tr.log_classifier_report(None, yk, proba[:, :2])
    with pytest.raises(ValueError, match="one column per class"):
        with tr.start_run("clf"):
            tr.log_classifier_report(None, yk, proba[:, 0])
    with pytest.raises(ValueError, match="2 feature names"):
        with tr.start_run("clf"):
            tr.log_feature_importance(None, [1.0, 2.0, 3.0], ["a", "b"])
    assert tr.get_run(run.id).metrics["roc_auc"] == pytest.approx(rep["roc"][0]["auc"])
    with _client(tmp_path / "store") as c:
        detail = c.get(f"/api/runs/{run.id}").json()["run"]
        assert detail["has_classifier_report"] and detail["has_importance"]
        got = c.get(f"/api/runs/{run.id}/classifier").json()
        assert got["confusion_matrix"] == rep["confusion_matrix"]
        imp = c.get(f"/api/runs/{run.id}/importance").json()  # from the logged model's coefficients
        assert imp["kind"] == "coefficient" and imp["names"] == ["x0", "x1", "x2"]
        assert imp["values"] == pytest.approx(np.asarray(model.coef_).ravel().tolist())
        imp3 = c.get(f"/api/runs/{run3.id}/importance").json()
        assert imp3["kind"] == "permutation" and imp3["std"] == [0.1, 0.05, 0.0]
        assert c.get(f"/api/runs/{_runs(tr)[0]}/classifier").status_code == 404


def test_models_page_follows_the_registry(tr, tmp_path, monkeypatch):
    _runs(tr)
    with _client(tmp_path / "store") as c:
        monkeypatch.setitem(sys.modules, "toolbox.registry", None)  # not installed: hidden
        assert c.get("/api/info").json()["models"] is False
        assert c.get("/api/models").status_code == 404
        monkeypatch.undo()
        import importlib.util

        spec = importlib.util.find_spec("toolbox.registry")
        if spec is None or spec.origin is None:
            pytest.skip("toolbox.registry is not a package in this tree yet")
        info = c.get("/api/info").json()
        assert info["models"] is True
        tables = c.get("/api/models").json()["tables"]
        assert tables and all("columns" in t and "rows" in t for t in tables.values())


# --------------------------------------------------------------------------- #
# security
# --------------------------------------------------------------------------- #
def test_token_required_off_loopback(tr, tmp_path):
    _runs(tr)
    with pytest.raises(ValueError, match="token"):
        create_app(tmp_path / "store", host="0.0.0.0")
    app = create_app(tmp_path / "store", host="0.0.0.0", token="s3cret", interval=0.02)
    with TestClient(app, base_url="http://10.1.2.3:8000") as c:
        assert c.get("/").status_code == 401
        assert c.get("/api/runs").status_code == 401
        assert c.get("/api/runs", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/runs", headers={"authorization": "Bearer s3cret"}).status_code == 200
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect(WS) as ws:
                ws.receive_json()
        r = c.get("/?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        c.cookies.set("toolbox_dashboard_token", "s3cret")
        assert c.get("/").status_code == 200
        with c.websocket_connect(WS) as ws:  # the cookie opens the WebSocket too
            ws.send_json({"subscribe": {"all_runs": True}})
            assert ws.receive_json()["type"] == "hello"


def test_loopback_host_and_origin_checks(tr, tmp_path):
    _runs(tr)
    app = create_app(tmp_path / "store", interval=0.02)
    with TestClient(app, base_url="http://evil.example:8000") as c:  # DNS rebinding: another name for 127.0.0.1
        assert c.get("/").status_code == 421
    with TestClient(app, base_url="http://localhost:8000") as c:
        assert c.get("/").status_code == 200
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect(WS_LOCAL, headers={"origin": "http://evil.example"}) as ws:
                ws.receive_json()
        with pytest.raises(WebSocketDisconnect):  # a handshake addressed to another name
            with c.websocket_connect("ws://evil.example:8000/ws") as ws:
                ws.receive_json()
        with c.websocket_connect(WS_LOCAL, headers={"origin": "http://localhost:8000"}) as ws:
            ws.send_json({"subscribe": {}})
            assert ws.receive_json()["type"] == "hello"


# --------------------------------------------------------------------------- #
# live deltas over the WebSocket
# --------------------------------------------------------------------------- #
def _log_in_thread(run, key, steps, pause=0.0):
    def work():
        for s in steps:
            run.log_metric(key, float(s), step=s)
            if pause:
                time.sleep(pause)
        run.flush()

    t = threading.Thread(target=work)
    t.start()
    return t


def _collect_points(ws, key, want, timeout=20.0):
    got, last_seq, deadline = [], None, time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        msg = ws.receive_json()
        if msg["type"] == "delta":
            for ev in msg["events"]:
                if ev["kind"] == "points" and key in ev["points"]:
                    got += [p[0] for p in ev["points"][key]]
            last_seq = msg["seq"]
    return got, last_seq


def test_websocket_pushes_points_and_resumes_without_loss(store_uri, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    tracking.set_store(store_uri, artifact_root=tmp_path / "artifacts")
    try:
        run = tracking.start_run("live", name="stream")
        run.log_metric("loss", 0.0, step=0)
        run.flush()
        with _client(store_uri, artifact_root=tmp_path / "artifacts") as c:
            with c.websocket_connect(WS) as ws:
                ws.send_json({"subscribe": {"runs": [run.id], "points": True}})
                hello = ws.receive_json()
                assert hello["type"] == "hello"
                _log_in_thread(run, "loss", range(1, 51), pause=0.002).join()
                first, seq = _collect_points(ws, "loss", 50)
            assert first == list(range(1, 51))
            # disconnected: more points are logged; the reconnect asks for what came after `seq`
            _log_in_thread(run, "loss", range(51, 151)).join()
            time.sleep(0.3)
            with c.websocket_connect(WS) as ws:
                ws.send_json({"subscribe": {"runs": [run.id], "points": True}, "since": seq})
                missed, seq2 = _collect_points(ws, "loss", 100)
                assert missed == list(range(51, 151))  # nothing missing, nothing twice
                run.end()
                status = _recv(ws)
                assert any(ev["kind"] == "run" and ev["run"]["status"] == "finished" for ev in status["events"])
            # a number from the future (a restarted server) or beyond the log: resync
            with c.websocket_connect(WS) as ws:
                ws.send_json({"subscribe": {"runs": [run.id]}, "since": 10**9})
                assert ws.receive_json()["type"] == "resync"
            # the series the page loads next is current, and says which sequence number it is current to
            s = c.get("/api/series", params={"run": run.id, "key": "loss"}).json()
            assert s["n_total"] == 151 and s["seq"] >= seq2
    finally:
        _close_session()


def test_subscription_filters_and_new_runs(tr, tmp_path):
    ids = _runs(tr, n_points=2)
    with _client(tmp_path / "store") as c:
        with c.websocket_connect(WS) as ws:
            ws.send_json({"subscribe": {"experiment": 1, "runs": [ids[0]], "points": True}})
            assert ws.receive_json()["type"] == "hello"
            other = tr.start_run("other", name="elsewhere")  # another experiment: not for this page
            other.log_metric("x", 1.0)
            fresh = tr.start_run("exp", name="new-run")  # this experiment: announced
            fresh.log_metric("x", 1.0)
            tr.flush()
            msg = _recv(ws)
            names = {ev["run"]["name"] for ev in msg["events"] if ev["kind"] == "run"}
            assert "new-run" in names and "elsewhere" not in names
            assert not any(ev["kind"] == "points" for ev in msg["events"])  # points of unsubscribed runs
            ws.send_json({"subscribe": {"runs": [fresh.id]}})  # change the subscription
            fresh.log_metric("x", 2.0)
            fresh.flush()
            got, _ = _collect_points(ws, "x", 1)
            assert got == [1]
            fresh.end()
            other.end()


def test_feed_reads_only_new_rows(tr, tmp_path):
    from toolbox.dashboard._live import ChangeFeed
    from toolbox.dashboard._queries import Queries

    _runs(tr)
    q = Queries(str(tmp_path / "store"))
    feed = ChangeFeed(q)
    feed.start(watch=False)  # driven by hand
    try:
        assert feed.poll() is False  # nothing committed since start: data_version unchanged, no query
        assert feed.queries_run == 0
        with tr.start_run("exp") as run:
            run.log_metric("loss", 1.0)
        tr.flush()
        time.sleep(0.25)  # run checks are at most every 0.2 s
        assert feed.poll() is True and feed.queries_run == 1
        kinds = [e[1] for e in feed._events]
        assert "points" in kinds and "run" in kinds
        assert feed.poll() is False and feed.queries_run == 1
    finally:
        feed.stop()
        q.close()


# --------------------------------------------------------------------------- #
# serve() and the command
# --------------------------------------------------------------------------- #
def test_serve_in_background_and_cli(tr, tmp_path):
    import urllib.request

    from toolbox.dashboard import serve

    _runs(tr)
    d = serve(tmp_path / "store", quiet=True)
    try:
        assert d.url.startswith("http://127.0.0.1:") and d.running
        with urllib.request.urlopen(d.url + "api/experiments", timeout=10) as r:
            assert json.loads(r.read())["experiments"][0]["name"] == "exp"
    finally:
        d.stop()
    assert not d.running
    store = str(tmp_path / "store")
    for argv in (["--store", store, "dashboard", "--port", "0"], ["dashboard", "--store", store, "--port", "0"]):
        proc = subprocess.Popen([sys.executable, "-m", "toolbox.cli", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.startswith("toolbox dashboard: http://127.0.0.1:"), (line, proc.stderr.read() if proc.poll() else "")
            url = line.split()[2]
            with urllib.request.urlopen(url + "api/runs", timeout=10) as r:
                assert len(json.loads(r.read())["runs"]) == 2  # --store before or after the sub-command
        finally:
            proc.terminate()
            proc.wait(10)
