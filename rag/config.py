"""The one configuration object: defaults, then a TOML file, then environment, then flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rag.errors import RagError

# Shipped inside the package (see pyproject.toml), so a checkout and an installed wheel find them alike.
PROMPTS_DIR = Path(str(resources.files("rag.prompts")))
BUNDLED_CORPUS = Path(str(resources.files("rag.corpus"))) / "amazon-icml-2024.txt"
LOCAL_MODEL_NAME = "qwen2.5-coder-1.5b-instruct"


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "rag"


def _default_model_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag" / "models"


RETRIEVERS = ("hybrid", "bm25", "dense")
# What the model reads: the retrieved entries, or the whole corpus as one fixed, cached prefix.
CONTEXT_MODES = ("retrieved", "corpus")


@dataclass(frozen=True)
class Config:
    """Every setting the pipeline reads. Build once, pass down, never mutate."""

    data_dir: Path = field(default_factory=_default_data_dir)
    collection: str = "guides"
    corpus: tuple[Path, ...] = (BUNDLED_CORPUS,)
    prompts_dir: Path = PROMPTS_DIR
    # The chat's prompt file in prompts_dir; variants are compared with `rag exam --mode chat --prompt NAME`.
    answer_prompt: str = "answer"

    # Chroma: embedded by default; a host switches to a Chroma server.
    chroma_host: str | None = None
    chroma_port: int = 8000
    # How long to wait for another process that holds the embedded Chroma database locked.
    lock_timeout: float = 10.0

    # LLM endpoint: unset base_url means "start the bundled local model server".
    base_url: str | None = field(default=None, repr=False)  # may carry credentials; shown as shown_endpoint
    api_key: str = field(default="not-needed", repr=False)  # never printed
    model: str = LOCAL_MODEL_NAME
    llm_timeout: float = 120.0
    # Model calls running at once in one process, whoever asks (chat page, its API, exams): as many
    # as the local server has slots; the rest wait in line.
    model_calls: int = 2
    max_tokens: int = 320
    temperature: float = 0.0

    # Local model server (only used when base_url is unset).
    model_dir: Path = field(default_factory=_default_model_dir)
    server_host: str = "127.0.0.1"
    server_port: int = 8765
    server_ctx: int = 8192  # holds the bundled guide whole, for the corpus context mode
    server_threads: int = 2
    # Slots answering at once, each with a window of server_ctx tokens; each keeps the corpus prefix.
    server_parallel: int = 2
    server_start_timeout: float = 120.0

    # Retrieval and context.
    retriever: str = "hybrid"  # one of RETRIEVERS
    top_k: int = 6
    # Equal weights: the gold entry ranks first on 0.95 of the exam's questions (0.93 with 0.7
    # dense), and 10 of 12 paraphrased questions still find their entry, as with 0.7.
    dense_weight: float = 0.5
    max_context_entries: int = 24
    context_chars: int = 6000
    # "corpus": every entry in every prompt, a prefix the server reads once (cache-augmented
    # generation), then what retrieval found for the question; while the corpus fits in
    # corpus_context_chars and the local server's window, else retrieval. On the gold exam it answers
    # better than retrieval (open answers one item, multiple choice four) and the first token comes
    # ~3.7× sooner (eval/README.md).
    context_mode: str = "corpus"  # one of CONTEXT_MODES
    corpus_context_chars: int = 40000
    # In the corpus mode, after the prefix: how many of the best matches the prompt names (0: all
    # retrieval put in context) and how much of the best one's sentences about the question it repeats.
    # Every token here is read anew per question; 2 and 400 scored best on both exams at ~130 tokens
    # (eval/README.md).
    focus_sources: int = 2
    focus_chars: int = 400
    # A corpus larger than the window (or the "retrieved" mode): the sentences and whole code blocks of
    # the retrieved sources closest to the question, within this many characters, are what the model
    # reads (assistant/excerpts.py); 0 gives it the retrieved passages whole, up to context_chars.
    excerpt_chars: int = 1000
    # After an abstention the second ask did not mend, quote the document passage the model judges to
    # state the answer (assistant/quote.py). Off by default: on the blind Click exam it mended 1 of 4
    # answers it changed and showed 3 passages that did not answer (eval/README.md).
    quote_passages: bool = False
    max_question_chars: int = 2000
    # Rules of the answer path switched off, by name, comma-separated: for ablation runs of `rag exam`
    # (`rag.assistant.answer.SWITCHABLE_RULES`: `rag.assistant.aggregates.RULES`, the verifier's
    # `rag.assistant.citations.RULES` and the question-reading rules).
    disabled_rules: str = ""

    @property
    def uses_local_server(self) -> bool:
        return self.base_url is None

    @property
    def endpoint(self) -> str:
        return self.base_url or f"http://{self.server_host}:{self.server_port}/v1"

    @property
    def shown_endpoint(self) -> str:
        """The endpoint as messages, pages and result files show it: no `user:pass@`, no query string."""
        parts = urlsplit(self.endpoint)
        host = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))

    @property
    def disabled(self) -> frozenset[str]:
        return frozenset(r.strip() for r in self.disabled_rules.split(",") if r.strip())

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


# RAG_* variables map onto fields of the same name; the OpenAI and Chroma ones keep
# their ecosystem names so that existing setups work unchanged.
_ENV_ALIASES = {
    "OPENAI_BASE_URL": "base_url",
    "OPENAI_API_KEY": "api_key",
    "CHROMA_HOST": "chroma_host",
    "CHROMA_PORT": "chroma_port",
    "OPENAI_MODEL": "model",
}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a string or TOML value into the type the field declares."""
    kind = {f.name: f.type for f in dataclasses.fields(Config)}[name]
    try:
        if kind in ("int",):
            return int(raw)
        if kind in ("float",):
            return float(raw)
        if kind in ("bool",):
            if isinstance(raw, bool):
                return raw
            return {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}[str(raw).lower()]
        if kind in ("Path",):
            return Path(raw).expanduser()
        if kind.startswith("tuple[Path"):
            items = raw if isinstance(raw, list) else str(raw).split(os.pathsep)
            return tuple(Path(p).expanduser() for p in items if p)
        if kind.startswith("str | None"):
            return str(raw) or None
        return str(raw)
    except (TypeError, ValueError, KeyError) as exc:
        raise RagError(f"Setting {name}={raw!r} is not a valid {kind}") from exc


def load_config(
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Config:
    """Build the Config: defaults < config file < environment < explicit overrides."""
    env = dict(os.environ) if env is None else env
    names = {f.name for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}

    if config_file is not None:
        try:
            table = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise RagError(f"Cannot read config file {config_file}: {exc}") from exc
        table = table.get("rag", table)
        unknown = set(table) - names
        if unknown:
            raise RagError(f"Unknown setting(s) in {config_file}: {', '.join(sorted(unknown))}")
        values.update({k: _coerce(k, v) for k, v in table.items()})

    # Ecosystem names first, so that an explicit RAG_* variable wins over them.
    from_env = [(_ENV_ALIASES[v], raw) for v, raw in env.items() if v in _ENV_ALIASES]
    from_env += [(v[4:].lower(), raw) for v, raw in env.items() if v.startswith("RAG_")]
    for name, raw in from_env:
        if name in names and raw != "":
            values[name] = _coerce(name, raw)

    values.update({k: v for k, v in overrides.items() if v is not None})
    return Config(**values)
