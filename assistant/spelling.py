"""The question read against the index's own words before it is searched: misspelt names put right,
abbreviations spelt out, names the index never mentions found.

Misspelt names: "Repofromer", "'latent spce'", "'casual change attribution'": a typo in a name defeats the
catalog (which finds names whole) and weakens both retrievers. A word of a name — capitalised, or inside
quotes — that appears nowhere in the index is replaced by the closest word of the index's names (titles,
authors, areas, places) when one is close enough; every other word ("deciding" is not a misspelt
"decoding"), and the question shown to the user, stays as typed.

Contractions typed without their apostrophe: "whats the paper with the fewest authors", "which RL papers
dont have …": every rule that reads a question's wording ("what …", "n't") reads them as "what's", "don't".
Chat shorthand the same way: "how many ppl wrote it?", "the paper w/ distributional values" are read
with "people", "with".

Abbreviations: "the DP fine-tuning paper", "the ASR paper", "list the RL papers": an abbreviation the
documents never define still stands for words they use. An all-capitals word of the question is spelt out
when one run of the index's words with those initials ("differentially private", "reinforcement
learning") occurs at least twice and at least twice as often as any other; ambiguous ones ("CL":
continual or contrastive learning) stay as typed. The expansion is added after the question, for
retrieval and the catalog; the question shown to the user stays as typed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from rag.assistant.text import STOPWORDS, fold, initials, terms, words

WORD_RE = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
SPELLING = "spelling"  # its name in RAG_DISABLED_RULES
# A question about a name the index never mentions ("any openings in Seattle?", "papers at ICML 2023?")
# is answered so by code: a list or count of what the index does hold would answer another question.
ABSENT = "absent-name"
# A quotation: a quote mark after a space or at the start, up to its closing mark before a space or a stop
# (so the apostrophes of "What's the paper's …" quote nothing).
QUOTED_RE = re.compile(r"(?:^|(?<=\s))[\"“‘'][^\"“”‘’]+[\"”’'](?=[\s?.!,;:]|$)")
# Contractions people type without the apostrophe; "cant", "wont" and "its" are words of their own.
CONTRACTIONS = {
    "whats": "what's",
    "whos": "who's",
    "wheres": "where's",
    "hows": "how's",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "werent": "weren't",
    "havent": "haven't",
    "hasnt": "hasn't",
}
CONTRACTION_RE = re.compile(rf"\b({'|'.join(CONTRACTIONS)})\b", re.I)
# Chat shorthand, read as the words it stands for; in lower case only ("PPL" is perplexity, "Abt" a name).
SHORTHAND = {"ppl": "people", "abt": "about", "w/o": "without", "w/": "with"}
SHORTHAND_RE = re.compile(rf"(?<![\w/])({'|'.join(map(re.escape, SHORTHAND))})(?![\w/])")
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


SPELT_OUT = " — "  # what joins the question and each abbreviation's meaning


def as_typed(question: str) -> str:
    """The question without the meanings `expand` added: the words the person typed."""
    return spelt_out(question)[0]


ABBREVIATIONS = "abbreviations"  # its name in RAG_DISABLED_RULES
ABBREVIATION_RE = re.compile(r"(?<![\w.])([A-Z]{2,5})s?(?![\w])")
MIN_COUNT = 2  # beside other candidates, a phrase seen once is as likely a coincidence ("repository level" for RL)
MIN_LEAD = 2.0  # how many times more often than the next candidate the chosen phrase must occur
MIN_WORD = 3  # words shorter than this ("of", "an") are not spelt out by an initial


def _runs(texts: Iterable[str], seen: set[str]) -> dict[str, Counter[str]]:
    """Every run of 2–5 words of `texts` by its initials, counted, adding each word to `seen`. Runs stay
    within a clause ("Research area: Reinforcement learning" has no "area reinforcement"), and each
    distinct clause counts once (six postings with the same text do not make "art llm" an "AL")."""
    phrases: dict[str, Counter[str]] = defaultdict(Counter)
    clauses = dict.fromkeys(c.strip() for text in texts for c in re.split(r"[.,;:!?()\n]", fold(text)))
    for clause in clauses:
        said = words(clause)
        seen.update(said)
        for size in range(2, 6):
            for i in range(len(said) - size + 1):
                run = said[i : i + size]
                if all(len(w) >= MIN_WORD and w not in STOPWORDS and not w.isdigit() for w in run):
                    phrase = " ".join(run)
                    phrases[initials(phrase).lower()][phrase] += 1
    return phrases


class Abbreviations:
    """Every run of 2–5 index words by its initials, counted."""

    def __init__(self, texts: Iterable[str], keep: Iterable[str] = (), names: Iterable[str] = ()):
        self.keep = set(keep)  # codes the catalog reads itself (countries' ISO codes)
        self._words: set[str] = set()  # every word of the index: "EU" in a posting is a word, not initials
        self._phrases = _runs(texts, self._words)
        # The runs inside the index's names (titles, headings, areas): the named things an abbreviation
        # stands for, though the index may say one only once ("Membership inference attacks on …").
        self._named = {phrase for ranked in _runs(names, set()).values() for phrase in ranked}

    def stands_for_words(self, abbreviation: str) -> bool:
        """Could it stand for words of the index, even ambiguously ("CL": continual or contrastive learning)?"""
        if abbreviation.lower() in STOPWORDS:
            return False
        ranked = self._phrases.get(abbreviation.lower(), Counter()).most_common(1)
        return bool(ranked) and (ranked[0][1] >= MIN_COUNT or self._only_phrase(abbreviation) is not None)

    def meaning(self, abbreviation: str) -> str | None:
        """The phrase an abbreviation stands for in this index, or None when none clearly does: the run of
        index words with its initials seen far more often than any other, or the only such run where the
        index never uses the abbreviation as a word, in one of its names ("UQ": uncertainty quantification,
        in one title)."""
        ranked = self._phrases.get(abbreviation.lower(), Counter()).most_common(2)
        if abbreviation.lower() in STOPWORDS:  # "turn a flag ON": a word in capitals, not initials
            return None
        if not ranked or ranked[0][1] < MIN_COUNT:
            return self._only_phrase(abbreviation)
        if len(ranked) > 1 and ranked[0][1] < MIN_LEAD * ranked[1][1]:
            return None
        return ranked[0][0]

    def _only_phrase(self, abbreviation: str) -> str | None:
        ranked = self._phrases.get(abbreviation.lower(), Counter())
        if len(ranked) != 1 or abbreviation.lower() in self._words:
            return None
        phrase = next(iter(ranked))
        return phrase if phrase in self._named else None

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


def spelt_out(question: str) -> tuple[str, dict[str, str]]:
    """The question as typed and the meanings `Abbreviations.expand` put after it, by abbreviation."""
    asked, *spelt = question.split(SPELT_OUT)
    return asked, dict(tuple(part.split(": ", 1)) for part in spelt if ": " in part)


def with_apostrophes(question: str) -> str:
    """ "whats the …" → "what's the …", "ppl" → "people", keeping the first letter's case."""

    def mended(match: re.Match[str]) -> str:
        word = CONTRACTIONS[match.group(1).lower()]
        return word[0].upper() + word[1:] if match.group(1)[0].isupper() else word

    return SHORTHAND_RE.sub(lambda m: SHORTHAND[m.group(1)], CONTRACTION_RE.sub(mended, question))


def read_question(
    question: str,
    speller: Speller,
    abbreviations: Abbreviations | None,
    codes: frozenset[str],
    disabled: frozenset[str] = frozenset(),
) -> tuple[str, tuple[str, ...]]:
    """The question as it is searched (misspelt names put right, then abbreviations spelt out), and the
    names and numbers of it the index never mentions; an abbreviation the catalog reads (`codes`: "US",
    "RL") or the index's words stand for ("RAG", "DP") is not absent."""
    if SPELLING not in disabled:
        question = speller.correct(with_apostrophes(question))
    if ABBREVIATIONS not in disabled and abbreviations is not None:
        question = abbreviations.expand(question)
    if ABSENT in disabled:
        return question, ()
    known = abbreviations.stands_for_words if abbreviations is not None else (lambda _: False)
    absent = tuple(a for a in speller.absent(question) if a not in codes and not known(a))
    return question, absent
