"""The `rag` command: one click group; each command parses its flags, builds the Config, calls one
library function and prints what it returns."""

from __future__ import annotations

import copy
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from rag.cli_flags import (
    FILE,
    common_options,
    exam_file_option,
    examples,
    filters_option,
    out_option,
    report_option,
    runs_subcommand,
    usage_checked,
)
from rag.config import Config
from rag.console import ask_and_print, chat_in_terminal, progress_bar, say, show, warn
from rag.errors import RagError
from rag.eval.options import AGGREGATE_NAMES, MODES, SCORINGS, corpus_sizes, crowd_sizes

# Besides the console, the library modules a command calls are imported inside it: start-up stays fast.
STARTED = time.perf_counter()


class RagGroup(click.Group):
    """Turns RagError into `Error: <one line>` and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            warn("\nInterrupted.")
            sys.exit(130)


@click.group(cls=RagGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag-guides")
def cli() -> None:
    """Ask questions about documents; answers cite the entries they come from.

    Typical first run: `rag setup` (model, index, server), then `rag chat`.
    """


@cli.command()
@common_options
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--follow-symlinks", is_flag=True, help="Also read files a folder links to outside itself (skipped by default)."
)
@examples("rag ingest", "rag ingest guides/ notes.md")
def ingest(cfg: Config, paths: tuple[Path, ...], follow_symlinks: bool) -> None:
    """Index guides and text/Markdown files (default: the bundled ICML 2024 guide).

    The index becomes exactly these files' entries: unchanged entries keep their
    vectors, removed ones are deleted, and the switch to the new version is atomic.
    """
    from rag.setup import index_files

    index_files(cfg, paths, follow_symlinks)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry (JSON lines).")
@examples("rag parse data/corpus/amazon-icml-2024.txt --json | head -3")
def parse(path: Path, as_json: bool) -> None:
    """Show the entries a file parses into, without touching the index."""
    from rag.ingest.load import parsed_lines

    for line in parsed_lines(path, as_json):
        say(line)


@cli.command()
@common_options
@filters_option
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print {answer, citations, retrieved, model, timings}.")
@examples(
    'rag ask "What does EMC2 propose for contrastive learning?"',
    'rag ask "Which papers did Aaron Roth co-author?" --json',
    'rag ask "What does the team work on?" --filter city=Madrid',
)
def ask(cfg: Config, question: str, filters: dict[str, str], as_json: bool) -> None:
    """Answer one question from the index, with verified [n] citations."""
    ask_and_print(cfg, question, filters, as_json, started=STARTED)


@cli.command()
@common_options
@filters_option
@examples("rag chat --filter kind=paper")
def chat(cfg: Config, filters: dict[str, str]) -> None:
    """Chat in the terminal; follow-up questions use the conversation.

    Type a question and press Enter; an empty line or Ctrl-D quits.
    """
    chat_in_terminal(cfg, filters)


@cli.command()
@common_options
@click.option("--no-ingest", is_flag=True, help="Only install the model; do not build the index.")
@click.option("--native", "server_build", flag_value="native", help="First build the model server for this CPU.")
@click.option("--prebuilt", "server_build", flag_value="prebuilt", help="First put the prebuilt server back.")
@examples("rag setup", "rag setup --native", "rag setup --prebuilt")
def setup(cfg: Config, no_ingest: bool, server_build: str | None) -> None:
    """Prepare the embedded defaults: local model, index of the bundled corpus, model server.

    Safe to run again: each step is skipped when already done (an existing index is kept;
    use `rag ingest` to change what is indexed).
    """
    from rag.setup import prepare

    prepare(cfg, ingest=not no_ingest, server_build=server_build or "")


@cli.group()
@examples("rag server status")
def server() -> None:
    """Start, stop or check the local model server."""


@server.command("start")
@common_options
@examples("rag server start")
def server_start(cfg: Config) -> None:
    """Start the local model server (reused if already running)."""
    from rag.setup import start_server

    start_server(cfg)


@server.command("stop")
@common_options
@examples("rag server stop")
def server_stop(cfg: Config) -> None:
    """Stop the local model server this data directory started."""
    from rag.runtime.server import stop_server

    say("Stopped." if stop_server(cfg) else "No server was running.")


@server.command("status")
@common_options
@examples("rag server status")
def server_status(cfg: Config) -> None:
    """Say whether the endpoint answers, and how the local server ended if it crashed (exit 1 unless up)."""
    from rag.runtime.server import server_state

    state = server_state(cfg)
    if not state.startswith("Up"):
        raise RagError(state)
    say(state)


@cli.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; 0.0.0.0 exposes it.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--auth", multiple=True, metavar="USER:PASS", help="A login (repeatable); needed off loopback.")
@click.option("--auth-file", type=FILE, envvar="RAG_UI_AUTH", help="A file of USER:PASS lines [env RAG_UI_AUTH].")
@click.option("--no-auth", is_flag=True, help="Serve a non-loopback address without a login (not recommended).")
@examples("rag ui --port 7860", "rag ui --host 0.0.0.0 --auth alice:s3cret")
def ui(cfg: Config, host: str, port: int, auth: tuple[str, ...], auth_file: Path | None, no_auth: bool) -> None:
    """Start the Gradio chat after what `rag setup` prepares: model, index, server (each said, skipped when done).

    On an address other than loopback the chat asks for a login (--auth or RAG_UI_AUTH);
    --no-auth serves it open, with a warning.
    """
    from rag.setup import serve_chat

    serve_chat(cfg, host, port, auth, auth_file, serve_open=no_auth)


@cli.group(invoke_without_command=True)
@click.pass_context
@common_options
@exam_file_option
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="rag",
    show_default=True,
    help="Context the model gets: retrieved, none, the gold source entries, or the naive llama-index peer; "
    "chat asks each question without its options, as a person would in the chat, and grades the open answer.",
)
@click.option(
    "--prompt",
    "prompts",
    multiple=True,
    metavar="NAME",
    help="Exam prompt file in prompts/ (repeat to compare variants) [default exam; with --mode chat, the chat's "
    "answer prompt, default answer].",
)
@click.option(
    "--scoring",
    type=click.Choice(SCORINGS),
    default="cyclic",
    show_default=True,
    help="Read the letter from the reply text, from A-D log-probabilities, or from log-probabilities "
    "over two option orders (permuted) or all four rotations (cyclic); both cancel letter bias.",
)
@click.option(
    "--aggregate",
    type=click.Choice(AGGREGATE_NAMES),
    default="mean-prob",
    show_default=True,
    help="How permuted/cyclic combine an option's scores over the orders: mean probability, or summed "
    "log-probability (stricter: one order where the model dislikes an option sinks it).",
)
@click.option(
    "--all-configs",
    "--compare",
    "compare",
    is_flag=True,
    help="Run hybrid, chat (open answers), oracle, closed-book, dense, bm25 and the naive llama-index peer "
    "side by side.",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@report_option
@out_option("Write the full results (metrics, config, items) to this file.")
@examples(
    "rag exam --limit 10",
    "rag exam --mode oracle --out results.json",
    "rag exam --mode chat --report report/",
    "rag exam --all-configs --report report/",
    "rag exam --prompt exam --prompt exam_loose",
    "rag exam generate --per-entry 2 --out candidates.jsonl",
)
def exam(
    ctx: click.Context, cfg: Config, exam_file: Path | None, limit: int | None, report_dir: Path | None, **run: Any
) -> None:
    """Score the assistant on a multiple-choice exam (accuracy, hit@5, MRR, citations, latency)."""
    if runs_subcommand(ctx):
        return
    from rag.eval.runs import exam, planned_runs

    out = run.pop("out")  # what is left are the run flags, --mode to --all-configs
    runs = planned_runs(cfg.retriever, **run)
    show(exam(cfg, exam_file, runs, limit, report_dir, out, progress_bar=progress_bar))


@exam.command("compare-saved")
@click.argument("files", nargs=-1, required=True, type=FILE)
@exam_file_option
@report_option
@out_option("Write the runs and the item analysis to this file.")
@examples(
    "rag exam --retriever dense --out dense.json",
    "rag exam --retriever bm25 --out bm25.json",
    "rag exam compare-saved dense.json bm25.json hybrid.json --report report/",
)
def exam_compare(files: tuple[Path, ...], exam_file: Path | None, report_dir: Path | None, out: Path | None) -> None:
    """Compare saved runs side by side (table, 2PL item analysis, report) without asking the model again.

    Each FILE is what `rag exam --out` wrote (one run, or --all-configs). Runs of one exam can be
    made at different times or on different machines. (`rag exam compare` is the same command.)
    """
    from rag.eval.runs import compare_saved

    show(compare_saved(list(files), exam_file, report_dir, out))


_compare_alias = copy.copy(exam_compare)  # `rag exam compare` works too, out of the help listing
_compare_alias.hidden = True
exam.add_command(_compare_alias, "compare")


@exam.command("redteam")
@common_options
@click.option(
    "--cases",
    "cases_file",
    type=FILE,
    help="Red-team cases (JSON lines: file, text, question); default: the bundled set.",
)
@out_option("Write every case here.")
@examples("rag exam redteam --out redteam.json")
def exam_redteam(cfg: Config, cases_file: Path | None, out: Path | None) -> None:
    """Plant instructions beside the guide and count which defence stopped each (filter, model, checks, page).

    Builds its own temporary index; asks each case twice (as shipped, and with the filter off).
    """
    from rag.eval.redteam import red_team

    red_team(cfg, cases_file, out, say, progress_bar)


@exam.command("generate")
@common_options
@click.option("--per-entry", default=2, show_default=True, type=click.IntRange(1, 5), help="Questions per entry.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N entries.")
@click.option("--out", required=True, type=FILE, help="Candidate exam file.")
@examples("rag exam generate --per-entry 2 --limit 10 --out eval/exams/candidates.jsonl")
def exam_generate(cfg: Config, per_entry: int, limit: int | None, out: Path) -> None:
    """Draft candidate questions from each indexed entry, filtered, for a person to review.

    Filters: ends with "?", four distinct options, the answer is supported by the entry,
    the question names what it asks about, no near-duplicates. Never merged into the gold exam.
    """
    from rag.eval.generate import draft_exam

    say(draft_exam(cfg, per_entry, limit, out, progress_bar))


@cli.group(invoke_without_command=True)
@click.pass_context
@common_options
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Only votes cast at or after this time (UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="The summary and every vote as one JSON object.")
@examples("rag feedback --since 2026-12-01", "rag feedback export --out eval/exams/feedback-candidates.jsonl")
def feedback(ctx: click.Context, cfg: Config, since: datetime | None, as_json: bool) -> None:
    """The chat's 👍/👎 votes: share of 👍 overall and by kind of question, then each vote.

    Votes live in the data directory (feedback.jsonl), appended as they are cast.
    """
    if runs_subcommand(ctx):
        return
    from rag.eval.feedback import votes_report

    say(votes_report(cfg, since, as_json, warn))


@feedback.command("export")
@common_options
@click.option("--out", required=True, type=FILE, help="Candidate exam file.")
@examples("rag feedback export --out feedback-candidates.jsonl")
def feedback_export(cfg: Config, out: Path) -> None:
    """Exam candidates from the votes, 👎 first, for a person to review (never merged into an exam).

    Each keeps the question as condensed with its conversation, the cited entries as `sources`, and
    four options the model drafts from those entries, filtered like `rag exam generate`.
    """
    from rag.eval.feedback import export_votes

    say(export_votes(cfg, out, warn, progress_bar))


@cli.command()
@common_options
@click.option(
    "--sizes",
    default="1000,10000",
    show_default=True,
    callback=usage_checked(corpus_sizes),
    help="Synthetic corpus sizes (entries) besides the bundled guide; add 100000 for the large run.",
)
@click.option("--questions", default=20, show_default=True, type=click.IntRange(1), help="Retrievals per corpus.")
@click.option(
    "--answers",
    default=5,
    show_default=True,
    type=click.IntRange(0),
    help="Questions answered end to end by our pipeline and by the naive llama-index one.",
)
@out_option("Write the figures here [default <data dir>/results/bench-<time>.json].")
@click.option(
    "--users",
    default="1,4,8",
    show_default=True,
    callback=usage_checked(crowd_sizes),
    help="Crowd sizes: that many chat users ask `rag ui` at once (gradio_client); 0 skips the crowds.",
)
@click.option(
    "--docs", default="", help='A documents folder answered beside the guide [default: the Click docs; "none" skips].'
)
@examples("rag bench", "rag bench --sizes 1000,10000,100000 --answers 10", "rag bench --docs ~/docs --users 0")
def bench(cfg: Config, sizes: list[int], questions: int, answers: int, out: Path | None, users: list[int], docs: str):
    """Measure ingest, retrieval, model and end-to-end speed, and memory; prints figures, never fails on speed."""
    from rag.eval.bench import record_bench

    record_bench(
        cfg, sizes, questions, answers, tuple(users), out, say=say, log=warn, progress_bar=progress_bar, docs=docs
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
