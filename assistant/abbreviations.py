"""Abbreviations in a question, spelt out from the index's own words before it is searched.

"the DP fine-tuning paper", "the ASR paper", "list the RL papers": an abbreviation the documents never
define still stands for words they use. An all-capitals word of the question is spelt out when one
run of the index's words with those initials ("differentially private", "reinforcement learning")
occurs at least twice and at least twice as often as any other; ambiguous ones ("CL": continual or
contrastive learning) stay as typed. The expansion is added after the question, for retrieval and
the catalog; the question shown to the user stays as typed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from rag.assistant.text import STOPWORDS, fold, words

SPELT_OUT = " — "  # what joins the question and each abbreviation's meaning


def as_typed(question: str) -> str:
    """The question without the meanings `expand` added: the words the person typed."""
    return question.split(SPELT_OUT)[0]


RULE = "abbreviations"  # its name in RAG_DISABLED_RULES
ABBREVIATION_RE = re.compile(r"(?<![\w.])([A-Z]{2,5})s?(?![\w])")
MIN_COUNT = 2  # a phrase seen once is as likely a coincidence of initials ("repository level" for RL)
MIN_LEAD = 2.0  # how many times more often than the next candidate the chosen phrase must occur
MIN_WORD = 3  # words shorter than this ("of", "an") are not spelt out by an initial


class Abbreviations:
    """Every run of 2–5 index words by its initials, counted."""

    def __init__(self, texts: Iterable[str], keep: Iterable[str] = ()):
        self.keep = set(keep)  # codes the catalog reads itself (countries' ISO codes)
        self._phrases: dict[str, Counter[str]] = defaultdict(Counter)
        # Runs stay within a clause: "Research area: Reinforcement learning" has no "area reinforcement".
        # Each distinct clause once: six postings with the same text do not make "art llm" an "AL".
        clauses = dict.fromkeys(c.strip() for text in texts for c in re.split(r"[.,;:!?()\n]", fold(text)))
        for clause in clauses:
            said = words(clause)
            for size in range(2, 6):
                for i in range(len(said) - size + 1):
                    run = said[i : i + size]
                    if all(len(w) >= MIN_WORD and w not in STOPWORDS and not w.isdigit() for w in run):
                        self._phrases["".join(w[0] for w in run)][" ".join(run)] += 1

    def stands_for_words(self, abbreviation: str) -> bool:
        """Could it stand for words of the index, even ambiguously ("CL": continual or contrastive learning)?"""
        ranked = self._phrases.get(abbreviation.lower(), Counter()).most_common(1)
        return bool(ranked) and ranked[0][1] >= MIN_COUNT

    def meaning(self, abbreviation: str) -> str | None:
        """The phrase an abbreviation stands for in this index, or None when none clearly does."""
        ranked = self._phrases.get(abbreviation.lower(), Counter()).most_common(2)
        if not ranked or ranked[0][1] < MIN_COUNT:
            return None
        if len(ranked) > 1 and ranked[0][1] < MIN_LEAD * ranked[1][1]:
            return None
        return ranked[0][0]

    def expand(self, question: str) -> str:
        """ "the DP fine-tuning paper" → "the DP fine-tuning paper — DP: differentially private": after the
        question, so the words that say what it asks ("list the three RL papers") stay together."""
        spelt = []
        for code in dict.fromkeys(m.group(1) for m in ABBREVIATION_RE.finditer(question)):
            meaning = None if code in self.keep else self.meaning(code)
            if meaning:
                spelt.append(f"{code}: {meaning}")
        # Not in brackets: the catalog reads a bracketed aside as no part of a name.
        return SPELT_OUT.join([question, *spelt])
