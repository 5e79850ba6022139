"""Grading open answers: does the chat's text state the right option's facts, and not a wrong one's?

A chat user never sees the options, so an open answer is graded by terms: each expected fact (the
item's `facts`, or else the right option's text) must be stated, and no wrong option may be stated
instead. Terms are compared after the normalisation the citation check uses (case, punctuation,
stemming, so plurals match), with accents folded and number words as digits ("three" = 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.assistant.citations import ABSTAIN_RE, ANSWER_PARTICLE_RE
from rag.assistant.text import CITATION_RE, DENIAL_RE, fold, sentences, terms

NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
# A fact taken from an option's text is stated when this share of its terms is; an explicit `facts`
# phrase must be stated whole.
OPTION_SHARE = 2 / 3
# A name in quotes of four words or more (a paper's title, as code-written answers quote it) names an
# entry; it states none of the options whose words it happens to hold. A quoted sentence (ending in a
# full stop, as a quoted passage does) is a statement, and is graded as one.
QUOTED_NAME_RE = re.compile(r"[“\"](?:[^”\"\s]+\s+){3,}[^”\"]*(?<!\.)[”\"]")
# Code in an answer: an example's values ("`cli(max_content_width=120)`") show how, they are not what the
# answer states; a wrong option's number found only there is not claimed.
CODE_RE = re.compile(r"```.*?```|`[^`\n]+`", re.S)


def grading_terms(text: str) -> set[str]:
    """Content terms of `text` as the grader compares them."""
    text = fold(CITATION_RE.sub(" ", text))
    text = re.sub(r"[a-z]+", lambda m: NUMBER_WORDS.get(m.group(0), m.group(0)), text)
    return terms(text)


@dataclass(frozen=True)
class Grade:
    """How one open answer was graded, with the evidence."""

    correct: bool
    abstained: bool
    stated: list[str] = field(default_factory=list)  # expected facts the answer states
    missing: list[str] = field(default_factory=list)  # expected facts it does not
    wrong: list[str] = field(default_factory=list)  # wrong options it states

    @property
    def false_abstention(self) -> bool:
        return self.abstained and not self.correct

    def as_json(self) -> dict:
        return {"stated": self.stated, "missing": self.missing, "wrong": self.wrong}


# "No" as an expected fact is stated by an answer that opens with it, or whose first sentence denies
# without opening with "Yes" ("Click does not support multi-character short options [1]." answers
# "Does Click support …?" no); "I don't know" or "not sure" is no answer.
NO_FACT = "no"
HEDGE_RE = re.compile(r"\b(?:know|sure|tell|unclear|certain)\b", re.I)


def says_no(answer_text: str) -> bool:
    """Does the answer's first sentence say no?"""
    first = (sentences(answer_text) or [""])[0]
    if particle := ANSWER_PARTICLE_RE.match(first):
        return particle.group(1).lower() == "no"
    return bool(DENIAL_RE.search(first)) and not HEDGE_RE.search(first)


def _fact_terms(fact: str, asked: set[str]) -> set[str]:
    """A fact's terms minus the question's (repeating the question proves nothing), unless that is all it has."""
    own = grading_terms(fact)
    return (own - asked) or own


def grade_answer(
    question: str,
    choices: dict[str, str],
    answer_letter: str,
    answer_text: str,
    *,
    facts: list[str] | None = None,
    unanswerable: bool = False,
    abstain_letter: str | None = None,
) -> Grade:
    """Grade `answer_text` against the item: right facts stated, no wrong option stated, abstention where due."""
    abstained = bool(ABSTAIN_RE.search(answer_text))
    if unanswerable:
        return Grade(correct=abstained, abstained=abstained)
    said = grading_terms(answer_text)
    asked = grading_terms(question)
    expected = facts or [choices[answer_letter]]
    share = 1.0 if facts else OPTION_SHARE
    stated, missing = [], []
    for fact in expected:
        if fact.strip().lower() == NO_FACT and not abstained:
            (stated if says_no(answer_text) else missing).append(fact)
            continue
        wanted = _fact_terms(fact, asked)
        (stated if len(wanted & said) >= share * len(wanted) else missing).append(fact)
    right = grading_terms(choices[answer_letter]).union(*(grading_terms(f) for f in expected))
    prose = QUOTED_NAME_RE.sub(" ", answer_text)
    in_code = " ".join(CODE_RE.findall(prose))
    claimed = grading_terms(CODE_RE.sub(" ", prose)) | {t for t in grading_terms(in_code) if not t.isdigit()}
    wrong = []
    for letter, text in choices.items():
        if letter in (answer_letter, abstain_letter):
            continue
        distinct = grading_terms(text) - right - asked
        if distinct and distinct <= claimed:
            wrong.append(text)
    return Grade(correct=not missing and not wrong, abstained=abstained, stated=stated, missing=missing, wrong=wrong)
