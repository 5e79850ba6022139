"""What the local llama.cpp server spent on a request, as its reply says.

llama.cpp's server adds `timings` to every reply (the last streamed chunk, or the whole response):
`cache_n` prompt tokens reused from its KV cache, `prompt_n` read anew in `prompt_ms`, `predicted_n`
written in `predicted_ms`. Replies from other endpoints have none, and give no usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from rag.config import Config
from rag.runtime.server import auth_headers, base_url


@dataclass(frozen=True)
class ServerUsage:
    """One request as the server's reply tells it."""

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


def usage_of(reply: Any) -> ServerUsage | None:
    """The `timings` of one reply (an openai response or chunk, or a plain dict); None when it has none."""
    timings = reply.get("timings") if isinstance(reply, dict) else getattr(reply, "timings", None)
    if not isinstance(timings, dict) or "prompt_n" not in timings:
        return None
    return ServerUsage(
        cached_tokens=int(timings.get("cache_n", 0)),
        evaluated_tokens=int(timings["prompt_n"]),
        prompt_eval_s=float(timings.get("prompt_ms", 0.0)) / 1000,
        generated_tokens=int(timings.get("predicted_n", 0)),
        generate_eval_s=float(timings.get("predicted_ms", 0.0)) / 1000,
    )


def reading_rate(tokens: float, seconds: float) -> float | None:
    """Prompt tokens read per second; None when (almost) nothing had to be read."""
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
    """llama.cpp's `/tokenize`; None when the server cannot say."""
    try:
        reply = httpx.post(f"{base_url(cfg)}/tokenize", json={"content": text}, headers=auth_headers(cfg), timeout=10)
        reply.raise_for_status()
        return len(reply.json()["tokens"])
    except (httpx.HTTPError, KeyError, TypeError, ValueError):
        return None
