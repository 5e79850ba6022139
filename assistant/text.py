"""Words and sentences of a text as every part compares them: one folding, one word pattern, one splitter.

Folding drops accents and case ("Björn" and "bjorn" are one word); terms are the content words folded
and stemmed; a sentence ends at a stop followed by a blank, or at a line break.
"""

from __future__ import annotations

import re
import unicodedata
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
        # Pronouns and modal verbs: an answer says "you can pass X" where its source says "pass X".
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
        "us",
        "them",
        "those",
        "can",
        "could",
        "would",
        "should",
        "may",
        "might",
        "if",
    ]
)
WORD_RE = re.compile(r"[a-z0-9]+")
# Where one sentence ends and the next begins: blanks after a stop, or a line break (with the blanks
# around it). Captured, so a split keeps the separators and the parts join back to the text.
# A stop after an initial or a Latin abbreviation ends no sentence: "David M. Chan", "e.g. this" (nor,
# then, does "option A. Then …": a name's initial is the likelier reading in author lists).
_NOT_AN_END = r"(?<!\b[A-Z]\.)(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bal\.)(?<!\bvs\.)"
SENTENCE_BREAK_RE = re.compile(rf"((?<=[.!?]){_NOT_AN_END}[^\S\n]+|\s*\n\s*)")
# The same without line breaks of their own, for text whose lines break inside a sentence (a document's
# wrapped paragraphs, read for instructions phrased across a break).
STOP_BREAK_RE = re.compile(rf"((?<=[.!?]){_NOT_AN_END}\s+)")


# Words that deny what a sentence states: "are not supported", "can't", "never", "no such option".
DENIAL_RE = re.compile(r"\b(?:not|no|never|cannot|none|neither|nor|unsupported)\b|n[’']t\b", re.I)


# A sentence that opens by pointing back at the one before it ("By default the group is not invoked. To
# change this, pass …"): read alone, it does not say what it is about.
REFERS_BACK_RE = re.compile(
    r"^\W*(?:(?:this|that|these|those|it|such)\b(?!\s+(?:is|are)\s+(?:a|an|the)\b)"
    r"|(?:to|you can)\s+(?:change|disable|enable|avoid|prevent|override|fix|do|turn|use)\s+(?:this|that|it|so|them)\b"
    r"|instead\b|otherwise\b|in\s+(?:this|that|such\s+a)\s+case\b|for\s+(?:this|that)\b)",
    re.I,
)

# A citation as the model writes it, "[2]", "[1, 3]" or "[1; 3]"; the same pattern is defused in documents.
CITATION_RE = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")


def cited_numbers(citation: re.Match[str]) -> list[int]:
    """The source numbers of one CITATION_RE match: "[1; 3]" → [1, 3]."""
    return [int(n) for n in re.split(r"[,;]", citation.group(1))]


def joined(items: list[str]) -> str:
    """ "A", "A and B", "A, B and C": items as a sentence lists them."""
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else items[0]


def initials(name: str) -> str:
    """ "Reinforcement learning" → "RL": the first letters of a name's words, as its abbreviation."""
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w).upper()


def to_ascii(text: str) -> str:
    """Accents dropped, case kept, for names shown in ASCII: "Karnātaka" → "Karnataka" (what has no
    ASCII form goes)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fold(text: str) -> str:
    """Accents and case dropped, every other character kept: "Björn’s" → "bjorn’s" (so "’" and "–"
    still part words, and "2–30" stays two numbers)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The folded words and numbers of a text, in order: "Björn's co-author" → bjorn, s, co, author."""
    return WORD_RE.findall(fold(text))


def phrase_form(text: str) -> str:
    """ " emc2 efficient mcmc ": the folded words between spaces, bracketed asides dropped, so one
    name is found inside another text with `in` ("Bjorn" finds "Björn")."""
    return " " + " ".join(words(re.sub(r"\([^)]*\)", " ", text))) + " "


def terms(text: str) -> set[str]:
    """Content words and numbers, folded and stemmed ("co-authored papers" meets "Authors" and
    "Paper"), for overlap checks; "2-3" is the numbers 2 and 3."""
    return set(ordered_terms(text))


def ordered_terms(text: str) -> list[str]:
    """The content words and numbers of `terms`, in the order the text has them."""
    kept = [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return _stemmer().stemWords(kept)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    # The Snowball stemmer BM25 retrieval already uses (PyStemmer, via llama-index-retrievers-bm25).
    return Stemmer.Stemmer("english")


def sentence_parts(text: str, lines: bool = True) -> list[str]:
    """The text cut into sentences and the separators between them, which join back to the text;
    without `lines`, a line break inside a sentence does not end it."""
    return (SENTENCE_BREAK_RE if lines else STOP_BREAK_RE).split(text)


def sentences(text: str) -> list[str]:
    """The sentences of a text, stripped, empty ones left out."""
    return [s for s, _, _ in sentence_spans(text)]


def sentence_spans(text: str) -> list[tuple[str, int, int]]:
    """Each sentence of a text, stripped, with its start and end offsets in the text."""
    spans, at = [], 0
    for i, part in enumerate(sentence_parts(text)):
        stripped = part.strip()
        if stripped and i % 2 == 0:  # the odd parts are the breaks
            start = at + len(part) - len(part.lstrip())
            spans.append((stripped, start, start + len(stripped)))
        at += len(part)
    return spans


def last_sentence(text: str) -> str:
    """The text after its last sentence break: the sentence a position in it belongs to, so far."""
    return sentence_parts(text)[-1]


# A line that starts its own element of a paragraph: a list item, a numbered item, a quote, a table
# row, a heading, a reST directive or field (":param x:", not a role like ":func:`x`"), a MyST colon
# fence or target ("(label)="). Prose that wraps onto "-1.", "*single*", "{ref}`x`" or "(see …)" runs on.
_OWN_LINE_RE = re.compile(
    r"\s*(?:[-*+]\s|\d{1,3}[.)]\s|>|\|.*\|\s*$|#+\s|\.\.\s|:[^:`\s][^:`]*:(?:\s|$)|:::|\([\w-]+\)=\s*$)"
)
# A block laid out by its lines: indented code or console output, a doctest.
_LAID_OUT_RE = re.compile(r"^(?: {4}|\t|>>> )", re.M)


def unwrapped(paragraph: str) -> str:
    """A paragraph hard-wrapped at a fixed width, as the lines of its sentences run on: "nargs can be
    any\npositive integer, but not -1." is one sentence, not two lines that each mean nothing. A list
    item, table row or heading keeps its own line; indented code and doctests keep all of theirs."""
    lines = paragraph.split("\n")
    if _LAID_OUT_RE.search("\n".join(lines[1:])):
        return paragraph
    text = lines[0]
    for line in lines[1:]:
        text += ("\n" if _OWN_LINE_RE.match(line) else " ") + line.strip()
    return text
