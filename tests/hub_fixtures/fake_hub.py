"""A small Hugging Face Hub on 127.0.0.1 for the tests: model_info, resolve (HEAD/GET with Range),
list_models, create_repo, preupload and commit, with fault injection.

It serves what huggingface_hub's real download, upload and listing code asks for; nothing is stubbed
on the client side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from .tiny import git_sha1


@dataclass
class Repo:
    files: dict[str, bytes]
    commit: str
    pipeline_tag: str | None = "feature-extraction"
    private: bool = False
    history: list[str] = field(default_factory=list)


def _commit_of(files: dict[str, bytes], parent: str = "") -> str:
    h = hashlib.sha1(parent.encode())
    for k in sorted(files):
        h.update(k.encode() + b"\0" + hashlib.sha256(files[k]).digest())
    return h.hexdigest()


def _validate_card(content: str) -> dict[str, list[dict[str, str]]]:
    if not content.startswith("---\n"):
        return {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]}
    header = content[4:].split("\n---\n", 1)[0]
    try:
        import yaml

        meta = yaml.safe_load(header)
    except ImportError:  # the card writes JSON values, which are YAML
        meta = {line.split(": ", 1)[0]: json.loads(line.split(": ", 1)[1]) for line in header.splitlines()}
    except Exception as exc:
        return {"errors": [{"message": f"invalid yaml: {exc}"}], "warnings": []}
    if not isinstance(meta, dict):
        return {"errors": [{"message": "metadata must be a mapping"}], "warnings": []}
    for entry in meta.get("model-index", []):
        for result in entry.get("results", []):
            for m in result.get("metrics", []):
                if not isinstance(m.get("value"), (int, float)):
                    return {"errors": [{"message": f"metric {m} has no numeric value"}], "warnings": []}
    return {"errors": [], "warnings": []}


class FakeHub:
    """``with FakeHub() as hub: hub.add_repo("org/name", folder)``; ``hub.endpoint`` is its URL.

    ``hub.faults[(repo_id, filename)]`` is a list of faults consumed one per GET:
    ``"drop"`` (send half the body, then close the connection), ``"corrupt"`` (same size,
    different bytes), ``"truncate"`` (serve only half the file, with matching headers),
    ``"gone"`` (send half, close, and shut the server down).
    """

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.faults: dict[tuple[str, str], list[str]] = {}
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_repo(self, repo_id: str, folder: Path | None = None, files: dict[str, bytes] | None = None,
                 pipeline_tag: str | None = "feature-extraction") -> Repo:
        content = dict(files or {})
        if folder is not None:
            for p in sorted(Path(folder).rglob("*")):
                if p.is_file():
                    content[p.relative_to(folder).as_posix()] = p.read_bytes()
        repo = Repo(content, _commit_of(content), pipeline_tag)
        repo.history.append(repo.commit)
        self.repos[repo_id] = repo
        return repo

    def count(self, method: str, fragment: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and fragment in p)

    # ------------------------------------------------------------------ #

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _json(self, obj: object, status: int = 200) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str, code: str | None = None) -> None:
                body = json.dumps({"error": message}).encode()
                self.send_response(status)
                if code:
                    self.send_header("X-Error-Code", code)
                self.send_header("X-Error-Message", message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            # -- routes ----------------------------------------------------- #

            def do_HEAD(self) -> None:
                self._resolve(head=True)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                path = unquote(url.path)
                hub.requests.append(("GET", path))
                if path == "/api/models":
                    return self._list(parse_qs(url.query))
                if path.startswith("/api/models/") and "/revision/" in path:
                    repo_id, _, rev = path[len("/api/models/"):].partition("/revision/")
                    return self._info(repo_id, rev)
                if path.startswith("/api/models/"):
                    repo_id = path[len("/api/models/"):]
                    return self._info(repo_id, "main")
                return self._resolve(head=False)

            def do_POST(self) -> None:
                path = unquote(urlparse(self.path).path)
                hub.requests.append(("POST", path))
                body = self._body()
                if path == "/api/repos/create":
                    data = json.loads(body)
                    repo_id = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
                    if repo_id in hub.repos:
                        return self._error(409, "You already created this model repo")
                    repo = hub.add_repo(repo_id, files={}, pipeline_tag=None)
                    repo.private = data.get("visibility") == "private" or bool(data.get("private"))
                    return self._json({"url": f"{hub.endpoint}/{repo_id}", "name": repo_id})
                if path == "/api/validate-yaml":  # the model card's metadata, checked as the Hub does
                    return self._json(_validate_card(json.loads(body)["content"]))
                if "/preupload/" in path:
                    files = json.loads(body)["files"]
                    return self._json({"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                 for f in files]})
                if "/commit/" in path:
                    repo_id = path[len("/api/models/"):].split("/commit/")[0]
                    repo = hub.repos.get(repo_id)
                    if repo is None:
                        return self._error(404, "Repository not found", "RepoNotFound")
                    files = dict(repo.files)
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            v = item["value"]
                            files[v["path"]] = base64.b64decode(v["content"])
                        elif item["key"] == "deletedFile":
                            files.pop(item["value"]["path"], None)
                    repo.files = files
                    repo.commit = _commit_of(files, repo.commit)
                    repo.history.append(repo.commit)
                    return self._json({"commitUrl": f"{hub.endpoint}/{repo_id}/commit/{repo.commit}",
                                       "commitOid": repo.commit, "pullRequestUrl": None})
                return self._error(404, f"no route {path}")

            # -- handlers --------------------------------------------------- #

            def _repo(self, repo_id: str, rev: str) -> Repo | None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._error(404, "Repository not found", "RepoNotFound")
                    return None
                if rev not in ("main", repo.commit) and not repo.commit.startswith(rev) and rev not in repo.history:
                    self._error(404, f"Revision {rev} not found", "RevisionNotFound")
                    return None
                return repo

            def _info(self, repo_id: str, rev: str) -> None:
                repo = self._repo(repo_id, rev)
                if repo is None:
                    return
                siblings = []
                for name, data in sorted(repo.files.items()):
                    sib = {"rfilename": name, "size": len(data), "blobId": git_sha1(data)}
                    if name.endswith(".safetensors"):
                        sib["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                      "pointerSize": 134}
                    siblings.append(sib)
                self._json({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": repo.private,
                            "pipeline_tag": repo.pipeline_tag, "tags": [], "downloads": 7, "likes": 1,
                            "siblings": siblings, "lastModified": "2026-01-01T00:00:00.000Z"})

            def _list(self, query: dict[str, list[str]]) -> None:
                words = (query.get("search") or [""])[0].lower()
                tag = (query.get("pipeline_tag") or [None])[0]
                out = [{"id": rid, "modelId": rid, "pipeline_tag": r.pipeline_tag, "downloads": 7, "likes": 1,
                        "private": r.private, "tags": []}
                       for rid, r in sorted(hub.repos.items())
                       if words in rid.lower() and (tag is None or r.pipeline_tag == tag)]
                limit = int((query.get("limit") or [len(out)])[0])
                self._json(out[:limit])

            def _resolve(self, *, head: bool) -> None:
                path = unquote(urlparse(self.path).path).lstrip("/")
                if head:
                    hub.requests.append(("HEAD", "/" + path))
                parts = path.split("/")
                if len(parts) < 5 or parts[2] != "resolve":
                    return self._error(404, f"no route /{path}")
                repo_id, rev, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
                repo = self._repo(repo_id, rev)
                if repo is None:
                    return
                if filename not in repo.files:
                    return self._error(404, f"{filename} not found", "EntryNotFound")
                data = repo.files[filename]
                is_lfs = filename.endswith(".safetensors")
                etag = hashlib.sha256(data).hexdigest() if is_lfs else git_sha1(data)
                queue = hub.faults.get((repo_id, filename), [])
                fault = queue[0] if queue else None
                if fault == "truncate":
                    data = data[: len(data) // 2]
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[len("bytes="):].split("-")[0])
                body = data[start:]
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", repo.commit)
                self.send_header("ETag", f'"{etag}"')
                if is_lfs:
                    self.send_header("X-Linked-Etag", f'"{etag}"')
                    self.send_header("X-Linked-Size", str(len(data)))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if head:
                    return
                if fault is not None:
                    queue.pop(0)
                if fault == "corrupt":
                    body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
                if fault in ("drop", "gone"):
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    if fault == "gone":
                        threading.Thread(target=hub.stop, daemon=True).start()
                    return
                self.wfile.write(body)

        return Handler
