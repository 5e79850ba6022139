"""The flags several `rag` commands share, and how they parse: the settings that build the Config,
`--filter`, `--exam`, `--report`, `--out FILE` (also taken as a hidden `--json FILE`); examples at the
end of a help text, library parsers as flag callbacks, and group options kept apart from subcommands."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from rag.config import RETRIEVERS, load_config
from rag.errors import RagError

FILE = click.Path(dir_okay=False, path_type=Path)
CONFIG_FLAGS = ("data_dir", "collection", "top_k", "model", "retriever")


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
    def wrapper(*args: Any, config_file: Path | None, **kwargs: Any) -> Any:
        overrides = {flag: kwargs.pop(flag) for flag in CONFIG_FLAGS}
        return func(*args, cfg=load_config(config_file, **overrides), **kwargs)

    return wrapper


def examples(*commands: str) -> Callable[[Callable], Callable]:
    """End a command's help with example command lines, kept as written."""

    def add(func: Callable) -> Callable:
        heading = "Example:" if len(commands) == 1 else "Examples:"
        lines = "\n".join(f"    {command}" for command in commands)
        func.__doc__ = f"{inspect.cleandoc(func.__doc__ or '')}\n\n{heading}\n\n\b\n{lines}"
        return func

    return add


def usage_checked(parse: Callable[[Any], Any]) -> Callable:
    """A flag's callback from a library parser: what the parser rejects is a usage error, like any bad flag."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            return parse(value)
        except RagError as exc:
            raise click.BadParameter(str(exc)) from None

    return callback


def _filters(pairs: tuple[str, ...]) -> dict[str, str]:
    from rag.assistant.filters import parse_filters  # with the kind names, loaded only by commands taking --filter

    return parse_filters(pairs)


filters_option = click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    callback=usage_checked(_filters),
    help="Restrict to kind, area, city, country or guide (repeatable).",
)


def out_option(help: str) -> Callable[[Callable], Callable]:
    """`--out FILE`, also taken as `--json FILE` (which scripts use) but left out of the help: wherever the
    help shows `--json`, it is a flag that prints JSON to standard output."""

    def decorate(func: Callable) -> Callable:
        @click.option("--out", type=FILE, help=help)
        @click.option("--json", "json_file", type=FILE, hidden=True)
        @functools.wraps(func)
        def wrapper(*args: Any, out: Path | None, json_file: Path | None, **kwargs: Any) -> Any:
            if out and json_file:
                raise click.UsageError("--out FILE and --json FILE name the same file; give one of them")
            return func(*args, out=out or json_file, **kwargs)

        return wrapper

    return decorate


def runs_subcommand(ctx: click.Context) -> bool:
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


exam_file_option = click.option(
    "--exam", "exam_file", type=click.Path(path_type=Path), help="Exam JSONL file [default: the gold exam]."
)
report_option = click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md and a per-kind accuracy chart into this folder.",
)
