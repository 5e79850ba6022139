"""Faults: broken model servers, broken or missing indexes, oversized input.

Each fault gives one `Error:` line and exit code 1, and the index that was there still answers.
The broken model servers are real HTTP servers on 127.0.0.1 that misbehave on purpose.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from rag.assistant.retrieve import HybridRetriever
from rag.cli import cli
from rag.ingest.store import current_version, ingest_entries
from tests.conftest import MINI_GUIDE


class Misbehaving(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that is slow, rude or nonsensical, chosen by `behaviour`."""

    behaviour = "slow"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._send(200, b'{"data": [{"id": "m"}]}', "application/json")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.behaviour == "slow":
            time.sleep(3)
            self._send(200, b"{}", "application/json")
        elif self.behaviour == "garbage":
            self._send(200, b"\x00\xffthis is not an event stream\n\n", "text/event-stream")
        elif self.behaviour == "error":
            self._send(500, b'{"error": {"message": "model exploded"}}', "application/json")
        elif self.behaviour == "empty":
            self._send(200, b"data: [DONE]\n\n", "text/event-stream")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def bad_server(request) -> Iterator[str]:
    handler = type("Handler", (Misbehaving,), {"behaviour": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def indexed(store_cfg, embedder, mini_entries, monkeypatch):
    """A fresh real index of the mini corpus, embedded or on a Chroma server, that the CLI in this test also uses."""
    ingest_entries(store_cfg, mini_entries, embedder=embedder)
    monkeypatch.setenv("RAG_DATA_DIR", str(store_cfg.data_dir))
    if store_cfg.chroma_host:
        monkeypatch.setenv("CHROMA_HOST", store_cfg.chroma_host)
        monkeypatch.setenv("CHROMA_PORT", str(store_cfg.chroma_port))
        monkeypatch.setenv("RAG_COLLECTION", store_cfg.collection)
    return store_cfg


def still_answers(cfg, embedder, version: str) -> None:
    assert current_version(cfg).name == version
    hits = HybridRetriever(cfg, embedder=embedder).retrieve("TIDEGRAPH streaming graph partitioning").hits
    assert hits[0].node.node_id.startswith("paper/tidegraph")


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output.strip().splitlines()[-1] if result.output.strip() else ""


@pytest.mark.parametrize(
    ("bad_server", "env", "message"),
    [
        ("slow", {"RAG_LLM_TIMEOUT": "1"}, "did not answer within 1 s"),
        ("garbage", {}, "returned"),
        ("error", {}, "answered HTTP 500: model exploded"),
        ("empty", {}, "returned an empty answer"),
    ],
    indirect=["bad_server"],
    ids=["slow", "garbage", "http-500", "empty"],
)
def test_misbehaving_model_server(indexed, embedder, bad_server, env, message, monkeypatch):
    version = current_version(indexed).name
    monkeypatch.setenv("OPENAI_BASE_URL", bad_server)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, last = run_cli("ask", "What does TIDEGRAPH propose?")
    assert code == 1 and last.startswith("Error: ") and message in last
    still_answers(indexed, embedder, version)


def test_local_model_missing_says_run_setup(indexed, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODEL_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("RAG_SERVER_PORT", "8798")
    code, last = run_cli("ask", "What does TIDEGRAPH propose?")
    assert code == 1 and "The local model is not installed at" in last and "run `rag setup`" in last


def test_port_taken_by_something_else(indexed, monkeypatch):
    with ThreadingHTTPServer(("127.0.0.1", 0), type("H", (Misbehaving,), {"do_GET": Misbehaving.do_POST})) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        monkeypatch.setenv("RAG_SERVER_PORT", str(other.server_address[1]))
        monkeypatch.setenv("RAG_LLM_TIMEOUT", "1")
        code, last = run_cli("ask", "What does TIDEGRAPH propose?")
        other.shutdown()
    assert code == 1 and "does not answer as a model server" in last


def test_corrupt_chroma_directory(cfg, monkeypatch):
    chroma = cfg.data_dir / "chroma"
    chroma.mkdir(parents=True)
    (chroma / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("RAG_DATA_DIR", str(cfg.data_dir))
    code, last = run_cli("ask", "What does TIDEGRAPH propose?")
    assert code == 1 and "Chroma" in last and "corrupt" in last


def test_locked_chroma_directory_is_an_error_not_a_hang(cfg, embedder, mini_entries, monkeypatch):
    ingest_entries(cfg, mini_entries, embedder=embedder)
    version = current_version(cfg).name
    monkeypatch.setenv("RAG_DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("RAG_LOCK_TIMEOUT", "1")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(cfg.data_dir / "chroma" / "chroma.sqlite3")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        for args in (("ask", "What does TIDEGRAPH propose?"), ("ingest", str(MINI_GUIDE))):
            code, last = run_cli(*args)
            assert code == 1 and last.startswith("Error: The Chroma index in") and "locked by another process" in last
    finally:
        holder.kill()
        holder.wait()
    still_answers(cfg, embedder, version)


# Another process that takes SQLite's exclusive lock on Chroma's database and keeps it.
LOCK_HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(300)
"""


def test_corrupt_bm25_index_says_reingest(indexed, embedder):
    version = current_version(indexed).name
    bm25 = indexed.data_dir / "bm25" / version
    for file in bm25.iterdir():
        file.write_text("garbage")
    code, last = run_cli("ask", "What does TIDEGRAPH propose?")
    assert code == 1 and "unreadable; run `rag ingest` again" in last
    shutil.rmtree(bm25)  # a missing BM25 index is rebuilt from Chroma
    still_answers(indexed, embedder, version)


def test_chroma_server_unreachable(monkeypatch):
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", "9")
    code, last = run_cli("ingest", str(MINI_GUIDE))
    assert code == 1 and last.startswith("Error: Cannot reach the Chroma server at 127.0.0.1:9")


def test_huge_file_is_refused_and_index_kept(indexed, embedder, tmp_path):
    version = current_version(indexed).name
    huge = tmp_path / "huge.txt"
    with open(huge, "w") as handle:
        line = "All work and no play makes a very long file. " * 20 + "\n"
        while handle.tell() < 50 * 2**20:
            handle.write(line)
    code, last = run_cli("ingest", str(MINI_GUIDE), str(huge))
    assert code == 1 and "huge.txt: file is 50 MB, over the 20 MB limit per file" in last
    still_answers(indexed, embedder, version)


def test_directory_with_a_bad_file_names_it_and_keeps_index(indexed, embedder, tmp_path):
    version = current_version(indexed).name
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(MINI_GUIDE, folder / "guide.txt")
    (folder / "broken.md").write_bytes(b"\xff\xfe not utf-8 \x80")
    code, last = run_cli("ingest", str(folder))
    assert code == 1 and "broken.md: not UTF-8 text" in last
    still_answers(indexed, embedder, version)


def test_directory_without_text_files(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(b"\x89PNG")
    code, last = run_cli("ingest", str(tmp_path / "pics"))
    assert code == 1 and "No documents (.htm, .html, .markdown, .md, .pdf, .rst, .text, .txt) under" in last


def test_truncated_guide_keeps_index(indexed, embedder, tmp_path):
    version = current_version(indexed).name
    text = MINI_GUIDE.read_text()
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: text.index("Amsterdam") + len("Amsterdam")])  # the last posting loses its text
    code, last = run_cli("ingest", str(cut))
    assert code == 1 and "posting at 'Amsterdam' has no description (truncated entry?)" in last
    still_answers(indexed, embedder, version)


def test_bad_exam_file_names_the_line(tmp_path):
    exam = tmp_path / "exam.jsonl"
    exam.write_text(json.dumps({"id": "1", "question": "q"}) + "\n")
    code, last = run_cli("exam", "--exam", str(exam))
    assert code == 1 and last == "Error: exam.jsonl:1: missing 'choices', 'answer'"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "hi", "--top-k", "0"], "Invalid value for '--top-k' / '--k': 0 is not in the range 1<=x<=100."),
        (["ask", "hi", "--retriever", "magic"], "Invalid value for '--retriever'"),
        (["exam", "--mode", "open-book"], "Invalid value for '--mode'"),
        (["ui", "--port", "99999"], "Invalid value for '--port'"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_options_are_usage_errors(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output


def test_ui_shows_server_down_in_the_chat(indexed, embedder, monkeypatch):
    from rag.assistant.answer import Assistant
    from rag.ui.app import make_chat_fn

    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    from rag.config import load_config

    cfg = load_config()
    respond = make_chat_fn(Assistant(cfg, retriever=HybridRetriever(cfg, embedder=embedder)))
    replies = list(respond("What does TIDEGRAPH propose?", [], "all", "all", "all", {}))
    messages, records, last = replies[-1]
    assert messages[0].content.startswith("⚠️ `` Cannot reach the model server at http://127.0.0.1:9/v1")
    assert records == {} and last is None  # nothing was answered: nothing to vote on or to follow up


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on `port`, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.add(address)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1 and ::1 as /proc spells them


def test_servers_the_project_starts_listen_on_loopback_only(index_cfg, model_server):
    from rag.ui.app import launch
    from tests.conftest import TEST_PORT, free_port

    assert listening_addresses(TEST_PORT) and listening_addresses(TEST_PORT) <= LOOPBACK
    ui_host = next(p for p in cli.commands["ui"].params if p.name == "host").default
    port = free_port()
    app = launch(index_cfg, ui_host, port, prevent_thread_lock=True)
    try:
        assert listening_addresses(port) and listening_addresses(port) <= LOOPBACK
    finally:
        app.close()


def test_parse_creates_no_data_directory(tmp_path: Path):
    """`rag parse` reads only; it creates no data directory."""
    code, _ = run_cli("parse", str(MINI_GUIDE))
    assert code == 0 and not (tmp_path / "data").exists()


def test_the_local_model_server_answers_only_with_its_key(index_cfg, model_server):
    """Other local users and web pages cannot use the model server: it asks for a key only this account reads."""
    from rag.runtime.server import endpoint_key, key_file, pid_file

    # The server answers /models between requests only: a long prompt may be in the way.
    wait = index_cfg.llm_timeout
    assert httpx.get(f"{model_server}/models", timeout=wait).status_code == 401
    headers = {"Authorization": f"Bearer {endpoint_key(index_cfg)}"}
    assert httpx.get(f"{model_server}/models", timeout=wait, headers=headers).status_code == 200
    assert key_file(index_cfg).stat().st_mode & 0o777 == 0o600
    command_line = Path(f"/proc/{pid_file(index_cfg).read_text().strip()}/cmdline").read_bytes()
    assert endpoint_key(index_cfg).encode() not in command_line


@pytest.mark.model  # starts a real model server of its own
def test_a_server_killed_mid_answer_is_said_plainly_and_the_next_question_is_answered(index_cfg, retriever):
    """A real server crashing (SIGSEGV, as llama.cpp's AMX kernels do) in the middle of an answer: that
    turn is one line saying it crashed and how, and the next question starts it again and is answered."""
    import os
    import signal

    from rag.assistant.answer import Assistant, Retrieved, final_answer
    from rag.errors import RagError
    from rag.runtime.server import crash_report, stop_server
    from tests.conftest import free_port

    cfg = index_cfg.replace(server_port=free_port(), context_mode="retrieved", server_parallel=1)
    assistant = Assistant(cfg, retriever=retriever)
    question = "What does the Madrid team build?"
    try:
        assistant.client  # noqa: B018 - starts the server
        server = subprocess.run(
            ["pgrep", "-f", f"rag.runtime.launch.*--port {cfg.server_port} .*--serve"], capture_output=True, text=True
        ).stdout.split()
        stream = assistant.stream(question)
        assert isinstance(next(stream), Retrieved)
        threading.Timer(1.0, os.kill, (int(server[0]), signal.SIGSEGV)).start()
        with pytest.raises(RagError) as crashed:
            final_answer(stream)
        message = str(crashed.value)
        assert message.startswith("The model server crashed (signal SIGSEGV at ") and "\n" not in message
        assert f"server-{cfg.server_port}.log" in message
        answer = assistant.ask("Which team is hiring in Barcelona?")
        assert answer.answered_by.startswith("model") and answer.answer.strip()
        assert crash_report(cfg) is None  # the new server's start cleared the old report
    finally:
        stop_server(cfg)
