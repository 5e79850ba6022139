"""The embedded defaults a first run needs, each step skipped when already done: the model file, the
index of the bundled corpus, the model server and the prompt prefix it keeps. `rag setup`, `rag ui`,
`rag chat`, `rag server start` and `rag ingest` run these steps and say what each did."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import Config
from rag.console import progress_bar, say, warn
from rag.errors import RagError
from rag.outcome import ProgressBar, Say

if TYPE_CHECKING:  # the answering and indexing code load only for the steps that use them
    from rag.assistant.answer import Assistant
    from rag.ingest.store import IngestReport


def index_files(
    cfg: Config,
    paths: tuple[Path, ...] = (),
    follow_symlinks: bool = False,
    say: Say = say,
    warn: Say = warn,
    progress_bar: ProgressBar = progress_bar,
) -> None:
    """Make the index exactly these files' entries (default: the configured corpus), and say what changed."""
    from rag.ingest.load import load_entries
    from rag.ingest.store import ingest_entries

    entries = load_entries(paths or cfg.corpus, follow_symlinks=follow_symlinks, warn=warn)
    with progress_bar(len(entries), "Indexing", "entry") as bar:
        report = ingest_entries(cfg, entries, progress=bar.update)
    say(index_summary(report, cfg.collection))


def index_summary(report: IngestReport, collection: str) -> str:
    if not report.changed:
        return f"Index '{collection}' is up to date: {report.entries} entries, nothing re-embedded."
    return (
        f"Indexed {report.entries} entries into '{collection}' (version {report.version}): "
        f"{report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; embedded {report.embedded} in {report.embed_seconds:.1f} s, "
        f"total {report.total_seconds:.1f} s."
    )


def steps(cfg: Config, ingest: bool = True) -> list[str]:
    """What `prepare` sees to, in its order."""
    model = ["the model file"] if cfg.uses_local_server else []
    index = ["the index (an existing one is kept)"] if ingest else []
    return [*model, *index, "the model server", *(["its prompt prefix"] if ingest else [])]


def prepare(
    cfg: Config,
    ingest: bool = True,
    server_build: str = "",
    say: Say = say,
    progress_bar: ProgressBar = progress_bar,
) -> None:
    """Each of `steps`, skipped when done; an existing index, maybe of the user's own files, is kept.
    `server_build` "native" first builds the model server for this CPU (`rag.runtime.native`), kept if it
    passes its test; "prebuilt" puts the prebuilt wheel back in its place."""
    from rag.ingest.store import current_version
    from rag.runtime.model import SIZE, fetch_model, is_installed, model_path
    from rag.runtime.server import begin_server, ensure_server, is_healthy, running_build, stop_server

    if cfg.uses_local_server:
        if is_installed(cfg):
            say(f"Model ready: {model_path(cfg)}")
        else:
            with progress_bar(SIZE, "Model", "B") as bar:
                fetch_model(cfg, progress=bar.update)
            say(f"Model installed and verified: {model_path(cfg)}")
        if server_build:
            from rag.runtime.native import build_for_this_cpu, installed_build, prebuilt_installed, use_prebuilt

            if server_build == "native":
                build_for_this_cpu(cfg, say)
            elif prebuilt_installed():
                say(f"Already installed: {installed_build()[0]}")
            else:
                use_prebuilt(cfg, say)
            if is_healthy(cfg) and running_build(cfg)[1] != installed_build()[1]:
                if stop_server(cfg):
                    say("Stopped the model server started from the previous build; starting the new one.")
                else:  # started from another data directory: not ours to stop
                    say("A model server started elsewhere still runs the previous build; restart it to use this one.")
    elif server_build:
        say(f"No local model server is used (the endpoint is {cfg.shown_endpoint}): nothing to install.")
    begin_server(cfg)  # the model loads while the index is opened (or built)
    if ingest:
        try:
            version = current_version(cfg)
            say(f"Index ready: '{cfg.collection}' with {version.entries} entries")
        except RagError:
            index_files(cfg, say=say, progress_bar=progress_bar)
    say(f"Model server ready at {ensure_server(cfg)}")
    if ingest:
        from rag.assistant.answer import Assistant

        warm_up(Assistant(cfg), say)


def warm_up(assistant: Assistant, say: Say = say) -> None:
    """Give the model server the prompt prefix now (the whole corpus in the corpus mode), not at the
    first question: restored from disk when saved, else read once and saved."""
    started = time.perf_counter()
    what = "the corpus" if assistant.corpus_context() else "the system prompt"
    done = assistant.warm_up()
    say(f"Model server has {what} ({done}, {time.perf_counter() - started:.1f} s)")


def start_server(cfg: Config, say: Say = say, warn: Say = warn) -> None:
    """The model server started or found, and given its prompt prefix when there is an index to read."""
    from rag.runtime.server import begin_server, ensure_server

    begin_server(cfg)  # the model loads while the answering code is imported
    from rag.assistant.answer import Assistant

    say(f"Model server ready at {ensure_server(cfg)}")
    try:
        warm_up(Assistant(cfg), say)
    except RagError as exc:  # no index yet: the first question reads its prefix
        warn(f"Prefix not prepared: {exc}")


def serve_chat(
    cfg: Config,
    host: str,
    port: int,
    auth: tuple[str, ...] = (),
    auth_file: Path | None = None,
    serve_open: bool = False,
    say: Say = say,
    warn: Say = warn,
) -> None:
    """`rag ui`: the logins the address calls for, then what `prepare` sees to (said first), then the page."""
    from rag.ui.app import launch
    from rag.ui.logins import chat_logins

    logins = chat_logins(host, auth, auth_file, serve_open, warn)
    names = steps(cfg)
    say(f"Preparing {', '.join(names[:-1])} and {names[-1]} (each skipped when ready), then the chat.")
    prepare(cfg, say=say)
    launch(cfg, host, port, auth=logins)
