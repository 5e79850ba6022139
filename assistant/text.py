"""Words of a text as every check compares them: content words, lower-cased and stemmed."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

STOPWORDS = set(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "did",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "about",
        "into",
        "than",
        "then",
        "there",
        "these",
        "they",
        "many",
        "much",
        "any",
        "all",
    ]
)


def terms(text: str) -> set[str]:
    """Content words and numbers, lower-cased and stemmed ("co-authored papers" meets "Authors" and
    "Paper"), for overlap checks; "2-3" is the numbers 2 and 3."""
    return set(ordered_terms(text))


def ordered_terms(text: str) -> list[str]:
    """The content words and numbers of `terms`, in the order the text has them."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(words)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    # The Snowball stemmer BM25 retrieval already uses (PyStemmer, via llama-index-retrievers-bm25).
    return Stemmer.Stemmer("english")
