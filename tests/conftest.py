"""Fixtures start real components: the real embedder, real Chroma, the real local model server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from rag.assistant.answer import Assistant
from rag.assistant.retrieve import HybridRetriever
from rag.config import BUNDLED_CORPUS, Config, load_config
from rag.errors import RagError
from rag.ingest.embed import MiniLMEmbedding
from rag.ingest.load import load_entries
from rag.ingest.store import ingest_entries
from rag.locks import file_lock
from rag.runtime.server import ensure_server, free_port, is_healthy, stop_server

FIXTURES = Path(__file__).parent / "fixtures"
# The small corpus unit tests read: a guide (two research areas, four papers, a figure caption, three
# postings), a Markdown document and a saved web page. The bundled guide is for end-to-end and exam tests.
MINI = FIXTURES / "mini"
MINI_GUIDE = MINI / "guide.txt"
# Tests are marked by what they need, from the fixtures they use: `pytest -m "not model and not index"`
# is the fast lane (no model server, no embedder, no Chroma).
NEEDS = {
    "model": {"model_server", "assistant"},
    "index": {"index_cfg", "retriever", "mini_index_cfg", "mini_retriever", "store_cfg", "embedder", "chroma_server"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in NEEDS.items():
            if used & fixtures:
                item.add_marker(marker)


TEST_PORT = 8799  # not the default 8765, so a developer's own server is left alone


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's endpoint, index or data directory."""
    for var in list(os.environ):
        if var.startswith(("RAG_", "OPENAI_", "CHROMA_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_SERVER_PORT", str(TEST_PORT))


@pytest.fixture(scope="session", autouse=True)
def tidy_model_dir() -> Iterator[None]:
    """The files servers on the tests' spare ports leave beside the shared model (key, lock, log) are removed
    at the end of the run; a port whose server still answers, or whose start lock another process holds,
    keeps its files."""
    models = load_config(env={}).model_dir
    before = set(models.glob("server-*"))
    yield
    for port in {p.name.removeprefix("server-").split(".")[0] for p in set(models.glob("server-*")) - before}:
        ours = load_config(env={}, server_port=int(port)) if port.isdecimal() else None
        if ours is None or is_healthy(ours) or _locked(models / f"server-{port}.lock"):
            continue
        for path in set(models.glob(f"server-{port}.*")) - before:
            path.unlink(missing_ok=True)


def _locked(path: Path) -> bool:
    """True when another process holds the lock a server's start takes."""
    try:
        with file_lock(path, busy="held"):
            return False
    except RagError:
        return True


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return load_config(env={}, data_dir=tmp_path / "data", server_port=TEST_PORT)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Chroma server (`chroma run`) on 127.0.0.1, for the server-mode variants."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    log = open(path / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    process = subprocess.Popen(
        [str(chroma), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path / "db")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma run did not start")
    yield ("127.0.0.1", port)
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture(params=["embedded", "server"])
def store_cfg(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The same Config in both Chroma modes; server mode gets a collection name of its own."""
    cfg = load_config(env={}, data_dir=tmp_path / "data", server_port=TEST_PORT)
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        cfg = cfg.replace(chroma_host=host, chroma_port=port, collection=f"t{uuid.uuid4().hex[:10]}")
    return cfg


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedding:
    return MiniLMEmbedding()


@pytest.fixture(scope="session")
def mini_entries():
    """The entries of the three files of tests/fixtures/mini, read by our own loader."""
    return load_entries([MINI])


@pytest.fixture(scope="session")
def mini_index_cfg(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding, mini_entries) -> Config:
    """A real Chroma index of the mini corpus, built once by our own ingest code."""
    cfg = load_config(env={}, data_dir=tmp_path_factory.mktemp("mini-index"), server_port=TEST_PORT)
    ingest_entries(cfg, mini_entries, embedder=embedder)
    return cfg


@pytest.fixture(scope="session")
def mini_retriever(mini_index_cfg: Config, embedder: MiniLMEmbedding) -> HybridRetriever:
    return HybridRetriever(mini_index_cfg, embedder=embedder)


@pytest.fixture(scope="session")
def corpus_entries():
    """The whole bundled guide: for end-to-end and exam tests."""
    return load_entries([BUNDLED_CORPUS])


@pytest.fixture(scope="session")
def index_cfg(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedding, corpus_entries) -> Config:
    """A real Chroma index of the bundled corpus, built once by our own ingest code."""
    cfg = load_config(env={}, data_dir=tmp_path_factory.mktemp("index"), server_port=TEST_PORT)
    ingest_entries(cfg, corpus_entries, embedder=embedder)
    return cfg


@pytest.fixture(scope="session")
def retriever(index_cfg: Config, embedder: MiniLMEmbedding) -> HybridRetriever:
    return HybridRetriever(index_cfg, embedder=embedder)


@pytest.fixture(scope="session")
def model_server(index_cfg: Config):
    """The real local model server on 127.0.0.1, started once and stopped at the end."""
    endpoint = ensure_server(index_cfg)
    yield endpoint
    stop_server(index_cfg)


@pytest.fixture(scope="session")
def assistant(index_cfg: Config, retriever: HybridRetriever, model_server: str) -> Assistant:
    return Assistant(index_cfg, retriever=retriever)


class Scripted(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that streams `chunks`, one every `pause` seconds, to every request."""

    chunks: tuple[str, ...] = ()
    replies: tuple[tuple[str, ...], ...] = ()  # when given, one reply per request in turn (the last repeats)
    pause = 0.0
    requests: list[dict] = []
    load: dict[str, int] = {}  # requests in flight now, and the most ever at once
    guard = threading.Lock()

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.requests.append(body)
        with self.guard:
            self.load["now"] = self.load.get("now", 0) + 1
            self.load["most"] = max(self.load.get("most", 0), self.load["now"])
        try:
            chunks = self.replies[min(len(self.requests), len(self.replies)) - 1] if self.replies else self.chunks
            if not body.get("stream"):
                return self._whole(body, "".join(chunks))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for chunk in chunks:
                delta = {"choices": [{"index": 0, "delta": {"content": chunk}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.pause)
            self.wfile.write(b"data: [DONE]\n\n")
        finally:
            with self.guard:
                self.load["now"] -= 1

    def _whole(self, body: dict, reply: str) -> None:
        """A non-streamed reply; asked for log-probabilities, its first word is a first token all but certain."""
        choice: dict = {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
        if body.get("logprobs"):
            first = (reply.split() or [""])[0]
            top = [{"token": first, "logprob": -0.01, "bytes": None}, {"token": "\n", "logprob": -5.0, "bytes": None}]
            choice["logprobs"] = {"content": [{"token": first, "logprob": -0.01, "bytes": None, "top_logprobs": top}]}
        payload = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": [choice]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())


class Seen(list):
    """The requests a scripted endpoint received, and its load."""

    def __init__(self) -> None:
        super().__init__()
        self.load: dict[str, int] = {}


@pytest.fixture
def scripted_endpoint():
    """Start a scripted endpoint: `start(chunks, pause, replies)` returns its base URL and the requests it
    saw (a list whose `load` attribute holds the most requests it ever served at once)."""
    servers = []

    def start(chunks: list[str], pause: float = 0.0, replies: list[list[str]] = ()) -> tuple[str, list[dict]]:
        seen = Seen()
        fields = {"chunks": tuple(chunks), "replies": tuple(tuple(r) for r in replies), "pause": pause}
        handler = type(
            "Handler", (Scripted,), fields | {"requests": seen, "load": seen.load, "guard": threading.Lock()}
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1", seen

    yield start
    for server in servers:
        server.shutdown()
