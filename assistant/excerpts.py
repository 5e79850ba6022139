"""In the retrieved mode, the parts of the retrieved sources that answer the question, within a budget.

When the corpus is larger than the model's window, every source the prompt holds is read anew for
each question (only the system prompt stays cached), and on a 2-core CPU each 1,000 characters cost
~6 s before the first word. So the prompt keeps, across all retrieved sources, the sentences and
whole code blocks closest in meaning to the question or to one of its clauses when it asks two
things (the embedder's cosine similarity), best first
until `budget_chars`; a source none of whose parts made it is left out, and the rest are numbered
again in retrieval order. A code block is never cut: it is kept whole or not at all, and it ranks
by itself or by the sentence that introduces it ("Use `count=True`:"), whichever is closer; so does
a sentence that points back at the one before it ("To change this, pass `invoke_without_command=True`").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.assistant.context import Context, Source, index_facts, section_body
from rag.assistant.questions import clauses
from rag.assistant.retrieve import Retrieval
from rag.assistant.schema import CHUNK, TITLE
from rag.assistant.text import REFERS_BACK_RE, sentences, unwrapped
from rag.ingest.blocks import blocks
from rag.ingest.embed import MiniLMEmbedding


@dataclass(frozen=True)
class Part:
    """A sentence, or a whole fenced code block, of one source."""

    source: int  # index into the list of sources the parts were taken from
    index: int  # position within the source
    text: str
    code: bool


def excerpt_context(retrieval: Retrieval, context: Context, embedder: MiniLMEmbedding, budget_chars: int) -> Context:
    """`context` with each document section cut to its parts that answer the question, within what
    `budget_chars` leaves after the entries kept whole; sections with no such part dropped, the rest
    numbered again (and the index facts with them).

    Entries of a guide (papers, postings, an overview) are short and carry the metadata code answers
    from ("Authors: …"), so they stay whole; only document sections ("chunk") are cut.
    """
    if context.fixed or not context.sources:
        return context
    cut = [i for i, source in enumerate(context.sources) if source.kind == CHUNK]
    parts = [part for i in cut for part in _parts(i, context.sources[i])]
    if not parts:
        return context
    whole = sum(len(s.passage) for i, s in enumerate(context.sources) if i not in cut)
    titles = [str(source.nodes[0].metadata.get(TITLE, "")) for source in context.sources]
    scores = similarities(retrieval.question, parts, titles, embedder)
    chosen: set[Part] = set()
    used = whole
    for k in np.argsort(-scores, kind="stable"):
        part = parts[int(k)]
        if used + len(part.text) <= budget_chars:
            chosen.add(part)
            used += len(part.text) + 1
    sources: list[Source] = []
    for i, source in enumerate(context.sources):
        kept = [p for p in parts if p.source == i and p in chosen]
        if i not in cut or kept:
            passage = _joined(kept) if kept else source.passage
            sources.append(replace(source, n=len(sources) + 1, passage=passage))
    if not sources:
        return context
    excerpted = replace(context, sources=sources)
    return replace(excerpted, facts=index_facts(retrieval, excerpted))


def _parts(i: int, source: Source) -> list[Part]:
    """The source's sentences and whole code blocks, without its heading line."""
    return parts_of(i, section_body(source.nodes[0]))


def parts_of(i: int, text: str) -> list[Part]:
    """`text`'s sentences and whole code blocks, in order, as parts of source `i`; a hard-wrapped
    paragraph read as its sentences."""
    parts: list[Part] = []
    for block, is_code in blocks(text):
        pieces = [block] if is_code else sentences(unwrapped(block))
        parts += [Part(i, len(parts) + k, piece, is_code) for k, piece in enumerate(pieces)]
    return parts


def similarities(question: str, parts: list[Part], titles: list[str], embedder: MiniLMEmbedding) -> np.ndarray:
    """Cosine of each part, read under its source's title, with the question ("Counting: If the option is
    not passed, the count is 0" is about counting); a code block, and a sentence pointing back, score as
    well as the sentence before them."""
    vectors = np.array(embedder.get_text_embedding_batch([f"{titles[p.source]}: {p.text}" for p in parts]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    # A question that asks two things ("… and what's the value when it isn't passed?") is answered by
    # parts close to either: a part scores as its closest of the whole question and each of its clauses.
    asked = [question, *c] if len(c := clauses(question)) > 1 else [question]
    queries = np.array([embedder.get_query_embedding(q) for q in asked])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True) + 1e-12
    scores = (vectors @ queries.T).max(axis=1)
    for k, part in enumerate(parts):
        if not k or parts[k - 1].source != part.source:
            continue
        follows = not parts[k - 1].code if part.code else bool(REFERS_BACK_RE.match(part.text))
        if follows:
            scores[k] = max(scores[k], scores[k - 1])
    return scores


def _joined(kept: list[Part]) -> str:
    """The kept parts in text order: neighbouring sentences run on, a code block stands on lines of
    its own, and a gap between kept parts is an ellipsis."""
    text = ""
    last: Part | None = None
    for part in kept:
        if last is None:
            text = part.text
        elif part.index != last.index + 1:
            text += "\n…\n" + part.text
        else:
            text += ("\n" if part.code or last.code else " ") + part.text
        last = part
    return text
