"""What the local llama.cpp server spent on a request, read from its own log.

The OpenAI-compatible API of llama-cpp-python reports neither the tokens it served from its prompt
cache nor how fast it read the prompt; its log says both for every request:

    Llama.generate: 52 prefix-match hit, remaining 522 prompt tokens to eval
    llama_perf_context_print: prompt eval time =  3856.57 ms /   522 tokens (...)
    llama_perf_context_print:        eval time =  9865.25 ms /   196 runs   (...)

The lines are written before the last streamed chunk, so they are complete when the reply is. One
process sends one request at a time (`assistant.llm.model_slot`); a second process using the same
server at the same moment can mix its lines in, so the figures are exact only for a server used by
one process at a time (as in `rag bench`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from assistant.server import endpoint_key, log_file
from rag.config import Config

PREFIX_RE = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
FULLY_CACHED = "Llama.generate: full prompt already cached"
PROMPT_EVAL_RE = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
EVAL_RE = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")


@dataclass(frozen=True)
class ServerUsage:
    """One request as the server's log tells it."""

    cached_tokens: int  # prompt tokens reused from the server's KV cache
    evaluated_tokens: int  # prompt tokens the server had to read
    prompt_eval_s: float
    generated_tokens: int
    generate_eval_s: float

    @property
    def prompt_tokens(self) -> int:
        return self.cached_tokens + self.evaluated_tokens

    @property
    def prompt_rate(self) -> float | None:
        return reading_rate(self.evaluated_tokens, self.prompt_eval_s)


def reading_rate(tokens: float, seconds: float) -> float | None:
    """Prompt tokens read per second; None when (almost) nothing had to be read, or llama.cpp timed it at
    ~0 ms (as it does a new server's first prompt)."""
    return tokens / seconds if tokens > 8 and seconds > 0.01 else None


def add_usage(timings: dict[str, float], used: ServerUsage) -> None:
    """Add one request's figures to an answer's timings (an answer asked twice adds both).

    `prompt_read_s` is the first request's: the least time a first token could take, to which
    `first_token_over_prompt_read` compares the answer's own time to first token.
    """
    if "prompt_read_s" not in timings:
        timings["prompt_read_s"] = used.prompt_eval_s
        if used.prompt_eval_s > 0.01 and "first_token_s" in timings:
            timings["first_token_over_prompt_read"] = timings["first_token_s"] / used.prompt_eval_s
    for key, value in (
        ("prompt_tokens", used.prompt_tokens),
        ("cached_tokens", used.cached_tokens),
        ("evaluated_tokens", used.evaluated_tokens),
        ("prompt_eval_s", used.prompt_eval_s),
        ("completion_tokens", used.generated_tokens),
        ("completion_eval_s", used.generate_eval_s),
    ):
        timings[key] = timings.get(key, 0) + value
    if rate := reading_rate(timings["evaluated_tokens"], timings["prompt_eval_s"]):
        timings["prompt_tokens_per_s"] = rate
    if timings["completion_eval_s"]:
        timings["completion_tokens_per_s"] = timings["completion_tokens"] / timings["completion_eval_s"]


@contextmanager
def server_usage(cfg: Config) -> Iterator[list[ServerUsage]]:
    """The requests the local server finishes during the block, read from its log when the block ends
    (always empty for another endpoint)."""
    found: list[ServerUsage] = []
    log = log_file(cfg) if cfg.uses_local_server else None
    offset = log_offset(log) if log else 0
    yield found
    if log:
        found.extend(usage_since(log, offset))


def log_offset(log: Path) -> int:
    try:
        return log.stat().st_size
    except OSError:
        return 0


def usage_since(log: Path, offset: int) -> list[ServerUsage]:
    """Every request the server finished after byte `offset` of its log, oldest first."""
    try:
        with open(log, "rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    found: list[ServerUsage] = []
    cached = 0
    prompt: tuple[float, int] | None = None
    for line in text.splitlines():
        if match := PREFIX_RE.search(line):
            cached = int(match.group(1))
        elif FULLY_CACHED in line:
            cached = -1  # the whole prompt: known once the eval line gives the count
        elif match := PROMPT_EVAL_RE.search(line):
            prompt = (float(match.group(1)) / 1000, int(match.group(2)))
        elif (match := EVAL_RE.search(line)) and prompt is not None:
            seconds, evaluated = prompt
            found.append(
                ServerUsage(
                    cached_tokens=max(cached, 0),
                    evaluated_tokens=0 if cached < 0 else evaluated,
                    prompt_eval_s=seconds,
                    generated_tokens=int(match.group(2)),
                    generate_eval_s=float(match.group(1)) / 1000,
                )
            )
            cached, prompt = 0, None
    return found


def prompt_split(cfg: Config, system: str, context: str, question: str) -> dict[str, int]:
    """Prompt tokens by part, counted by the local server's own tokenizer (empty for other endpoints)."""
    if not cfg.uses_local_server:
        return {}
    counts = {
        name: count_tokens(cfg, text)
        for name, text in (("system", system), ("context", context), ("question", question))
    }
    return {f"{name}_tokens": n for name, n in counts.items() if n is not None}


def count_tokens(cfg: Config, text: str) -> int | None:
    """llama-cpp-python's `/extras/tokenize/count`; None when the server cannot say."""
    url = cfg.endpoint.removesuffix("/v1") + "/extras/tokenize/count"
    try:
        reply = httpx.post(
            url, json={"input": text}, headers={"Authorization": f"Bearer {endpoint_key(cfg)}"}, timeout=10
        )
        reply.raise_for_status()
        return int(reply.json()["count"])
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        return None
