"""Fixtures start real components: the real embedder, real Chroma, the real local model server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from assistant.answer import Assistant
from assistant.retrieve import HybridRetriever
from assistant.server import ensure_server, stop_server
from ingest.embed import MiniLMEmbedding
from ingest.load import load_entries
from ingest.store import ingest_entries
from rag.config import BUNDLED_CORPUS, Config, load_config

FIXTURES = Path(__file__).parent / "fixtures"
TEST_PORT = 8799  # not the default 8765, so a developer's own server is left alone


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's endpoint, index or data directory."""
    for var in list(os.environ):
        if var.startswith(("RAG_", "OPENAI_", "CHROMA_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_SERVER_PORT", str(TEST_PORT))


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return load_config(env={}, data_dir=tmp_path / "data", server_port=TEST_PORT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def corpus_entries():
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
