"""The passage of the sources that answers a question, chosen by the model among a few, when it wrote
no verified answer of its own.

A 1.5B model often says "The sources do not say." with the answer in its prompt, yet it chooses well
among a few options by its next-token probabilities (multiple choice). So when an abstention stands
after the second ask, the shown sources' sentences and whole code blocks closest to the question
(the embedder's cosine) become options beside "none of these", and the model's first-token
probabilities pick one. The answer is that passage quoted, with its source's number: its words are
the source's, and it goes through the same check as any answer. When "none" wins, or no option is
likely enough, the abstention stands.
"""

from __future__ import annotations

import numpy as np
import openai

from rag.assistant.citations import Verified, verify
from rag.assistant.context import Context, Source
from rag.assistant.excerpts import Part, parts_of, similarities
from rag.assistant.llm import chat_once, letter_logprobs
from rag.assistant.names import label_of
from rag.assistant.prompts import render, system_prompt
from rag.config import Config
from rag.ingest.embed import MiniLMEmbedding

QUOTE = "quote"  # its name in RAG_DISABLED_RULES
OPTIONS = 6  # passages offered; one more option says none of them
LETTERS = tuple("ABCDEFG")[: OPTIONS + 1]
NONE_OF_THESE = "None of these passages states the answer."
# The chosen passage's probability among the options (normalised over the letters) below which the
# abstention stands.
MIN_PROBABILITY = 0.5
MIN_PART_CHARS = 25  # shorter parts ("Example:", a bare heading) answer nothing on their own


def quoted_answer(
    client: openai.OpenAI,
    cfg: Config,
    question: str,
    context: Context,
    embedder: MiniLMEmbedding,
    abstain: bool,
) -> Verified | None:
    """The chosen passage quoted and verified, or None. `abstain` picks the system prompt of the ask
    before (with or without the abstain rule), so the server's cached prompt covers the sources."""
    # Only passages whose quote the check keeps are offered: the chosen one is shown as it is.
    quotes = {
        part: verify(_quoted(part, context.shown()[part.source]), context, question, cfg.disabled)
        for part in candidate_parts(question, context, embedder)[: 3 * OPTIONS]
    }
    options = [part for part, checked in quotes.items() if checked.clean and checked.citations][:OPTIONS]
    if not options:
        return None
    choices = [_one_line(part.text) for part in options] + [NONE_OF_THESE]
    listed = "\n".join(f"{letter}. {text}" for letter, text in zip(LETTERS, choices, strict=False))
    prompt = render(cfg.prompts_dir, QUOTE, context=context.text(), question=question, choices=listed)
    messages = [
        {"role": "system", "content": system_prompt(cfg.prompts_dir, abstain)},
        {"role": "user", "content": prompt},
    ]
    letters = LETTERS[: len(choices)]
    choice = chat_once(client, cfg, messages, max_tokens=1, logprobs=True, top_logprobs=20)
    scores = letter_logprobs(choice, letters)
    if not scores:
        return None
    best = max(letters, key=lambda letter: scores[letter])
    if best == letters[-1] or np.exp(scores[best]) < MIN_PROBABILITY:
        return None
    return quotes[options[letters.index(best)]]


def candidate_parts(question: str, context: Context, embedder: MiniLMEmbedding) -> list[Part]:
    """The shown sources' sentences and code blocks, closest to the question first."""
    shown = context.shown()
    parts = [
        part
        for i, source in enumerate(shown)
        for part in parts_of(i, source.passage, str(source.nodes[0].metadata.get("section", "")))
        if len(part.text.strip()) >= MIN_PART_CHARS
    ]
    if not parts:
        return []
    titles = [str(source.nodes[0].metadata.get("title", "")) for source in shown]
    scores = similarities(question, parts, titles, embedder)
    return [parts[int(k)] for k in np.argsort(-scores, kind="stable")]


def _quoted(part: Part, source: Source) -> str:
    if part.code:
        return f"{label_of(source)} [{source.n}]:\n{part.text}"
    return f"“{part.text.strip()}” [{source.n}]"


def _one_line(text: str) -> str:
    return " ".join(text.split())
