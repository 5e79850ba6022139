"""What kind of answer a question asks for, read from its wording: a list of entries, a count, an entry."""

from __future__ import annotations

import re

from rag.assistant.schema import KIND_NOUNS, PAPER, kind_words, plurals
from rag.assistant.text import joined, ordered_terms, terms

ENTRY_WORDS = {kind: kind_words(kind) for kind in KIND_NOUNS}
_ANY_ENTRY = kind_words()
# "Which (two) papers …", "How many of the job postings …", "List the jobs …", "What papers …", "What are
# the privacy papers?", and the topic questions "Are there any papers on …", "Any jobs in …".
_ENTRIES = "|".join(re.escape(noun) for kind in KIND_NOUNS for noun in plurals(kind))
LIST_QUESTION_RE = re.compile(
    rf"\b(?:which|how many|list|name|any)\b(?:\s+[\w-]+){{0,3}}?\s+(?:{_ANY_ENTRY})\b|\bwhat\s+(?:{_ANY_ENTRY})\b"
    # "What are the privacy papers?", "show me all the jobs": the plural noun ends the question (not "what
    # are the RL papers about?", "what are the jobs in Seattle looking for?", "… the skills the jobs need?")
    rf"|\b(?:what\s+(?:are|were)|(?:show|give|tell)\s+me)\s+(?:all\s+)?the"
    rf"(?:\s+(?!(?:of|the|in|for|by|that|both|and|on|about)\b)[\w-]+){{0,3}}?\s+(?:{_ENTRIES})"
    rf"(?:\s+(?:here|there|in\s+(?:the\s+)?(?:guide|index|docs)))?\s*[?.!]*\s*$",
    re.I,
)
# "Which paper is listed under …", "What is the title of …", "whats the RAG paper called": the answer is
# an entry itself.
_ENTRY_NOUN = rf"\s+(?:{_ANY_ENTRY}|titles?|entry|entries|sources?)\b"
ENTRY_QUESTION_RE = re.compile(
    rf"\bwhich\b(?:\s+[\w’'-]+){{0,3}}?{_ENTRY_NOUN}|\bwhat(?:[’']?s)?\b(?:\s+[\w’'-]+){{0,2}}?{_ENTRY_NOUN}", re.I
)


# The words that say what an entry is about: "the paper about X", "a posting that involves Y" ("on X"
# too, where the sentence's frame makes it a topic, not a place).
TOPIC_VERBS = (
    r"about|regarding|concerning|covering|related to|dealing with|deals? with|focus(?:ed|es)? on|"
    r"address(?:es|ing)?|stud(?:y|ies|ying)|propos(?:e|es|ing)|us(?:e|es|ing)|involv(?:e|es|ing)"
)
# Where a topic ends: a clause that names something else ("… written by X", "… with more than 2 authors").
TOPIC_END = r"(?=\s+(?:by|with|from|have|has|had|that|which|written|wrote|authored|and|in the|at the)\b|[?!,;]|$)"

# "anything on differential equations?", "is there anything about causality?", "got anything on …": whether
# something is about a topic, which naming the entry or section answers, though no kind of entry is named.
ANYTHING_ON = (
    r"(?:(?:is|are)\s+there\s+|(?:have\s+you\s+)?got\s+|do\s+you\s+have\s+)?anything\s+"
    r"(?:in\s+(?:there|here|(?:the|these|your)\s+(?:docs|documents|documentation|guide|index|sources|files))\s+)?"
    r"(?:on|about|regarding|covering)"
)
ANYTHING_ON_RE = re.compile(rf"^\s*{ANYTHING_ON}\b", re.I)

# A question answered yes or no: it opens with a verb ("Is REPOFORMER filed under …?", "Does MADA have …?").
YES_NO_RE = re.compile(r"^\s*(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would)\b", re.I)


def mentioned_kinds(question: str) -> set[str]:
    """The kinds of entry the question's words name ("papers" → paper, "openings" → posting)."""
    return {kind for kind, words in ENTRY_WORDS.items() if re.search(rf"\b(?:{words})\b", question, re.I)}


# "What did Anoop Deoras co-author?", "What has she written?", "what did Bo Li publish": the works of the
# people it names, though it names no kind of entry ("What language is it written in?" asks no such thing).
AUTHORSHIP_RE = re.compile(
    r"^\s*what\s+(?:else\s+)?(?:did|has|have|had)\b.*"
    r"\b(?:write|written|co-?author(?:ed)?|authored|publish(?:ed)?)\b",
    re.I,
)


def asked_kinds(question: str) -> set[str]:
    """The kinds of entry a list question asks for ("papers" → paper, "What did X write?" → paper);
    empty if it is not one."""
    kinds = mentioned_kinds(question) if LIST_QUESTION_RE.search(question) else set()
    if not kinds and AUTHORSHIP_RE.search(question) and not ENTRY_QUESTION_RE.search(question):
        kinds = {PAPER}
    return kinds


def asks_for_entry(question: str) -> bool:
    """True when naming an entry answers the question ("Which paper is listed under Privacy?")."""
    return bool(asked_kinds(question) or ENTRY_QUESTION_RE.search(question))


# Its name in RAG_DISABLED_RULES: follow-ups read by code (entries named, earlier questions beside);
# switched off, the model rewrites them from the conversation.
FOLLOW_UP = "follow-up"

# What a follow-up calls the entry the previous answer was about: "it", "its", "this paper", "that posting".
REFERENCE_RE = re.compile(rf"\b(?:(?:this|that) (?:{_ANY_ENTRY})|its?)\b", re.I)


# What a follow-up calls the people of the entry the previous answer was about: "Did any of them write
# another paper?", "What else have they written?".
PEOPLE_RE = re.compile(r"\b(?:they|them|those (?:authors|people)|these (?:authors|people))\b", re.I)


def name_references(question: str, name: str, people: bool = False) -> str:
    """ "Who wrote it?" → "Who wrote “EMC2: …”?"; with `people` (a paper's authors), "Did any of them …"
    → "Did any of the authors of “EMC2: …” …"; the question as it is when it refers to nothing."""
    if people:
        question = PEOPLE_RE.sub(lambda m: f"the authors of {name}", question)

    def named(match: re.Match[str]) -> str:
        text = f"{name}’s" if match.group(0).lower() == "its" else name
        return text[0].upper() + text[1:] if match.start() == 0 else text

    return REFERENCE_RE.sub(named, question)


# What a follow-up calls the several entries the previous answer named: "Which areas are those in?",
# "Who wrote these papers?", "Who is on both?" ("they" and "them" are left alone: of papers, they are
# as likely their authors).
ENTRIES_RE = re.compile(rf"\b(?:those|these|both)(?:\s+(?:{_ANY_ENTRY}|ones))?\b", re.I)
# A place in a list, as a question says it ("the second one", "the last author").
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1}
# One of them by its place in the answer ("the second one") or by words of its name ("the Gurugram one",
# "the diffusion models one").
ONE_OF_RE = re.compile(rf"\bthe\s+((?:[\w-]+\s+){{0,2}}[\w-]+)\s+(?:one|{_ANY_ENTRY})\b", re.I)


def name_one_of(question: str, names: list[str]) -> str:
    """ "What about the Gurugram one?" after an answer naming the Bengaluru and the Gurugram postings →
    "What about the Gurugram posting?"; "the second one" → the second name. The question as it is
    when it picks none of them (or more than one)."""

    def picked(match: re.Match[str]) -> str:
        word = match.group(1).lower()
        if word in ORDINALS:
            index = ORDINALS[word]
            return names[index] if -len(names) <= index < len(names) else match.group(0)
        said = terms(word)
        holding = [name for name in names if said and said <= terms(name)]
        return holding[0] if len(holding) == 1 else match.group(0)

    return ONE_OF_RE.sub(picked, question)


def name_entries(question: str, names: list[str]) -> str:
    """ "Which research areas are those in?" → "Which research areas are “A” and “B” in?"."""
    listed = joined(names)
    # "Who is on both papers?" keeps its "both", which asks for what the entries share.
    return ENTRIES_RE.sub(lambda m: ("both " if m.group(0).lower().startswith("both") else "") + listed, question)


# A second question joined to the first: "how do I count -vvv flags, and what's the value when it isn't
# passed?", "can an option read an env var, and what if I give it several?"; or two questions in a row.
# ("… and are about speech?" goes on asking about the same thing: only a question word starts another.)
_WH = r"(?:what|what[’']s|whats|which|who|where|when|why|how)"
NEXT_CLAUSE_RE = re.compile(rf",?\s+and\s+(?:also\s+|then\s+)?(?={_WH}\b)|\?\s+(?=\S)", re.I)
MIN_CLAUSE_WORDS = 3


def clauses(question: str) -> list[str]:
    """The questions a question asks, in order: itself when it asks one, else each of its parts
    (a part of fewer than MIN_CLAUSE_WORDS words is not a question of its own and stays with the one before)."""
    parts: list[str] = []
    for part in NEXT_CLAUSE_RE.split(question):
        if parts and len(part.split()) < MIN_CLAUSE_WORDS:
            parts[-1] = f"{parts[-1]} {part}"
        elif part.strip():
            parts.append(part.strip())
    return parts or [question]


# Two things offered: "Briefcase or Nuitka — which one …?", "options vs arguments: which …?",
# "nargs=-1, is that allowed on options or arguments?" (up to two words each side of "or" or "vs").
_SIDE = r"[\w.=\"'`()-]+(?:\s+[\w.=\"'`()-]+)?"
CHOICE_RE = re.compile(rf"({_SIDE})\s+(?:or|vs\.?|versus)\s+({_SIDE})", re.I)


def alternatives(question: str) -> tuple[set[str], set[str]] | None:
    """The two things an "A or B?" question offers, each as the word beside "or" that the other side
    lacks; None when it offers none."""
    match = CHOICE_RE.search(question)
    if match is None:
        return None
    # The word beside "or" that the other side lacks: "capture=sys vs capture=fd" offers sys and fd,
    # "should I use Briefcase or Nuitka" Briefcase and Nuitka.
    before, after = ordered_terms(match.group(1)), ordered_terms(match.group(2))
    first = [t for t in before if t not in after][-1:]
    second = [t for t in after if t not in before][:1]
    return (set(first), set(second)) if first and second else None
