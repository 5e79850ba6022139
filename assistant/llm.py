"""The only road to the model: the `openai` client at an OpenAI-compatible endpoint."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openai

from rag.config import Config
from rag.errors import SERVER_DOWN, RagError
from rag.runtime.server import crash_report, endpoint_key, ensure_server
from rag.runtime.usage import ServerUsage, usage_of


def make_client(cfg: Config, notify: Callable[[str], None] | None = None) -> openai.OpenAI:
    """A client for the configured endpoint, starting the local server if needed (and telling `notify`)."""
    endpoint = ensure_server(cfg, notify)
    return openai.OpenAI(base_url=endpoint, api_key=endpoint_key(cfg), timeout=cfg.llm_timeout, max_retries=0)


_SLOTS: dict[str, threading.BoundedSemaphore] = {}
_SLOTS_GUARD = threading.Lock()


@contextmanager
def model_slot(cfg: Config) -> Iterator[None]:
    """Hold one of the endpoint's `cfg.model_calls` slots: every caller in this process waits in one line."""
    with _SLOTS_GUARD:
        slot = _SLOTS.setdefault(cfg.endpoint, threading.BoundedSemaphore(max(1, cfg.model_calls)))
    if not slot.acquire(timeout=cfg.llm_timeout):
        raise RagError(f"The model at {cfg.shown_endpoint} is busy answering others; ask again in a moment")
    try:
        yield
    finally:
        slot.release()


@contextmanager
def endpoint_errors(cfg: Config) -> Iterator[None]:
    """Turn every failure of the endpoint into one RagError that says what happened."""
    try:
        yield
    except openai.APITimeoutError as exc:
        raise RagError(
            f"The model server at {cfg.shown_endpoint} did not answer within {cfg.llm_timeout:.0f} s"
        ) from exc
    except (openai.APIConnectionError, httpx.TransportError) as exc:  # the latter: a stream cut mid-answer
        raise RagError(
            _crashed(cfg) or SERVER_DOWN.format(endpoint=cfg.shown_endpoint, reason="connection failed")
        ) from exc
    except openai.APIStatusError as exc:
        raise RagError(f"The model server answered HTTP {exc.status_code}: {_status_detail(exc)}") from exc
    except (openai.APIResponseValidationError, ValueError, AttributeError, TypeError) as exc:
        raise RagError(
            f"The model server at {cfg.shown_endpoint} returned a malformed reply: {_short(str(exc))}"
        ) from exc


def _crashed(cfg: Config, wait: float = 2.0) -> str | None:
    """The local server's crash report, given its supervisor a moment to write it."""
    deadline = time.monotonic() + wait
    while cfg.uses_local_server:
        if (report := crash_report(cfg)) or time.monotonic() > deadline:
            return report
        time.sleep(0.1)
    return None


def stream_chat(
    client: openai.OpenAI,
    cfg: Config,
    messages: list[dict[str, str]],
    usage: list[ServerUsage] | None = None,
    **options: Any,
) -> Iterator[str]:
    """Yield the reply's text deltas, and add what the server says it spent to `usage`; every endpoint
    failure becomes one RagError."""
    with model_slot(cfg), endpoint_errors(cfg):
        for chunk in _create(client, cfg, messages, stream=True, **options):
            if usage is not None and (used := usage_of(chunk)):
                usage.append(used)
            if not getattr(chunk, "choices", None):
                continue
            delta = chunk.choices[0].delta
            if delta is not None and delta.content:
                yield delta.content


def chat_once(client: openai.OpenAI, cfg: Config, messages: list[dict[str, str]], **options: Any) -> Any:
    """One non-streamed completion (for log-probabilities: the exam, the quote stage)."""
    with model_slot(cfg), endpoint_errors(cfg):
        response = _create(client, cfg, messages, **options)
        if not response.choices:
            raise RagError(f"The model server at {cfg.shown_endpoint} returned no choices")
        return response.choices[0]


def letter_logprobs(choice: Any, letters: tuple[str, ...], normalise: bool = True) -> dict[str, float] | None:
    """Log-probabilities of `letters` as the reply's first token, normalised over them (a choice among
    options read as lm-eval-harness does) or as the model gave them (`normalise=False`: what it would
    rather have written counts against every letter), or None when the endpoint gives none."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content or not content[0].top_logprobs:
        return None
    scores: dict[str, float] = {}
    for top in content[0].top_logprobs:
        letter = top.token.strip().upper()
        if letter in letters and letter not in scores:
            scores[letter] = top.logprob
    # A letter outside the top list is less likely than the least likely one listed.
    floor = min(top.logprob for top in content[0].top_logprobs) - 1.0
    raw = {letter: scores.get(letter, floor) for letter in letters}
    if not normalise:
        return raw
    total = math.log(sum(math.exp(v) for v in raw.values()))
    return {letter: value - total for letter, value in raw.items()}


def read_prompt(client: openai.OpenAI, cfg: Config, prompt: str) -> ServerUsage | None:
    """Have the endpoint read `prompt` as plain text and write one token (timing how fast it reads)."""
    with model_slot(cfg), endpoint_errors(cfg):
        return usage_of(client.completions.create(model=cfg.model, prompt=prompt, max_tokens=1, temperature=0.0))


def _create(client: openai.OpenAI, cfg: Config, messages: list[dict[str, str]], **options: Any) -> Any:
    """The one chat-completions call, with the configured model, temperature and token limit."""
    options.setdefault("max_tokens", cfg.max_tokens)
    return client.chat.completions.create(model=cfg.model, messages=messages, temperature=cfg.temperature, **options)


def complete(client: openai.OpenAI, cfg: Config, messages: list[dict[str, str]], **options: Any) -> str:
    """The whole reply as one string."""
    return "".join(stream_chat(client, cfg, messages, **options))


def _status_detail(exc: openai.APIStatusError) -> str:
    """The server's own error message when its body has one, else openai's summary."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return _short(str(inner["message"]))
    return _short(exc.message)


def _short(text: str) -> str:
    line = (text or "").strip().splitlines()
    return line[0][:200] if line else "no detail"
