"""The `rag` command: one click group, thin commands that build the Config and call a library function."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from rag.config import Config, load_config
from rag.errors import RagError


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
    @click.option(
        "--retriever", type=click.Choice(["hybrid", "bm25", "dense"]), help="Retrieval mode [default hybrid]."
    )
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


def _ingest(cfg: Config, paths: tuple[Path, ...]) -> None:
    from ingest.load import load_entries
    from ingest.store import ingest_entries

    entries = load_entries(paths or cfg.corpus)
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
def ingest(cfg: Config, paths: tuple[Path, ...]) -> None:
    """Index guides and text/Markdown files (default: the bundled ICML 2024 guide).

    The index becomes exactly these files' entries: unchanged entries keep their
    vectors, removed ones are deleted, and the switch to the new version is atomic.

    Examples:

    \b
        rag ingest
        rag ingest guides/ notes.md
    """
    _ingest(cfg, paths)


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


def _filters_option(func: Callable) -> Callable:
    return click.option(
        "--filter",
        "filters",
        multiple=True,
        metavar="KEY=VALUE",
        help="Restrict to kind, area, city, country or guide (repeatable).",
    )(func)


def _print_answer(answer: Any) -> None:
    click.echo(answer.answer)
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            ids = c.ids[0] + (f" (+{len(c.ids) - 1} with the same text)" if len(c.ids) > 1 else "")
            click.echo(f"  [{c.n}] {c.label} — {ids}")
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
def ask(cfg: Config, question: str, filters: tuple[str, ...], as_json: bool) -> None:
    """Answer one question from the index, with verified [n] citations.

    Examples:

    \b
        rag ask "What does EMC2 propose for contrastive learning?"
        rag ask "Which papers did Aaron Roth co-author?" --json
        rag ask "What does the team work on?" --filter city=Madrid
    """
    from assistant.answer import Assistant, check_question
    from assistant.retrieve import parse_filters

    question = check_question(cfg, question)
    parsed = parse_filters(filters)
    assistant = Assistant(cfg)
    if as_json:
        click.echo(json.dumps(assistant.ask(question, filters=parsed).as_json(), indent=2, ensure_ascii=False))
        return
    result = None
    for item in assistant.stream(question, filters=parsed):
        if isinstance(item, str):
            continue  # print the verified text, not the raw stream, so removed citations never show
        result = item
    _print_answer(result)


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
    from assistant.retrieve import parse_filters

    parsed = parse_filters(filters)
    session = ChatSession(Assistant(cfg))
    click.echo(f"Asking {cfg.model} at {cfg.endpoint}. Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = click.prompt("\nYou", default="", show_default=False)
        except (EOFError, click.Abort):
            return
        if not question.strip():
            return
        try:
            answer = session.ask(question, filters=parsed)
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

    Safe to run again: each step is skipped when already done.

    Example:

    \b
        rag setup
    """
    from assistant.local_model import SIZE, fetch_model, is_installed, model_path
    from assistant.server import ensure_server

    if cfg.uses_local_server:
        if is_installed(cfg):
            click.echo(f"Model ready: {model_path(cfg)}")
        else:
            with _progress(SIZE, "Model", "B", scale=True) as bar:
                fetch_model(cfg, progress=bar.update)
            click.echo(f"Model installed and verified: {model_path(cfg)}")
    if not no_ingest:
        _ingest(cfg, ())
    endpoint = ensure_server(cfg)
    click.echo(f"Model server ready at {endpoint}")


@cli.group()
def server() -> None:
    """Start, stop or check the local model server."""


@server.command("start")
@common_options
def server_start(cfg: Config) -> None:
    """Start the local model server (reused if already running).

    Example:

    \b
        rag server start
    """
    from assistant.server import ensure_server

    click.echo(f"Model server ready at {ensure_server(cfg)}")


@server.command("stop")
@common_options
def server_stop(cfg: Config) -> None:
    """Stop the local model server this data directory started.

    Example:

    \b
        rag server stop
    """
    from assistant.server import stop_server

    click.echo("Stopped." if stop_server(cfg) else "No server was running.")


@server.command("status")
@common_options
def server_status(cfg: Config) -> None:
    """Say whether the endpoint answers.

    Example:

    \b
        rag server status
    """
    from assistant.server import is_healthy

    if not is_healthy(cfg):
        raise RagError(f"No model server answers at {cfg.endpoint}")
    click.echo(f"Up: {cfg.endpoint} ({cfg.model})")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
