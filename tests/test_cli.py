"""The `rag` CLI: help with examples, and one-line errors with exit code 1 for bad input."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rag.cli import cli
from rag.errors import RagError
from tests.conftest import FIXTURES

README = Path(__file__).resolve().parents[1] / "README.md"


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    """Every command and group, hidden aliases left out."""
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            yield (*prefix, name)
            yield from all_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


@pytest.mark.parametrize("path", list(all_commands(cli)), ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "rag " in result.output


@pytest.mark.parametrize("path", list(all_commands(cli)), ids=" ".join)
def test_every_command_is_in_the_readme_command_table(path):
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `rag ")]
    assert any(f"`rag {path[0]}" in row and all(part in row for part in path) for row in rows), path


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make_args", "error"),
    [
        (lambda t: ["ingest", str(write(t, "empty.txt", b""))], "empty.txt: file is empty"),
        (lambda t: ["ingest", str(write(t, "blank.md", b"  \n\n \t\n"))], "blank.md: file is empty"),
        (lambda t: ["ingest", str(t / "missing.txt")], "No such file or directory: "),
        (lambda t: ["ingest", str(write(t, "bin.txt", b"\x00\x01\x02abc"))], "bin.txt: looks like a binary file"),
        (
            lambda t: ["ingest", str(write(t, "latin.txt", "café".encode("latin-1")))],
            "latin.txt: not UTF-8 text (bad byte at offset 3)",
        ),
        (lambda t: ["ingest", str(write(t, "doc.pdf", b"%PDF"))], "doc.pdf: not a readable PDF"),
        (lambda t: ["ingest", str(write(t, "doc.docx", b"PK"))], "unsupported file type '.docx'"),
        (
            lambda t: ["ingest", str(FIXTURES / "truncated-guide.txt")],
            "research area 'Robotics' has no papers (truncated entry?)",
        ),
        (lambda t: ["parse", str(t / "nope.md")], "No such file or directory"),
        (lambda t: ["ask", ""], "The question is empty"),
        (lambda t: ["ask", "   \n\t "], "The question is empty"),
        (lambda t: ["ask", "x" * 10_000], "The question is 10000 characters long; the limit is 2000"),
        (lambda t: ["ask", "hi"], "run `rag ingest` first"),
    ],
    ids=[
        "empty",
        "whitespace",
        "missing",
        "binary",
        "latin1",
        "pdf",
        "docx",
        "truncated",
        "parse-missing",
        "empty-question",
        "blank-question",
        "huge-question",
        "not-ingested",
    ],
)
def test_bad_input_gets_one_line_error(tmp_path, make_args, error):
    result = CliRunner().invoke(cli, make_args(tmp_path))
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ") and error in lines[-1], result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "hi", "--filter", "colour=red"], "Unknown filter key 'colour'"),
        (["ask", "hi", "--filter", "kind=poem"], "Unknown kind 'poem'"),
        (["ask", "hi", "--retriever", "magic"], "'magic' is not one of"),
    ],
)
def test_bad_flag_values_are_usage_errors_at_parse_time(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_unknown_option_is_a_usage_error():
    result = CliRunner().invoke(cli, ["ask", "hi", "--colour", "red"])
    assert result.exit_code == 2 and "Error: No such option '--colour'" in result.output


def test_server_unreachable(mini_index_cfg, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(mini_index_cfg.data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    result = CliRunner().invoke(cli, ["ask", "What does TIDEGRAPH propose?"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: Cannot reach the model server at http://127.0.0.1:9/v1: connection failed. "
        "Start it with `rag server start`, or set OPENAI_BASE_URL to a running endpoint"
    )


def test_ingest_then_reingest_reports_up_to_date(store_cfg, monkeypatch):
    if store_cfg.chroma_host:  # the same commands against a Chroma server
        monkeypatch.setenv("CHROMA_HOST", store_cfg.chroma_host)
        monkeypatch.setenv("CHROMA_PORT", str(store_cfg.chroma_port))
        monkeypatch.setenv("RAG_COLLECTION", store_cfg.collection)
    first = CliRunner().invoke(cli, ["ingest", str(FIXTURES / "neurips-guide.txt"), str(FIXTURES / "notes.md")])
    assert first.exit_code == 0, first.output
    assert f"Indexed 8 entries into '{store_cfg.collection}'" in first.output and "8 added" in first.output
    second = CliRunner().invoke(cli, ["ingest", str(FIXTURES / "neurips-guide.txt"), str(FIXTURES / "notes.md")])
    assert second.exit_code == 0 and "is up to date" in second.output and "nothing re-embedded" in second.output


def test_server_stop_never_signals_a_process_that_is_not_our_server(cfg, tmp_path):
    """A stale pid file naming an unrelated process (a crash leaves the same) is removed, not used."""
    import subprocess
    import sys

    from rag.runtime.server import pid_file, stop_server

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pid_file(cfg).parent.mkdir(parents=True, exist_ok=True)
        pid_file(cfg).write_text(str(bystander.pid))
        assert stop_server(cfg) is False
        assert bystander.poll() is None  # still running
        assert not pid_file(cfg).exists()
    finally:
        bystander.kill()


def test_exam_options_before_a_subcommand_are_an_error_not_ignored(tmp_path):
    result = CliRunner().invoke(cli, ["exam", "--mode", "chat", "generate", "--out", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2 and "--mode belongs to `rag exam` itself" in result.output


def test_the_server_is_launched_with_its_slots_and_a_key_kept_off_the_command_line(cfg):
    from rag.runtime import server

    cfg = cfg.replace(model_dir=cfg.data_dir / "models", server_parallel=3)
    command = server.launch_command(cfg)
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert command[1:3] == ["-m", "rag.runtime.launch"]
    assert (flags["--port"], flags["--parallel"], flags["--ctx"]) == (str(cfg.server_port), "3", str(cfg.server_ctx))
    assert flags["--slot-dir"] == str(server.slot_dir(cfg)) and server.server_key(cfg) not in command


def test_a_crash_is_reported_with_how_when_and_the_log(cfg):
    import json

    from rag.runtime import server

    cfg = cfg.replace(model_dir=cfg.data_dir / "models")
    assert server.crash_report(cfg) is None
    cfg.model_dir.mkdir(parents=True)
    record = {"state": "crashed", "how": "signal SIGSEGV", "at": 0, "last_line": "ggml_backend_amx_mul_mat"}
    server.status_file(cfg).write_text(json.dumps(record))
    report = server.crash_report(cfg)
    assert report.startswith("The model server crashed (signal SIGSEGV at ") and str(server.log_file(cfg)) in report
    assert report.endswith(": ggml_backend_amx_mul_mat")
    assert server.server_state(cfg).startswith("Crashed (signal SIGSEGV")
    assert server.crash_report(cfg.replace(base_url="http://127.0.0.1:9/v1")) is None  # not our server


def _installed_model(cfg):
    """An installed model, as `rag setup` leaves it: the file at its size (sparse here) and its marker."""
    from rag.runtime import model

    path = model.model_path(cfg)
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.truncate(model.SIZE)
    path.with_suffix(".sha256").write_text(model.SHA256 + "\n")
    return cfg


# A stand-in for the server's supervisor (its command line names the launcher and the port, as the real
# one's does): it loads for a second, listens while it says "loading" (503) for another, then answers.
STAND_IN = """
import http.server, json, sys, time
time.sleep(1.0)
ready = time.monotonic() + 1.0
class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        loading = time.monotonic() < ready
        body = json.dumps({"error": "Loading model"} if loading else {"data": [{"id": "m"}]}).encode()
        self.send_response(503 if loading else 200)
        self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[3])), Models).serve_forever()
"""


def test_a_server_begun_early_is_waited_for_not_started_twice(cfg, monkeypatch):
    import subprocess
    import sys
    import time

    from rag.runtime import server
    from tests.conftest import free_port

    cfg = _installed_model(cfg.replace(server_port=free_port(), model_dir=cfg.data_dir / "models"))
    started: list[subprocess.Popen] = []

    def spawn(cfg):
        argv = [sys.executable, "-c", STAND_IN, server.MODULE, "--port", str(cfg.server_port)]
        started.append(subprocess.Popen(argv))
        server.pid_file(cfg).parent.mkdir(parents=True, exist_ok=True)
        server.pid_file(cfg).write_text(str(started[-1].pid))
        server.start_file(cfg).write_text(str(started[-1].pid))
        return started[-1]

    monkeypatch.setattr(server, "_spawn", spawn)
    other = cfg.replace(data_dir=cfg.data_dir / "other")  # another data directory, the same port
    try:
        began = time.monotonic()
        server.begin_server(cfg)
        assert time.monotonic() - began < 0.8 and len(started) == 1  # returned while it loads
        server.begin_server(other)  # a second command meanwhile starts nothing more
        deadline = time.monotonic() + 30
        while not server._port_open(cfg) and time.monotonic() < deadline:  # listening, still loading
            time.sleep(0.05)
        told: list[str] = []
        assert server.ensure_server(other, told.append) == cfg.endpoint
        assert len(started) == 1 and told == [f"Starting the local model server at {cfg.shown_endpoint}…"]
    finally:
        for process in started:
            process.kill()
            process.wait()


def test_a_server_start_is_announced_before_the_wait(cfg, monkeypatch):
    import os
    import subprocess
    import sys

    from rag.runtime import model, server
    from tests.conftest import free_port

    # A closed port (no server answers, nothing listens) and a model folder of this test's own.
    cfg = _installed_model(cfg.replace(server_port=free_port(), model_dir=cfg.data_dir / "models"))
    path = model.model_path(cfg)
    server.log_file(cfg).write_text("loading model\nerror: no model\n")

    # Only the launch itself is replaced: the real one would start llama.cpp. This process exits at once.
    def spawn(_):
        process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
        process.wait()
        return process

    monkeypatch.setattr(server, "_spawn", spawn)
    told: list[str] = []
    with pytest.raises(RagError, match="exited at start: error: no model"):
        server.ensure_server(cfg, told.append)
    assert told == [f"Starting the local model server at {cfg.shown_endpoint}…"]
    assert os.path.getsize(path) == model.SIZE  # the model is left as it was


def visible_params(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    """(command path, parameter) for every option a help text shows."""
    for name, command in group.commands.items():
        if command.hidden:
            continue
        for param in command.params:
            if not getattr(param, "hidden", False):
                yield (*prefix, name), param
        if isinstance(command, click.Group):
            yield from visible_params(command, (*prefix, name))


def test_json_is_a_flag_wherever_the_help_shows_it_and_files_are_given_with_out():
    shown = [(path, param) for path, param in visible_params() if "--json" in param.opts]
    assert {path for path, _ in shown} == {("parse",), ("ask",), ("feedback",)}
    assert all(param.is_flag for _, param in shown)
    with_out = {path for path, param in visible_params() if "--out" in param.opts}
    assert with_out >= {("exam",), ("exam", "compare-saved"), ("exam", "redteam"), ("bench",)}


def test_out_and_its_hidden_alias_json_write_the_same_file(tmp_path):
    from tests.test_exam import _saved_run

    runs = [
        str(_saved_run(tmp_path / f"{mode}.json", mode, right)) for mode, right in (("rag", [1, 0]), ("oracle", [1, 1]))
    ]
    written = {}
    for flag in ("--out", "--json"):
        out = tmp_path / f"compared{flag}.json"
        result = CliRunner().invoke(cli, ["exam", "compare-saved", *runs, flag, str(out)])
        assert result.exit_code == 0 and result.output.endswith(f"Wrote {out}\n"), result.output
        written[flag] = out.read_bytes()
    assert written["--out"] == written["--json"]
    both = CliRunner().invoke(cli, ["exam", "compare-saved", *runs, "--out", "a.json", "--json", "b.json"])
    assert both.exit_code == 2 and "--out FILE and --json FILE name the same file" in both.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--sizes", "5"], "each size must be at least 10 entries"),
        (["bench", "--sizes", "1k"], "give sizes as comma-separated whole numbers"),
        (["bench", "--users", "a,b"], "give counts as comma-separated whole numbers"),
    ],
)
def test_bench_lists_are_checked_when_flags_are_parsed(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_the_bench_lists_parse_to_numbers():
    from rag.eval.options import corpus_sizes, crowd_sizes

    assert corpus_sizes("1000, 10000,") == [1000, 10000]
    assert crowd_sizes("1,0,8") == [1, 8] and crowd_sizes("0") == []
