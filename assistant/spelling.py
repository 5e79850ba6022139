"""Misspelt names in a question, put right against the index's own names before it is searched.

"Repofromer", "'latent spce'", "'casual change attribution'": a typo in a name defeats the catalog (which
finds names whole) and weakens both retrievers. A word of a name — capitalised, or inside quotes — that
appears nowhere in the index is replaced by the closest word of the index's names (titles, authors,
areas, places) when one is close enough; every other word ("deciding" is not a misspelt "decoding"),
and the question shown to the user, stays as typed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from ingest.entries import to_ascii

WORD_RE = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
RULE = "spelling"  # its name in RAG_DISABLED_RULES
# A quotation: a quote mark after a space or at the start, up to its closing mark before a space or a stop
# (so the apostrophes of "What's the paper's …" quote nothing).
QUOTED_RE = re.compile(r"(?:^|(?<=\s))[\"“‘'][^\"“”‘’]+[\"”’'](?=[\s?.!,;:]|$)")
MIN_LENGTH = 4  # shorter words are too often a different word one letter away
# difflib's similarity ratio a replacement must reach: "repofromer"→"repoformer" 0.9, "spce"→"space" 0.89,
# "casual"→"causal" 0.83; "wrote"→"write" is 0.8, but "wrote" is no misspelling when the index uses it.
CUTOFF = 0.82


def _words(text: str) -> list[str]:
    return WORD_RE.findall(to_ascii(text).lower())


class Speller:
    """Knows every word of the index (left alone) and the words of its names (offered as corrections)."""

    def __init__(self, texts: Iterable[str], names: Iterable[str]):
        self.known = {w for text in texts for w in _words(text)}
        self.names = sorted({w for name in names for w in _words(name) if len(w) >= MIN_LENGTH})
        self.known |= set(self.names)

    def correct(self, question: str) -> str:
        """The question with each unknown word that is close to a name's word replaced by it."""

        quoted = [m.span() for m in QUOTED_RE.finditer(question)]

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            folded = to_ascii(word).lower()
            in_quotes = any(a <= match.start() < b for a, b in quoted)
            named = word[0].isupper() and match.start() > 0  # a question's first word is capitalised anyway
            if len(folded) < MIN_LENGTH or folded in self.known or not (named or in_quotes):
                return word
            close = difflib.get_close_matches(folded, self.names, n=1, cutoff=CUTOFF)
            if not close:
                return word
            return close[0].capitalize() if word[0].isupper() else close[0]

        return WORD_RE.sub(fix, question)
