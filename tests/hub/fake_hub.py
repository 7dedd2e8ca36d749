"""A local stand-in for the part of the Hugging Face Hub HTTP API that ``huggingface_hub`` uses.

It serves on 127.0.0.1 (a free port) from a daemon thread and implements: repo creation, README metadata
validation, the preupload endpoint (regular vs LFS upload mode), the commit endpoint (NDJSON), the git-LFS
batch API with basic single-part PUT uploads and a verify step, repo info / revision info / tree listing,
file download (``resolve``) and the token check (``whoami-v2``) with the HEAD headers ``huggingface_hub`` reads (``X-Repo-Commit``,
``ETag`` / ``X-Linked-Etag``, ``X-Linked-Size``).

Xet storage is not implemented: clients must run with ``HF_HUB_DISABLE_XET=1``, which makes
``huggingface_hub`` take the plain LFS path for uploads. Downloads never advertise xet (no ``X-Xet-*``
headers), so they are plain HTTP too.

Every request is recorded (method, path, headers without ``Authorization``, body) so tests can check what
reached the server. The server stops itself after ``max_lifetime_s`` even if a test forgets to stop it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# Extensions the real Hub always stores through LFS, whatever their size (a subset of its .gitattributes).
_LFS_EXTENSIONS = (".safetensors", ".bin", ".pt", ".parquet", ".png", ".arrow")
_REPO_TYPE_PREFIX = {"models": "model", "datasets": "dataset", "spaces": "space"}


@dataclass
class Commit:
    oid: str
    files: dict[str, bytes]  # path -> content
    lfs: dict[str, str]  # path -> sha256 of LFS-stored files


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool
    commits: list[Commit] = field(default_factory=list)

    @property
    def head(self) -> Commit:
        return self.commits[-1]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # without Authorization
    body: bytes
    status: int = 0


def _git_blob_sha1(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


class FakeHub:
    """In-memory Hub. Use as a context manager; ``endpoint`` is the base URL to put in ``HF_ENDPOINT``.

    Args:
        lfs_threshold: files larger than this many bytes are told to go through LFS (the real Hub uses
            10 MB; tests use a small value so that the LFS batch path is exercised by tiny models).
        max_lifetime_s: the server shuts itself down after this long.
        fail_first: number of initial requests answered with HTTP 503 (to test client retries).
        fail_paths: when set, only requests whose path matches this regular expression fail (e.g. the
            upload steps, after the token check has passed).
    """

    def __init__(
        self, *, lfs_threshold: int = 1024, max_lifetime_s: float = 300.0, fail_first: int = 0, fail_paths: str | None = None
    ):
        self.lfs_threshold = lfs_threshold
        self.max_lifetime_s = max_lifetime_s
        self.fail_first = fail_first
        self.fail_paths = fail_paths
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_store: dict[str, bytes] = {}  # sha256 -> content
        self.requests: list[Request] = []
        self.authorizations: list[str] = []  # Authorization header values seen, kept apart from bodies
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # stop() waits for the serving loop's next poll: 0.05 s, not the default 0.5 s, at every test's teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-hub", daemon=True
        )
        self._thread.start()
        self._timer = threading.Timer(self.max_lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- inspection --------------------------------------------------------------------------------------------------
    def repo(self, repo_id: str, repo_type: str = "model") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def unhandled(self) -> list[Request]:
        """Requests answered 404 because the route is not implemented (not a missing file)."""
        return [r for r in self.requests if r.status == 404 and r.headers.get("_route") == "none"]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep test output quiet
        pass

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False):
        self._record.status = status
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Type", "application/json")
        headers.setdefault("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def _json(self, status: int, obj, headers: dict[str, str] | None = None):
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, code: str | None, message: str, head: bool = False):
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._send(status, b"" if head else json.dumps({"error": message}).encode(), headers, head=head)

    def _dispatch(self, method: str) -> None:
        body = self._read_body() if method in ("POST", "PUT") else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
        self._record = Request(method, self.path, headers, body)
        with self.fake._lock:
            self.fake.requests.append(self._record)
            if self.headers.get("Authorization"):
                self.fake.authorizations.append(self.headers["Authorization"])
            failing = self.fake.fail_first > 0 and (
                self.fake.fail_paths is None or re.search(self.fake.fail_paths, self.path) is not None
            )
            if failing:
                self.fake.fail_first -= 1
        if failing:
            return self._error(503, None, "fake outage")
        path = unquote(urlsplit(self.path).path)
        for pattern, route_method, handler in _ROUTES:
            m = re.fullmatch(pattern, path)
            if m and route_method == method:
                with self.fake._lock:
                    return handler(self, body, **m.groupdict())
        self._record.headers["_route"] = "none"
        return self._error(404, None, f"fake hub: no route for {method} {path}", head=method == "HEAD")

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    # -- helpers -------------------------------------------------------------------------------------------------
    def _repo(self, kind: str | None, repo_id: str, head: bool = False) -> Repo | None:
        repo_type = _REPO_TYPE_PREFIX.get(kind or "models", "model")
        repo = self.fake.repos.get((repo_type, repo_id))
        if repo is None:
            self._error(404, "RepoNotFound", f"Repository {repo_id} not found", head=head)
        return repo

    def _commit(self, repo: Repo, revision: str, head: bool = False) -> Commit | None:
        if revision == "main":
            return repo.head
        for c in repo.commits:
            if c.oid.startswith(revision):
                return c
        self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head=head)
        return None

    # -- routes ----------------------------------------------------------------------------------------------------
    def create_repo(self, body: bytes):
        payload = json.loads(body or b"{}")
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
        repo_type = payload.get("type") or "model"
        key = (repo_type, repo_id)
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.fake.endpoint}/{prefix}{repo_id}"
        if key in self.fake.repos:
            return self._json(409, {"error": "You already created this repo", "url": url})
        readme = b"---\n{}\n---\n"
        initial = Commit(oid=hashlib.sha1(repo_id.encode()).hexdigest(), files={".gitattributes": readme}, lfs={})
        self.fake.repos[key] = Repo(repo_id, repo_type, payload.get("visibility") == "private", [initial])
        return self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def validate_yaml(self, body: bytes):
        return self._json(200, {"errors": [], "warnings": []})

    def preupload(self, body: bytes, kind: str, repo_id: str, revision: str):
        repo = self._repo(kind, repo_id)
        if repo is None:
            return
        files = []
        for f in json.loads(body)["files"]:
            lfs = f["size"] > self.fake.lfs_threshold or f["path"].endswith(_LFS_EXTENSIONS)
            files.append({"path": f["path"], "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False})
        return self._json(200, {"files": files, "commitOid": repo.head.oid})

    def lfs_batch(self, body: bytes, kind: str | None, repo_id: str):
        if self._repo(kind, repo_id) is None:
            return
        payload = json.loads(body)
        assert payload["operation"] == "upload", payload
        objects = []
        for obj in payload["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in self.fake.lfs_store:
                entry["actions"] = {
                    "upload": {"href": f"{self.fake.endpoint}/_lfs/upload/{obj['oid']}"},
                    "verify": {"href": f"{self.fake.endpoint}/_lfs/verify"},
                }
            objects.append(entry)
        return self._json(200, {"transfer": "basic", "objects": objects}, {"Content-Type": "application/vnd.git-lfs+json"})

    def lfs_upload(self, body: bytes, oid: str):
        if hashlib.sha256(body).hexdigest() != oid:
            return self._error(400, None, "sha256 mismatch")
        self.fake.lfs_store[oid] = body
        return self._send(200)

    def lfs_verify(self, body: bytes):
        obj = json.loads(body)
        if obj["oid"] not in self.fake.lfs_store or len(self.fake.lfs_store[obj["oid"]]) != obj["size"]:
            return self._error(404, None, "object not uploaded")
        return self._json(200, {})

    def commit(self, body: bytes, kind: str, repo_id: str, revision: str):
        repo = self._repo(kind, repo_id)
        if repo is None:
            return
        parent = repo.head
        files, lfs = dict(parent.files), dict(parent.lfs)
        summary = ""
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                summary = value["summary"]
            elif item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
                lfs.pop(value["path"], None)
            elif item["key"] == "lfsFile":
                if value["oid"] not in self.fake.lfs_store:
                    return self._error(400, None, f"LFS object {value['oid']} was never uploaded")
                files[value["path"]] = self.fake.lfs_store[value["oid"]]
                lfs[value["path"]] = value["oid"]
            elif item["key"] == "deletedFile":
                files.pop(value["path"], None)
                lfs.pop(value["path"], None)
            else:
                return self._error(400, None, f"unsupported commit operation {item['key']}")
        oid = hashlib.sha1(f"{parent.oid}{summary}{len(repo.commits)}".encode()).hexdigest()
        repo.commits.append(Commit(oid=oid, files=files, lfs=lfs))
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        return self._json(
            200, {"commitUrl": f"{self.fake.endpoint}/{prefix}{repo_id}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None}
        )

    def repo_info(self, body: bytes, kind: str, repo_id: str, revision: str | None = None):
        repo = self._repo(kind, repo_id)
        if repo is None:
            return
        c = self._commit(repo, revision or "main")
        if c is None:
            return
        siblings = [{"rfilename": p} for p in sorted(c.files)]
        info = {
            "id": repo_id,
            "modelId": repo_id,
            "sha": c.oid,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "tags": [],
            "siblings": siblings,
            "lastModified": "2026-01-01T00:00:00.000Z",
            "createdAt": "2026-01-01T00:00:00.000Z",
        }
        return self._json(200, info)

    def tree(self, body: bytes, kind: str, repo_id: str, revision: str, sub: str | None = None):
        repo = self._repo(kind, repo_id)
        if repo is None:
            return
        c = self._commit(repo, revision)
        if c is None:
            return
        prefix = (sub or "").strip("/")
        entries = []
        for p, content in sorted(c.files.items()):
            if prefix and not p.startswith(prefix + "/"):
                continue
            entry = {"type": "file", "path": p, "size": len(content), "oid": _git_blob_sha1(content)}
            if p in c.lfs:
                entry["lfs"] = {"oid": c.lfs[p], "size": len(content), "pointerSize": 130}
            entries.append(entry)
        return self._json(200, entries)

    def resolve(self, body: bytes, kind: str | None, repo_id: str, revision: str, filename: str, head: bool = False):
        repo = self._repo(kind, repo_id, head=head)
        if repo is None:
            return
        c = self._commit(repo, revision, head=head)
        if c is None:
            return
        if filename not in c.files:
            return self._error(404, "EntryNotFound", f"{filename} does not exist", head=head)
        content = c.files[filename]
        etag = c.lfs.get(filename) or _git_blob_sha1(content)
        headers = {
            "Content-Type": "application/octet-stream",
            "X-Repo-Commit": c.oid,
            "ETag": f'"{etag}"',
            "Content-Length": str(len(content)),
            "Accept-Ranges": "bytes",
        }
        if filename in c.lfs:
            headers["X-Linked-Etag"] = f'"{etag}"'
            headers["X-Linked-Size"] = str(len(content))
        return self._send(200, content, headers, head=head)

    def whoami(self, body: bytes):
        # The token check a push makes before any work: any token is accepted, none is refused.
        if not self.headers.get("Authorization"):
            return self._error(401, None, "Invalid user token.")
        return self._json(200, {"type": "user", "name": "fake-user", "auth": {"type": "access_token"}})

    def agent_harnesses(self, body: bytes):
        # huggingface_hub fetches this registry once a day for its user-agent string.
        return self._json(200, {"standardEnvVars": [], "harnesses": {}})

    def resolve_head(self, body: bytes, **kw):
        return self.resolve(body, head=True, **kw)


_REPO = r"(?P<repo_id>[^/]+/[^/]+)"
_KIND = r"(?P<kind>models|datasets|spaces)"
_ROUTES = [
    (r"/api/repos/create", "POST", _Handler.create_repo),
    (r"/api/validate-yaml", "POST", _Handler.validate_yaml),
    (r"/api/agent-harnesses", "GET", _Handler.agent_harnesses),
    (r"/api/whoami-v2", "GET", _Handler.whoami),
    (rf"/api/{_KIND}/{_REPO}/preupload/(?P<revision>[^/]+)", "POST", _Handler.preupload),
    (rf"/api/{_KIND}/{_REPO}/commit/(?P<revision>[^/]+)", "POST", _Handler.commit),
    (rf"/api/{_KIND}/{_REPO}/revision/(?P<revision>[^/]+)", "GET", _Handler.repo_info),
    (rf"/api/{_KIND}/{_REPO}/tree/(?P<revision>[^/]+)(?:/(?P<sub>.*))?", "GET", _Handler.tree),
    (rf"/api/{_KIND}/{_REPO}", "GET", _Handler.repo_info),
    (rf"/(?:(?P<kind>datasets|spaces)/)?{_REPO}\.git/info/lfs/objects/batch", "POST", _Handler.lfs_batch),
    (r"/_lfs/upload/(?P<oid>[0-9a-f]{64})", "PUT", _Handler.lfs_upload),
    (r"/_lfs/verify", "POST", _Handler.lfs_verify),
    (rf"/(?:(?P<kind>datasets|spaces)/)?{_REPO}/resolve/(?P<revision>[^/]+)/(?P<filename>.+)", "GET", _Handler.resolve),
    (rf"/(?:(?P<kind>datasets|spaces)/)?{_REPO}/resolve/(?P<revision>[^/]+)/(?P<filename>.+)", "HEAD", _Handler.resolve_head),
]
