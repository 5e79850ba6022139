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
        (lambda t: ["ingest", str(write(t, "doc.pdf", b"%PDF"))], "unsupported file type '.pdf'"),
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


def test_server_unreachable(index_cfg, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    result = CliRunner().invoke(cli, ["ask", "What does EMC2 propose?"])
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
    assert f"Indexed 7 entries into '{store_cfg.collection}'" in first.output and "7 added" in first.output
    second = CliRunner().invoke(cli, ["ingest", str(FIXTURES / "neurips-guide.txt"), str(FIXTURES / "notes.md")])
    assert second.exit_code == 0 and "is up to date" in second.output and "nothing re-embedded" in second.output


def test_server_stop_never_signals_a_process_that_is_not_our_server(cfg, tmp_path):
    """A stale pid file naming an unrelated process (a crash leaves the same) is removed, not used."""
    import subprocess
    import sys

    from assistant.server import pid_file, stop_server

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


def test_the_chat_server_keeps_last_token_logits_only_and_the_exam_server_all(cfg, monkeypatch):
    import subprocess

    from assistant import server

    started: list[list[str]] = []

    class Recorded:
        pid = 4242

        def __init__(self, cmd, **_):
            started.append(cmd)

    monkeypatch.setattr(subprocess, "Popen", Recorded)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    cfg = cfg.replace(model_dir=cfg.data_dir / "models", server_args="--n_batch 256")
    cfg.model_dir.mkdir()
    server._spawn(cfg)
    server._spawn(cfg.with_logprobs())
    chat, exam = (dict(zip(cmd[3::2], cmd[4::2], strict=False)) for cmd in started)
    assert (chat["--logits_all"], exam["--logits_all"]) == ("False", "True")
    assert (int(chat["--port"]), int(exam["--port"])) == (cfg.server_port, cfg.server_port + 1)
    assert started[0][-2:] == ["--n_batch", "256"]  # the user's own options come last and win


def test_a_server_start_is_announced_before_the_wait(cfg, monkeypatch):
    from assistant import server

    class Exited:
        returncode = 1

        def poll(self) -> int:
            return 1

    monkeypatch.setattr(server, "is_healthy", lambda *_, **__: False)
    monkeypatch.setattr(server, "_port_open", lambda _: False)
    monkeypatch.setattr(server, "is_installed", lambda _: True)
    monkeypatch.setattr(server, "_spawn", lambda _: Exited())
    monkeypatch.setattr(server, "_last_log_line", lambda _: "no model")
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    told: list[str] = []
    with pytest.raises(RagError, match="exited at start"):
        server.ensure_server(cfg, told.append)
    assert told == [f"Starting the local model server at {cfg.shown_endpoint}…"]
