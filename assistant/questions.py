"""What kind of answer a question asks for, read from its wording: a list of entries, a count, an entry."""

from __future__ import annotations

import re

ENTRY_WORDS = {
    "paper": r"papers?|publications?|works?",
    "posting": r"postings?|jobs?|job openings?|openings?|positions?|roles?|vacanc(?:y|ies)",
}
_ANY_ENTRY = "|".join(ENTRY_WORDS.values())
# "Which (two) papers …", "How many of the job postings …", "List the jobs …", "What papers …".
LIST_QUESTION_RE = re.compile(
    rf"\b(?:which|how many|list|name)\b(?:\s+[\w-]+){{0,3}}?\s+(?:{_ANY_ENTRY})\b|\bwhat\s+(?:{_ANY_ENTRY})\b", re.I
)
# "Which paper is listed under …", "What is the title of …": the answer is an entry itself.
ENTRY_QUESTION_RE = re.compile(
    rf"\b(?:which|what)\b(?:\s+[\w-]+){{0,2}}?\s+(?:{_ANY_ENTRY}|titles?|entry|entries|sources?)\b", re.I
)


def asked_kinds(question: str) -> set[str]:
    """The kinds of entry a list question asks for ("papers" → paper); empty if it is not one."""
    if not LIST_QUESTION_RE.search(question):
        return set()
    return {kind for kind, words in ENTRY_WORDS.items() if re.search(rf"\b(?:{words})\b", question, re.I)}


def asks_for_entry(question: str) -> bool:
    """True when naming an entry answers the question ("Which paper is listed under Privacy?")."""
    return bool(asked_kinds(question) or ENTRY_QUESTION_RE.search(question))
