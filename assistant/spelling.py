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

from rag.assistant.text import STOPWORDS, fold, terms

WORD_RE = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
RULE = "spelling"  # its name in RAG_DISABLED_RULES
# A question about a name the index never mentions ("any openings in Seattle?", "papers at ICML 2023?")
# is answered so by code: a list or count of what the index does hold would answer another question.
ABSENT = "absent-name"
# A quotation: a quote mark after a space or at the start, up to its closing mark before a space or a stop
# (so the apostrophes of "What's the paper's …" quote nothing).
QUOTED_RE = re.compile(r"(?:^|(?<=\s))[\"“‘'][^\"“”‘’]+[\"”’'](?=[\s?.!,;:]|$)")
MIN_LENGTH = 4  # shorter words are too often a different word one letter away
# difflib's similarity ratio a replacement must reach: "repofromer"→"repoformer" 0.9, "spce"→"space" 0.89,
# "casual"→"causal" 0.83; "wrote"→"write" is 0.8, but "wrote" is no misspelling when the index uses it.
CUTOFF = 0.82
# Words written in capitals for emphasis ("which paper is NOT about …"), not names.
EMPHASIS_WORDS = STOPWORDS | {"not", "no", "never", "only", "none", "both", "either", "neither", "except", "without"}
# Below CUTOFF, a word this close to a name may still be that name mistyped: not called absent.
NEAR_NAME = 0.7


def _starts_sentence(text: str, at: int) -> bool:
    """Is the word at `at` the first of a sentence ("Thanks! Now list …"), capitalised anyway?"""
    return not text[:at].strip() or text[:at].rstrip()[-1] in ".!?:"


def _words(text: str) -> list[str]:
    return WORD_RE.findall(fold(text))


class Speller:
    """Knows every word of the index (left alone) and the words of its names (offered as corrections)."""

    def __init__(self, texts: Iterable[str], names: Iterable[str], common: Iterable[str] = ()):
        texts = list(texts)
        self.common = frozenset(common)  # English words: a lower-case one is meant as typed
        self.known = {w for text in texts for w in _words(text)}
        self.names = sorted({w for name in names for w in _words(name) if len(w) >= MIN_LENGTH})
        self.known |= set(self.names)
        self._stems = terms(" ".join(self.known))
        self._numbers = {n for text in texts for n in re.findall(r"\d+", text)}

    def absent(self, question: str) -> list[str]:
        """The names (capitalised or quoted words, not the first) and long numbers ("2023") of a question
        that appear nowhere in the index, in any form: what no answer from it can be about."""
        quoted = [m.span() for m in QUOTED_RE.finditer(question)]
        missing = []
        for match in WORD_RE.finditer(question):
            word = match.group(0)
            in_quotes = any(a <= match.start() < b for a, b in quoted)
            named = word[0].isupper() and not _starts_sentence(question, match.start())
            named = named and word.lower() not in EMPHASIS_WORDS
            if (named or in_quotes) and not terms(word) <= self._stems and not self._near_name(word):
                missing.append(word)
        missing += [n for n in re.findall(r"(?<![\w.])\d{3,}(?![\w.])", question) if n not in self._numbers]
        return missing

    def _near_name(self, word: str) -> bool:
        """Could the word be a name of the index mistyped past correcting ("Rith" for "Roth")?"""
        return bool(difflib.get_close_matches(fold(word), self.names, n=1, cutoff=NEAR_NAME))

    def correct(self, question: str) -> str:
        """The question with each unknown word that is close to a name's word replaced by it."""

        quoted = [m.span() for m in QUOTED_RE.finditer(question)]

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            folded = fold(word)
            in_quotes = any(a <= match.start() < b for a, b in quoted)
            named = word[0].isupper() and not _starts_sentence(question, match.start())  # capitalised anyway
            # A lower-case word that is no English word ("repofromer", "memorylm") is a name mistyped too.
            unusual = bool(self.common) and folded not in self.common
            if len(folded) < MIN_LENGTH or folded in self.known or not (named or in_quotes or unusual):
                return word
            if terms(folded) <= self._stems:  # another form of a word of the index ("postings")
                return word
            close = difflib.get_close_matches(folded, self.names, n=1, cutoff=CUTOFF)
            if not close:
                return word
            return close[0].capitalize() if word[0].isupper() else close[0]

        return WORD_RE.sub(fix, question)
