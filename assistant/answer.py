"""One question → retrieved context → model → verified, cited answer."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import openai

from assistant.citations import Citation, label_of, support_ratio, verify
from assistant.context import Context, build_context
from assistant.llm import make_client, stream_chat
from assistant.prompts import render, system_prompt
from assistant.retrieve import HybridRetriever, Retrieval
from rag.config import Config
from rag.errors import RagError


@dataclass
class Answer:
    """The structured result every front end (CLI, chat, UI, exam) consumes."""

    question: str
    answer: str
    citations: list[Citation]
    invalid_citations: list[int]
    unsupported_citations: list[int]
    abstained: bool
    context: Context
    retrieval: Retrieval
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    search_question: str = ""

    def retrieved(self) -> list[dict]:
        return [
            {
                "n": s.n,
                "ids": s.ids,
                "kind": s.kind,
                "label": label_of(s),
                "score": None if s.score is None else round(float(s.score), 4),
            }
            for s in self.context.sources
        ]

    def as_json(self) -> dict:
        return {
            "question": self.question,
            "search_question": self.search_question or self.question,
            "answer": self.answer,
            "citations": [c.as_json() for c in self.citations],
            "invalid_citations": self.invalid_citations,
            "unsupported_citations": self.unsupported_citations,
            "abstained": self.abstained,
            "retrieved": self.retrieved(),
            "model": self.model,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


PROMPT_WITHHELD = "I can't share my instructions; ask me about the documents."
UNSUPPORTED = "The sources do not say."
MIN_SUPPORT = 0.6
ABSTENTION = "the sources do not say"


def leaks_prompt(answer: str, system: str, span: int = 5) -> bool:
    """True when the answer repeats any `span` consecutive words of the system prompt."""

    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower().replace(ABSTENTION, " | "))

    # A format example in the prompt is meant to be imitated, so copying it is not a leak.
    prompt_words = words("\n".join(line for line in system.splitlines() if not line.startswith("Example")))
    spans = {tuple(prompt_words[i : i + span]) for i in range(len(prompt_words) - span + 1)}
    answer_words = words(answer)
    return any(tuple(answer_words[i : i + span]) in spans for i in range(len(answer_words) - span + 1))


def check_question(cfg: Config, question: str) -> str:
    """Strip and bound the question before it costs anything."""
    question = (question or "").strip()
    if not question:
        raise RagError("The question is empty")
    if len(question) > cfg.max_question_chars:
        raise RagError(f"The question is {len(question)} characters long; the limit is {cfg.max_question_chars}")
    return question


class Assistant:
    """Holds the retriever and the model client; safe to share between threads."""

    def __init__(self, cfg: Config, retriever: HybridRetriever | None = None, client: openai.OpenAI | None = None):
        self.cfg = cfg
        self.retriever = retriever or HybridRetriever(cfg)
        self._client = client

    @property
    def client(self) -> openai.OpenAI:
        if self._client is None:
            self._client = make_client(self.cfg)
        return self._client

    def stream(
        self,
        question: str,
        *,
        filters: dict[str, str] | None = None,
        k: int | None = None,
        mode: str | None = None,
        search_question: str | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text deltas as the model writes, then the verified Answer last."""
        question = check_question(self.cfg, question)
        started = time.perf_counter()
        retrieval = self.retriever.retrieve(search_question or question, k=k, filters=filters, mode=mode)
        context = build_context(retrieval, self.cfg.context_chars, self.cfg.max_context_entries)
        messages = [
            {"role": "system", "content": system_prompt(self.cfg.prompts_dir)},
            {
                "role": "user",
                "content": render(self.cfg.prompts_dir, "answer", context=context.text(), question=question),
            },
        ]
        timings = {"retrieve_s": retrieval.seconds}
        pieces: list[str] = []
        first_token: float | None = None
        llm_started = time.perf_counter()
        for delta in stream_chat(self.client, self.cfg, messages):
            if first_token is None:
                first_token = time.perf_counter() - llm_started
            pieces.append(delta)
            yield delta
        raw = "".join(pieces).strip()
        if not raw:
            raise RagError(f"The model at {self.cfg.endpoint} returned an empty answer")
        if leaks_prompt(raw, messages[0]["content"]):
            raw = PROMPT_WITHHELD
        verified = verify(raw, context)
        if not verified.citations and not verified.abstained and support_ratio(verified.text, context) < MIN_SUPPORT:
            # Uncited and mostly made of words no source contains: not an answer from the sources.
            verified = verify(UNSUPPORTED, context)
        timings.update(
            output_chunks=len(pieces),
            first_token_s=first_token or 0.0,
            generate_s=time.perf_counter() - llm_started,
            total_s=time.perf_counter() - started,
        )
        yield Answer(
            question=question,
            answer=verified.text,
            citations=verified.citations,
            invalid_citations=verified.invalid,
            unsupported_citations=verified.unsupported,
            abstained=verified.abstained,
            context=context,
            retrieval=retrieval,
            model=self.cfg.model,
            timings=timings,
            search_question=search_question or question,
        )

    def ask(self, question: str, **options) -> Answer:
        """The whole answer at once."""
        return final_answer(self.stream(question, **options))


def final_answer(stream: Iterator[str | Answer]) -> Answer:
    """Drain a stream of text deltas and return the Answer it ends with."""
    result = None
    for item in stream:
        if isinstance(item, Answer):
            result = item
    if result is None:
        raise RagError("The answer stream ended without an answer")
    return result
