"""The passage of the sources that answers a question, chosen by the model among a few, when it wrote
no verified answer of its own.

A 1.5B model often says "The sources do not say." with the answer in its prompt, yet it chooses well
among a few options by its next-token probabilities (multiple choice). So when an abstention stands
after the second ask, the shown sources' sentences and whole code blocks closest to the question
(the embedder's cosine) become options beside "none of these", and the model's first-token
probabilities pick one. The answer is that passage quoted, with its source's number: its words are
the source's, and it goes through the same check as any answer. When "none" wins, or the model
would rather write something else than a letter, the abstention stands.
"""

from __future__ import annotations

import math
import re
import string

import numpy as np
import openai

from rag.assistant.citations import Verified, verify
from rag.assistant.context import Context, Source, neutralise
from rag.assistant.excerpts import Part, parts_of, similarities
from rag.assistant.llm import chat_once, letter_logprobs
from rag.assistant.names import label_of
from rag.assistant.prompts import render, system_prompt
from rag.assistant.schema import CHUNK
from rag.config import Config
from rag.errors import RagError
from rag.ingest.embed import MiniLMEmbedding

QUOTE = "quote"  # its name in RAG_DISABLED_RULES
OPTIONS = 6  # passages offered; one more option says none of them
NONE_OF_THESE = "None of these passages states the answer."
# The chosen letter's probability as the model's first token (not normalised over the letters, so a
# model that would rather write "The" counts against every letter) below which the abstention stands.
MIN_PROBABILITY = 0.5
# A passage this far from the question in meaning (cosine) is not offered.
MIN_SIMILARITY = 0.2
MIN_PART_CHARS = 15  # shorter parts ("Example:") answer nothing on their own
MAX_PART_CHARS = 600  # a longer part is no quote a person reads as an answer
GAP = "\n…\n"  # how an excerpt marks the sentences it left out (assistant/excerpts.py)
LIST_MARK_RE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def quoted_answer(
    client: openai.OpenAI,
    cfg: Config,
    question: str,
    asked: str,
    context: Context,
    embedder: MiniLMEmbedding,
    abstain: bool,
) -> Verified | None:
    """The chosen passage quoted and verified, or None. The prompt starts as the ask before it did
    (its system prompt, with or without the abstain rule by `abstain`, the sources and `question`), so
    the server's cached prompt covers all but the options; `asked` (the question as searched) ranks
    and checks the passages."""
    shown = context.shown()
    quotes: dict[str, tuple[Part, Verified]] = {}
    for part in candidate_parts(asked, context, embedder):
        said = " ".join(part.text.split())
        if said in quotes:  # overlapping chunks hold some sentences twice
            continue
        checked = verify(_quoted(part, shown[part.source]), context, asked, cfg.disabled)
        if checked.clean and checked.citations:  # only a quote the check keeps is offered: it is shown as it is
            quotes[said] = (part, checked)
        if len(quotes) == OPTIONS:
            break
    if not quotes:
        return None
    choices = [*quotes, NONE_OF_THESE]
    letters = tuple(string.ascii_uppercase[: len(choices)])
    listed = "\n".join(f"{letter}. {text}" for letter, text in zip(letters, choices, strict=True))
    prompt = render(cfg.prompts_dir, QUOTE, context=context.text(), question=question, choices=listed)
    messages = [
        {"role": "system", "content": system_prompt(cfg.prompts_dir, abstain)},
        {"role": "user", "content": prompt},
    ]
    try:
        choice = chat_once(client, cfg, messages, max_tokens=1, logprobs=True, top_logprobs=20)
    except RagError:  # an endpoint without log-probabilities: the abstention stands
        return None
    scores = letter_logprobs(choice, letters, normalise=False)
    if not scores:
        return None
    best = max(letters, key=lambda letter: scores[letter])
    if best == letters[-1] or math.exp(scores[best]) < MIN_PROBABILITY:
        return None
    return quotes[choices[letters.index(best)]][1]


def candidate_parts(question: str, context: Context, embedder: MiniLMEmbedding) -> list[Part]:
    """The shown sources' sentences and code blocks near the question in meaning, closest first; an
    excerpt's parts on either side of a gap stay apart, and a list item loses its bullet."""
    shown = context.shown()
    parts: list[Part] = []
    for i, source in enumerate(shown):
        heading = str(source.nodes[0].metadata.get("section", ""))
        for piece in source.passage.split(GAP):
            for part in parts_of(i, piece, heading, unwrap=source.kind == CHUNK):
                text = part.text if part.code else LIST_MARK_RE.sub("", part.text).strip()
                if MIN_PART_CHARS <= len(text) <= MAX_PART_CHARS:
                    parts.append(Part(part.source, len(parts), text, part.code))
    if not parts:
        return []
    titles = [str(source.nodes[0].metadata.get("title", "")) for source in shown]
    scores = similarities(question, parts, titles, embedder)
    return [parts[int(k)] for k in np.argsort(-scores, kind="stable") if scores[int(k)] >= MIN_SIMILARITY]


def _quoted(part: Part, source: Source) -> str:
    """A sentence in quotation marks, or a code block under its source's name, with the source's number."""
    if part.code:
        return f"{neutralise(label_of(source))} [{source.n}]:\n{part.text}"
    return f"“{part.text}” [{source.n}]"
