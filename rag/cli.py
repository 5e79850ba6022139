"""The `rag` command: one click group, thin commands that build the Config and call a library function."""

from __future__ import annotations

import copy
import functools
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from eval.options import AGGREGATE_NAMES, MODES, SCORINGS
from rag.config import RETRIEVERS, Config, load_config
from rag.errors import RagError

if TYPE_CHECKING:  # imported by the commands that need it: start-up stays fast
    from assistant.answer import Assistant

STARTED = time.perf_counter()


def common_options(func: Callable) -> Callable:
    """Flags shared by every command that reads the index or the model, spelled the same everywhere."""

    @click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="TOML file with settings (a [rag] table).",
    )
    @click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Where the index lives [env RAG_DATA_DIR]."
    )
    @click.option("--collection", help="Index name [env RAG_COLLECTION; default guides].")
    @click.option("--top-k", "--k", "top_k", type=click.IntRange(1, 100), help="Entries to retrieve [default 6].")
    @click.option("--model", help="Model name at the endpoint [env RAG_MODEL / OPENAI_MODEL].")
    @click.option("--retriever", type=click.Choice(RETRIEVERS), help="Retrieval mode [default hybrid].")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        config_file: Path | None,
        data_dir: Path | None,
        collection: str | None,
        top_k: int | None,
        model: str | None,
        retriever: str | None,
        **kwargs: Any,
    ) -> Any:
        cfg = load_config(
            config_file, data_dir=data_dir, collection=collection, top_k=top_k, model=model, retriever=retriever
        )
        return func(*args, cfg=cfg, **kwargs)

    return wrapper


class RagGroup(click.Group):
    """Turns RagError into `Error: <one line>` and exit 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagError as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            sys.exit(130)


@click.group(cls=RagGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rag-guides")
def cli() -> None:
    """Ask questions about documents; answers cite the entries they come from.

    Typical first run: `rag setup` (model, index, server), then `rag chat`.
    """


def _progress(total: int, desc: str, unit: str = "it", scale: bool = False):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, disable=None, file=sys.stderr)


def _ingest(cfg: Config, paths: tuple[Path, ...], follow_symlinks: bool = False) -> None:
    from ingest.load import load_entries
    from ingest.store import ingest_entries

    entries = load_entries(paths or cfg.corpus, follow_symlinks=follow_symlinks, warn=lambda m: click.echo(m, err=True))
    with _progress(len(entries), "Indexing", "entry") as bar:
        report = ingest_entries(cfg, entries, progress=bar.update)
    if not report.changed:
        click.echo(f"Index '{cfg.collection}' is up to date: {report.entries} entries, nothing re-embedded.")
        return
    click.echo(
        f"Indexed {report.entries} entries into '{cfg.collection}' (version {report.version}): "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; embedded {report.embedded} in {report.embed_seconds:.1f} s, "
        f"total {report.total_seconds:.1f} s."
    )


@cli.command()
@common_options
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--follow-symlinks", is_flag=True, help="Also read files a folder links to outside itself (skipped by default)."
)
def ingest(cfg: Config, paths: tuple[Path, ...], follow_symlinks: bool) -> None:
    """Index guides and text/Markdown files (default: the bundled ICML 2024 guide).

    The index becomes exactly these files' entries: unchanged entries keep their
    vectors, removed ones are deleted, and the switch to the new version is atomic.

    Examples:

    \b
        rag ingest
        rag ingest guides/ notes.md
    """
    _ingest(cfg, paths, follow_symlinks)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry (JSON lines).")
def parse(path: Path, as_json: bool) -> None:
    """Show the entries a file parses into, without touching the index.

    Example:

    \b
        rag parse data/corpus/amazon-icml-2024.txt --json | head -3
    """
    from ingest.load import load_entries

    fields = ("id", "kind", "title", "authors", "area", "country", "region", "city", "text")
    for entry in load_entries([path]):
        data = entry.as_json()
        if as_json:
            click.echo(json.dumps({k: data[k] for k in fields} | {"caption": data["caption"]}, ensure_ascii=False))
        else:
            click.echo(f"{entry.id}\t{entry.kind}\t{entry.label}")


def _parse_filters(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    from assistant.filters import parse_filters

    try:
        return parse_filters(value)
    except RagError as exc:  # a usage error at parse time, like any other bad flag
        raise click.BadParameter(str(exc)) from None


def _filters_option(func: Callable) -> Callable:
    return click.option(
        "--filter",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        callback=_parse_filters,
        help="Restrict to kind, area, city, country or guide (repeatable).",
    )(func)


def _print_answer(answer: Any) -> None:
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            ids = c.ids[0] + (f" (+{len(c.ids) - 1} with the same text)" if len(c.ids) > 1 else "")
            click.echo(f"  [{c.n}] {c.label} — {ids}")
            for _, _, sentence in c.support:  # what in the source supports the answer, chosen by the check
                click.echo(f"      “{sentence}”")
    if answer.unsupported_citations:
        click.echo(
            f"\n(removed citations whose source does not support the sentence: {answer.unsupported_citations})",
            err=True,
        )
    if answer.invalid_citations:
        click.echo(
            f"\n(removed citations to sources that were not in the context: {answer.invalid_citations})", err=True
        )


@cli.command()
@common_options
@_filters_option
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print {answer, citations, retrieved, model, timings}.")
def ask(cfg: Config, question: str, filters: dict[str, str], as_json: bool) -> None:
    """Answer one question from the index, with verified [n] citations.

    Examples:

    \b
        rag ask "What does EMC2 propose for contrastive learning?"
        rag ask "Which papers did Aaron Roth co-author?" --json
        rag ask "What does the team work on?" --filter city=Madrid
    """
    from assistant.answer import Assistant, check_question

    question = check_question(cfg, question)
    assistant = Assistant(cfg, notify=lambda message: click.echo(message, err=True))
    startup = time.perf_counter() - STARTED  # from this module's import to the start of retrieval
    # The verified text is printed, not the raw stream, so removed citations never show.
    answer = assistant.ask(question, filters=filters)
    if as_json:
        data = answer.as_json()
        data["timings"] |= {"startup_s": round(startup, 3), **assistant.prompt_tokens(answer)}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_answer(answer)


@cli.command()
@common_options
@_filters_option
def chat(cfg: Config, filters: tuple[str, ...]) -> None:
    """Chat in the terminal; follow-up questions use the conversation.

    Type a question and press Enter; an empty line or Ctrl-D quits.

    Example:

    \b
        rag chat --filter kind=paper
    """
    from assistant.answer import Assistant
    from assistant.chat import ChatSession

    assistant = Assistant(cfg)
    _warm_up(assistant)
    session = ChatSession(assistant)
    click.echo(f"Asking {cfg.model} at {cfg.shown_endpoint}. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = click.prompt("\nYou", default="", show_default=False)
        except (EOFError, click.Abort):
            return
        if not question.strip():
            return
        try:
            answer = session.ask(question, filters=filters)
        except RagError as exc:
            click.echo(f"Error: {exc}", err=True)
            continue
        if answer.search_question != answer.question:
            click.echo(f"(searched for: {answer.search_question})")
        _print_answer(answer)


@cli.command()
@common_options
@click.option("--no-ingest", is_flag=True, help="Only install the model; do not build the index.")
def setup(cfg: Config, no_ingest: bool) -> None:
    """Prepare the embedded defaults: local model, index of the bundled corpus, model server.

    Safe to run again: each step is skipped when already done (an existing index is kept;
    use `rag ingest` to change what is indexed).

    Example:

    \b
        rag setup
    """
    _prepare(cfg, ingest=not no_ingest)


def _prepare(cfg: Config, ingest: bool) -> None:
    """The embedded defaults, each step skipped when done: model file, index, model server."""
    from ingest.store import current_version
    from rag.runtime.model import SIZE, fetch_model, is_installed, model_path
    from rag.runtime.server import ensure_server

    if cfg.uses_local_server:
        if is_installed(cfg):
            click.echo(f"Model ready: {model_path(cfg)}")
        else:
            with _progress(SIZE, "Model", "B", scale=True) as bar:
                fetch_model(cfg, progress=bar.update)
            click.echo(f"Model installed and verified: {model_path(cfg)}")
    if ingest:
        try:
            version = current_version(cfg)  # an existing index, maybe of the user's own files, is kept
            click.echo(f"Index ready: '{cfg.collection}' with {version.entries} entries")
        except RagError:
            _ingest(cfg, ())
    click.echo(f"Model server ready at {ensure_server(cfg)}")
    if ingest:
        from assistant.answer import Assistant

        _warm_up(Assistant(cfg))


def _warm_up(assistant: Assistant) -> None:
    """Give the model server the prompt prefix now (the whole corpus in the corpus mode), not at the
    first question: restored from disk when saved, else read once and saved."""
    started = time.perf_counter()
    what = "the corpus" if assistant.corpus_context() else "the system prompt"
    done = assistant.warm_up()
    click.echo(f"Model server has {what} ({done}, {time.perf_counter() - started:.1f} s)")


@cli.group()
def server() -> None:
    """Start, stop or check the local model server.

    Example:

    \b
        rag server status
    """


@server.command("start")
@common_options
def server_start(cfg: Config) -> None:
    """Start the local model server (reused if already running).

    Example:

    \b
        rag server start
    """
    from rag.runtime.server import ensure_server

    click.echo(f"Model server ready at {ensure_server(cfg)}")
    try:
        from assistant.answer import Assistant

        _warm_up(Assistant(cfg))
    except RagError as exc:  # no index yet: the first question reads its prefix
        click.echo(f"Prefix not prepared: {exc}", err=True)


@server.command("stop")
@common_options
def server_stop(cfg: Config) -> None:
    """Stop the local model server this data directory started.

    Example:

    \b
        rag server stop
    """
    from rag.runtime.server import stop_server

    click.echo("Stopped." if stop_server(cfg) else "No server was running.")


@server.command("status")
@common_options
def server_status(cfg: Config) -> None:
    """Say whether the endpoint answers, and how the local server ended if it crashed (exit 1 unless up).

    Example:

    \b
        rag server status
    """
    from rag.runtime.server import server_state

    state = server_state(cfg)
    if not state.startswith("Up"):
        raise RagError(state)
    click.echo(state)


@cli.command()
@common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; 0.0.0.0 exposes it.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--auth", multiple=True, metavar="USER:PASS", help="A login (repeatable); needed off loopback.")
@click.option(
    "--auth-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RAG_UI_AUTH",
    help="A file of USER:PASS lines [env RAG_UI_AUTH].",
)
@click.option("--no-auth", is_flag=True, help="Serve a non-loopback address without a login (not recommended).")
def ui(cfg: Config, host: str, port: int, auth: tuple[str, ...], auth_file: Path | None, no_auth: bool) -> None:
    """Start the Gradio chat (model server and index are prepared first if needed).

    On an address other than loopback the chat asks for a login (--auth or RAG_UI_AUTH);
    --no-auth serves it open, with a warning.

    Examples:

    \b
        rag ui --port 7860
        rag ui --host 0.0.0.0 --auth alice:s3cret
    """
    from ui.app import is_loopback, launch, login_pairs

    logins = login_pairs(auth, auth_file)
    if not logins and not is_loopback(host):
        if not no_auth:
            raise RagError(
                f"Refusing to serve the chat on {host} without a login: give --auth USER:PASS "
                "(or RAG_UI_AUTH=FILE), or --no-auth to serve it open"
            )
        click.echo(f"Warning: the chat on {host} has no login; anyone who reaches it can use it.", err=True)
    _prepare(cfg, ingest=True)
    launch(cfg, host, port, auth=logins)


exam_file_option = click.option(
    "--exam", "exam_file", type=click.Path(path_type=Path), help="Exam JSONL file [default: the gold exam]."
)
report_option = click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md and a per-kind accuracy chart into this folder.",
)


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
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the full results (metrics, config, items) to this file.",
)
def exam(
    ctx: click.Context,
    cfg: Config,
    exam_file: Path | None,
    mode: str,
    prompts: tuple[str, ...],
    scoring: str,
    aggregate: str,
    compare: bool,
    limit: int | None,
    report_dir: Path | None,
    json_out: Path | None,
) -> None:
    """Score the assistant on a multiple-choice exam (accuracy, hit@5, MRR, citations, latency).

    Examples:

    \b
        rag exam --limit 10
        rag exam --mode oracle --json results.json
        rag exam --mode chat --report report/
        rag exam --all-configs --report report/
        rag exam --prompt exam --prompt exam_loose
        rag exam generate --per-entry 2 --out candidates.jsonl
    """
    if _subcommand(ctx):
        return
    from eval.exam import ExamRun
    from eval.runs import comparison_runs, exam

    if compare:
        runs = comparison_runs(scoring, aggregate)
    else:
        runs = [ExamRun(mode, cfg.retriever, p, scoring, aggregate) for p in (prompts or ("exam",))]
    progress = lambda total, label: _progress(total, label, "q")  # noqa: E731
    _print(exam(cfg, exam_file, runs, limit, report_dir, json_out, progress_bar=progress))


def _subcommand(ctx: click.Context) -> bool:
    """Whether a group's subcommand runs; the group's own options given before it are a usage error,
    since `rag exam --mode chat generate …` would silently drop --mode."""
    if ctx.invoked_subcommand is None:
        return False
    given = [p.opts[0] for p in ctx.command.params if ctx.get_parameter_source(p.name) != ParameterSource.DEFAULT]
    if given:
        raise click.UsageError(
            f"{', '.join(given)} belong{'s' if len(given) == 1 else ''} to `rag {ctx.command.name}` itself, not "
            f"to `rag {ctx.command.name} {ctx.invoked_subcommand}`; give its own options after the subcommand"
        )
    return True


def _print(outcome: Any) -> None:
    for warning in outcome.warnings:
        click.echo(warning, err=True)
    for line in outcome.lines:
        click.echo(line)


@exam.command("compare-saved")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@exam_file_option
@report_option
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the runs and the item analysis to this file.",
)
def exam_compare(
    files: tuple[Path, ...], exam_file: Path | None, report_dir: Path | None, json_out: Path | None
) -> None:
    """Compare saved runs side by side (table, 2PL item analysis, report) without asking the model again.

    Each FILE is what `rag exam --json` wrote (one run, or --all-configs). Runs of one exam can be
    made at different times or on different machines. (`rag exam compare` is the same command.)

    Examples:

    \b
        rag exam --retriever dense --json dense.json
        rag exam --retriever bm25 --json bm25.json
        rag exam compare-saved dense.json bm25.json hybrid.json --report report/
    """
    from eval.runs import compare_saved

    _print(compare_saved(list(files), exam_file, report_dir, json_out))


@exam.command("redteam")
@common_options
@click.option(
    "--cases",
    "cases_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Red-team cases (JSON lines: file, text, question); default: the bundled set.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), help="Write every case here.")
def exam_redteam(cfg: Config, cases_file: Path | None, json_out: Path | None) -> None:
    """Plant instructions beside the guide and count which defence stopped each (filter, model, checks, page).

    Builds its own temporary index; asks each case twice (as shipped, and with the filter off).

    Example:

    \b
        rag exam redteam --json redteam.json
    """
    from eval.redteam import CASES_FILE, load_cases, run, summary_lines, write_json

    cases = load_cases(cases_file or CASES_FILE)
    with _progress(len(cases), "Red team", "case") as bar:
        results = run(cfg, cases, progress=bar.update)
    for line in summary_lines(results):
        click.echo(line)
    if json_out:
        write_json(results, json_out)


_compare_alias = copy.copy(exam_compare)  # `rag exam compare` works too, out of the help listing
_compare_alias.hidden = True
exam.add_command(_compare_alias, "compare")


@exam.command("generate")
@common_options
@click.option("--per-entry", default=2, show_default=True, type=click.IntRange(1, 5), help="Questions per entry.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N entries.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Candidate exam file.")
def exam_generate(cfg: Config, per_entry: int, limit: int | None, out: Path) -> None:
    """Draft candidate questions from each indexed entry, filtered, for a person to review.

    Filters: ends with "?", four distinct options, the answer is supported by the entry,
    the question names what it asks about, no near-duplicates. Never merged into the gold exam.

    Example:

    \b
        rag exam generate --per-entry 2 --limit 10 --out eval/exams/candidates.jsonl
    """
    from assistant.answer import Assistant
    from eval.generate import generate_exam, rejected_path
    from ingest.store import current_version

    total = limit or current_version(cfg).entries
    with _progress(total, "Generating", "entry") as bar:
        counts = generate_exam(Assistant(cfg), per_entry, out, limit, progress=bar.update)
    rejected = ", ".join(f"{reason}: {n}" for reason, n in counts.items() if reason != "kept") or "none"
    click.echo(
        f"Kept {counts['kept']} questions in {out}; rejected {rejected} (see {rejected_path(out)}). "
        "Review them before use."
    )


@cli.group(invoke_without_command=True)
@click.pass_context
@common_options
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]),
    help="Only votes cast at or after this time (UTC).",
)
@click.option("--json", "as_json", is_flag=True, help="The summary and every vote as one JSON object.")
def feedback(ctx: click.Context, cfg: Config, since: datetime | None, as_json: bool) -> None:
    """The chat's 👍/👎 votes: share of 👍 overall and by kind of question, then each vote.

    Votes live in the data directory (feedback.jsonl), appended as they are cast.

    Examples:

    \b
        rag feedback --since 2026-12-01
        rag feedback export --out eval/exams/feedback-candidates.jsonl
    """
    if _subcommand(ctx):
        return
    from eval.feedback import feedback_path, read_votes, summary, summary_lines

    votes, warnings = read_votes(feedback_path(cfg), since.replace(tzinfo=UTC) if since else None)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        click.echo(
            json.dumps(summary(votes) | {"items": [v.model_dump(mode="json") for v in votes]}, ensure_ascii=False)
        )
    else:
        click.echo("\n".join(summary_lines(votes)))


@feedback.command("export")
@common_options
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Candidate exam file.")
def feedback_export(cfg: Config, out: Path) -> None:
    """Exam candidates from the votes, 👎 first, for a person to review (never merged into an exam).

    Each keeps the question as condensed with its conversation, the cited entries as `sources`, and
    four options the model drafts from those entries, filtered like `rag exam generate`.

    Example:

    \b
        rag feedback export --out feedback-candidates.jsonl
    """
    from assistant.answer import Assistant
    from eval.feedback import export_candidates, feedback_path, read_votes
    from eval.generate import rejected_path

    votes, warnings = read_votes(feedback_path(cfg))
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not votes:
        raise RagError(f"No votes in {feedback_path(cfg)} yet; vote with 👍/👎 in `rag ui` first")
    with _progress(len(votes), "Drafting", "vote") as bar:
        counts = export_candidates(Assistant(cfg), votes, out, progress=bar.update)
    rejected = ", ".join(f"{reason}: {n}" for reason, n in counts.items() if reason != "kept") or "none"
    click.echo(
        f"Wrote {counts['kept']} candidates to {out}; rejected {rejected} (see {rejected_path(out)}). "
        "Review them before adding any to an exam."
    )


def _sizes(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        sizes = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter("give sizes as comma-separated whole numbers, e.g. 1000,10000") from None
    if any(s < 10 for s in sizes):
        raise click.BadParameter("each size must be at least 10 entries")
    return sizes


def _counts(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip() and int(v) > 0]
    except ValueError:
        raise click.BadParameter("give counts as comma-separated whole numbers, e.g. 1,4,8") from None


@cli.command()
@common_options
@click.option(
    "--sizes",
    default="1000,10000",
    show_default=True,
    callback=_sizes,
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
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the figures here [default <data dir>/results/bench-<time>.json].",
)
@click.option(
    "--users",
    default="1,4,8",
    show_default=True,
    callback=_counts,
    help="Crowd sizes: that many chat users ask `rag ui` at once (gradio_client); 0 skips the crowds.",
)
def bench(cfg: Config, sizes: list[int], questions: int, answers: int, json_out: Path | None, users: list[int]) -> None:
    """Measure ingest, retrieval, model and end-to-end speed, and memory; prints figures, never fails on speed.

    Examples:

    \b
        rag bench
        rag bench --sizes 1000,10000,100000 --answers 10
    """
    from eval.bench import bench_table, run_bench

    result = run_bench(
        cfg,
        sizes,
        questions,
        answers,
        log=lambda m: click.echo(m, err=True),
        progress_bar=lambda total, label: _progress(total, label, "entry"),
        users=tuple(users),
    )
    click.echo(bench_table(result))
    out = json_out or cfg.data_dir / "results" / f"bench-{result['timestamp'].replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    click.echo(f"Wrote {out}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
