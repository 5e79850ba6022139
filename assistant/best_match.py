"""Which entry a question describes in its own words, when the model found none: the closest match.

"Which paper is about training LLMs with reduced-precision number formats?" names no title, author
or area; retrieval ranks COLLAGE first, yet a 1.5B model reading the whole corpus says the sources
do not say. When a question asks *which entry* (a paper or a posting) and the model abstained or
cited no entry of that kind, or asks whether there is "anything on" a topic and the model abstained,
code names the entry of that kind retrieval ranked first (dense and BM25 fused, which tells a
paraphrase's entry apart more often than the embedder's cosine alone; for "anything on", an entry,
never the overview or a page), if its cosine similarity to the question is high enough, and says that
it is the closest match, not that it is proven.
"""

from __future__ import annotations

import re

import numpy as np

from rag.assistant.aggregates import FEWEST_RE, HOW_MANY_RE, MOST_RE
from rag.assistant.citations import Verified
from rag.assistant.context import Context, Source
from rag.assistant.listing import NEGATION_RE
from rag.assistant.names import label_of
from rag.assistant.questions import ANYTHING_ON_RE, ORDINALS, asks_for_entry, mentioned_kinds
from rag.assistant.schema import CHUNK, OVERVIEW
from rag.ingest.embed import MiniLMEmbedding

RULE = "best-match"  # its name in RAG_DISABLED_RULES
# Cosine similarity (MiniLM) of a question and the entry it describes: paraphrases of a paper's
# subject scored 0.36–0.78 on the dev questions; questions about what no entry holds ("which paper
# won an award?") and whole-index questions ("which paper has the most authors?") scored below 0.30.
MIN_SIMILARITY = 0.33
# Questions this rule must leave alone: a negation asks for the entries that do *not* match, and a
# superlative, a count or a place in an author list has an exact answer only the metadata gives.
LEFT_ALONE = (NEGATION_RE, MOST_RE, FEWEST_RE, HOW_MANY_RE, re.compile(rf"\b(?:{'|'.join(ORDINALS)})\b", re.I))


def asked_kind(question: str) -> str | None:
    """The kind of entry a "which … is about …" question asks for: paper, posting, or any (None)."""
    kinds = mentioned_kinds(question)
    return next(iter(kinds)) if len(kinds) == 1 else None


def answers_nothing(verified: Verified, question: str) -> bool:
    """Did the model's answer leave a "which paper is about …" question unanswered: it abstained, or it
    cites no entry of the kind asked for (a paper question answered from the overview)?"""
    if verified.abstained and not verified.citations:
        return True
    # Only an answer citing no entry at all (the overview, a document section) leaves it unanswered: one
    # citing another kind may answer a question whose words only look like a kind ("Which team works on …?").
    kind = asked_kind(question)
    return (
        kind is not None and asks_for_entry(question) and all(c.kind in (OVERVIEW, CHUNK) for c in verified.citations)
    )


def best_match_answer(question: str, context: Context, embedder: MiniLMEmbedding, ranked: list[str] = ()) -> str | None:
    """ "The closest match in the index is “COLLAGE: …” [5]." or None when the question does not ask
    which entry it describes, or no entry of the asked kind is close enough. `ranked`: the ids retrieval
    found, best first (the context puts the entries the catalog matched first, in no order of meaning)."""
    anything = bool(ANYTHING_ON_RE.match(question))  # "anything on X?": an entry, never the overview or a page
    if not (asks_for_entry(question) or anything) or any(pattern.search(question) for pattern in LEFT_ALONE):
        return None
    kind = asked_kind(question)
    pages = (OVERVIEW, CHUNK) if anything else ()
    candidates = [s for s in context.shown() if (kind is None or s.kind == kind) and s.kind not in pages]
    if not candidates:
        return None
    rank = {entry_id: i for i, entry_id in enumerate(ranked)}
    best = min(candidates, key=lambda s: min((rank.get(i, len(rank)) for i in s.ids), default=len(rank)))
    if _similarity(question, best, embedder) < MIN_SIMILARITY:
        return None
    return f"The closest match in the index is “{label_of(best)}” [{best.n}]."


def _similarity(question: str, source: Source, embedder: MiniLMEmbedding) -> float:
    vector = np.array(embedder.get_text_embedding(source.nodes[0].get_content()))
    query = np.array(embedder.get_query_embedding(question))
    return float(vector @ query / (np.linalg.norm(vector) * np.linalg.norm(query) + 1e-12))
