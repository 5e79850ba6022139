"""Answers the index metadata gives exactly, written by code: every item named, every item cited.

"Which papers did Parameswaran Raman co-author?", "How many postings are in Boston?", "Which area
is MADA listed under?" and "Which author do MADA and EMC2 share?" have exact answers in the
metadata. A 1.5B model given those facts still drops items, miscounts, picks the wrong end of an
author list or says the sources do not say; so code writes the answer from the catalog match and
the numbered context, and the citation check verifies its citations like any other answer's.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rag.assistant.catalog import Match
from rag.assistant.context import Context, Source
from rag.assistant.names import cities, label_of, short_name
from rag.assistant.questions import ORDINALS, TOPIC_END, TOPIC_VERBS, YES_NO_RE, asked_kinds
from rag.assistant.retrieve import Retrieval
from rag.assistant.schema import (
    ANSWER_NOUNS,
    AREA,
    AUTHOR,
    AUTHORS,
    CITY,
    COUNTRY,
    FIELD_NOUNS,
    KIND,
    KIND_NOUNS,
    LAYOUT_WORDS,
    PAPER,
    POSTING,
    TITLE,
    authors_of,
    kind_words,
    nouns_of,
)
from rag.assistant.spelling import spelt_out
from rag.assistant.text import initials, joined, ordered_terms, phrase_form, terms
from rag.ingest.entries import place_names

PHRASES = {
    AUTHOR: "{value} is an author of {count}",
    AREA: "{count} {are} listed under {value}",
    CITY: "{count} {are} in {value}",
    COUNTRY: "{count} {are} in {value}",
}


@dataclass(frozen=True)
class Listing:
    """A code-written answer: sentences that cite their sources, and whole-index counts that cannot."""

    cited: str
    counted: str
    rule: str = ""  # which rule wrote it: its RAG_DISABLED_RULES name, or "list", "field", "shared-authors"
    context: Context | None = None  # the sources it cites, when it shows more of them than retrieval gave

    @property
    def text(self) -> str:
        if self.counted.endswith("\n"):  # a count above a list of lines
            return self.counted + self.cited
        return " ".join(part for part in (self.counted, self.cited) if part)


def list_answer(retrieval: Retrieval, context: Context, disabled: frozenset[str] = frozenset()) -> Listing | None:
    """The whole answer to a list or count question the catalog matched (or to a question about one
    field of a named paper, or the authors named papers share), or None.

    Each matched name gets one sentence: the exact count, then every entry, named and cited by the
    number of the source that holds it. A question about a whole kind ("how many postings in
    total?") gets the count from the index, which no single source can support. None when an entry
    did not fit in the context (it could not be cited) or when the question asks about something else.
    """
    if NEGATION_RE.search(retrieval.question):
        return None  # "Which privacy paper is NOT about fine-tuning?": a list of them all would not answer it
    # "Is Elena Ferreira an author of the KESTREL paper?" asks about one paper, not whether she is on any.
    if FIELD_CHECK not in disabled and (checked := field_check(retrieval.question, context, retrieval.matches)):
        return Listing(checked[1], checked[0], rule=FIELD_CHECK)
    kinds = asked_kinds(retrieval.question)
    existence = not kinds and bool(EXISTS_RE.search(retrieval.question))
    if existence:  # "Is Bellevue one of the job locations?": yes, and which entries
        kinds = {i.split("/", 1)[0] for m in retrieval.matches if m.field in EXISTS_FIELDS for i in m.ids}
    if not kinds or not retrieval.matches:
        question, found = retrieval.question, retrieval.matches
        if written := shared_authors(question, context, found):
            return Listing(written, "", rule="shared-authors")
        written = field_answer(question, context, found)
        return Listing(written, "", rule="field") if written else None
    if NARROWING not in disabled and narrowed(retrieval, context):
        return None
    where = {entry_id: source for source in context.sources for entry_id in source.ids}
    cited, counted = [], []
    found: dict[str, list[str]] = {}
    for match in retrieval.matches:
        if match.field == KIND:
            if match.value in kinds and not terms(retrieval.question) & CONDITION_WORDS:
                counted.append(f"The index holds {_count(len(match.ids), match.value)}.")
            continue
        ids = [i for i in match.ids if i.split("/", 1)[0] in kinds]
        if not ids:
            continue
        if any(i not in where for i in ids):
            return None
        cited.append(_sentence(match, ids, where))
        found[match.value] = ids
    if not cited and not counted:
        return None
    lead = []
    # "Did Amazon have any code completion paper?" names its kind, yet asks yes or no: with one name
    # matched the list is the "Yes" (two names' lists may not meet, so those say no "Yes").
    asks_yes = (
        YES_TO_A_LIST not in disabled
        and len(found) == 1
        and bool(EXISTS_RE.search(retrieval.question))
        and not terms(retrieval.question) & CONDITION_WORDS  # "… with more than five authors?": not checked
    )
    if existence or asks_yes:  # "Is Aaron Roth on more than one paper?" is answered by the count, not the name
        several = SEVERAL_RE.search(retrieval.question) is not None
        lead = ["Yes." if not several or any(len(ids) > 1 for ids in found.values()) else "No, only one."]
    return Listing(" ".join(cited), " ".join(lead + counted), rule="list")


NARROWING = "narrowing"  # its name in RAG_DISABLED_RULES
YES_TO_A_LIST = "yes-to-a-list"  # its name in RAG_DISABLED_RULES
# "Which RL paper is about target networks?", "which jobs use Python?": a topic the entries asked for
# are about, right after the noun that asks for them.
TOPIC_RE = re.compile(
    rf"\b(?:{kind_words(PAPER, POSTING)})\s+(?:(?:that|which)\s+)?(?:(?:is|are|was|were)\s+)?"
    rf"(?:on|{TOPIC_VERBS})\s+(?P<topic>.+?){TOPIC_END}",
    re.I,
)


def narrowed(retrieval: Retrieval, context: Context) -> bool:
    """True when the question asks for the entries the names select that are about a topic the names do
    not say: listing them all would not answer "Which RL paper is about target networks?" (which one is,
    code cannot read; the model can, with every entry in its prompt)."""
    asked, meanings = spelt_out(retrieval.question)
    topic = TOPIC_RE.search(asked)
    if topic is None:
        return False
    values = [m.value for m in retrieval.matches]
    values += [place_names(m.value, "") or "" for m in retrieval.matches if m.field == COUNTRY]
    said = " ".join([*values, *(initials(v) for v in values), *meanings, *meanings.values()])
    said += " " + " ".join(nouns_of(kind) for kind in KIND_NOUNS) + " " + LAYOUT_WORDS
    left = terms(topic.group("topic")) - terms(said) - CONDITION_WORDS - context.title_words()
    return any(not word.isdigit() for word in left)


def absent_answer(retrieval: Retrieval, context: Context, about_postings: bool) -> Listing:
    """ "No: the sources do not mention Seattle." for a yes/no question, else "The sources do not mention
    2023."; a question about postings also gets where the postings are."""
    said = f"The sources do not mention {' or '.join(dict.fromkeys(retrieval.absent))}."
    if EXISTS_RE.search(retrieval.question) or ANY_RE.match(retrieval.question) or ARE_ANY_RE.match(retrieval.question):
        said = "No: t" + said[1:]
    places = sorted({c for s in context.sources if s.kind == POSTING for c in cities(s)})
    held = {i for s in context.sources for i in s.ids}
    whole = retrieval.catalog_ids is not None and set(retrieval.catalog_ids) <= held  # so these are all places
    if about_postings and places and whole:
        said += f" The job postings are in {joined(places)}."
    return Listing("", said)


# A question that asks for what something is not: code lists what matches, which would answer the opposite.
NEGATION_RE = re.compile(r"\bnot\b|n[’']t\b|\bexcept\b|\bwithout\b|\bother than\b", re.I)
# A count of a whole kind answers "how many papers are in the guide?", not "how many papers have only one
# author?": a field or a condition beside the kind asks for something narrower.
CONDITION_WORDS = terms(
    "author authors people area areas topic topics city cities country countries only single one two three "
    "four five more fewer less least most than each per average over under"
)
# "more than one", "several": a yes/no question about a count, not about a name.
SEVERAL_RE = re.compile(r"\b(?:more than one|multiple|several|two or more|at least two)\b", re.I)
# A yes/no question about whether a named person or place is in the index at all.
EXISTS_RE = re.compile(
    r"^\s*(?:is|are) there\b|\bone of the\b"
    r"|^\s*(?:does|do|did|has|have)\b.*\b(?:have|write|wrote|author|any|publish\w*|papers?|jobs?|postings?)\b"
    r"|^\s*(?:is|was)\b.*\b(?:on|co-?author|author|among)\b.*\b(?:papers?|jobs?|postings?)\b",
    re.I,
)
EXISTS_FIELDS = (AUTHOR, CITY, COUNTRY, AREA)
ANY_RE = re.compile(r"^\s*any(?:thing)?\b", re.I)  # "any openings in Seattle?", "anything on causality?"
# "Are any of the postings in Seattle?": yes or no, which a name the index never mentions answers "No".
ARE_ANY_RE = re.compile(r"^\s*(?:is|are)\s+any\b", re.I)
# A question about one field of one paper the question names by its title (or its short name, "EMC2").
# An author's place in the list: "the first author", "the second listed author", "the first and last authors".
_ORDINAL = "|".join(ORDINALS)
POSITION = "position"
FIELD_QUESTIONS = {
    POSITION: re.compile(rf"\b(?:{_ORDINAL})(?:\s+and\s+(?:{_ORDINAL}))?(?:\s+listed)?\s+authors?\b", re.I),
    # "which area / section / heading is it under?", "filed under": not "which topics" (what it covers) nor
    # "what section of the paper" (a part of its text), nor "listed in" (what its text lists).
    AREA: re.compile(
        rf"\bresearch areas?\b|\b(?:what|which)\s+(?!topics?\b(?!\s+(?:areas?|headings?)\b))(?:{FIELD_NOUNS[AREA]})\b"
        r"(?!\s+of\s+(?:the|its|this|that)\b)"
        r"|\b(?:listed|filed|grouped|categori[sz]ed|classified)\s+under\b|\bfiled\s+in\b",
        re.I,
    ),
    AUTHORS: re.compile(r"^\s*(?:who\b|list the authors\b)|\bwho (?:wrote|authored)\b", re.I),
    # "what's the ASR paper called?", "what is the title of the RAG paper?": its name, the one field a
    # small model answers with "the sources do not say" when the paper is named by its area.
    TITLE: re.compile(
        r"^\s*what(?:[’']?s| is| was)\s+(?:the\s+|its\s+)?(?:(?:full|exact|whole)\s+)?(?:title|name)\s+of\b"
        r"|^\s*what(?:[’']?s| is| was)\s+(?:the\s+)?(?:(?!of\b)[\w-]+\s+){0,3}?(?:paper|work|publication)\s+"
        r"(?:called|named|titled)\b(?!\s+\w)"
        r"|^\s*what(?:[’']?s| is| was)\s+[\w-]+\s+called\b(?!\s+\w)"
        r"|\bwhat(?:[’']?s| is)\s+its\s+(?:full\s+)?(?:title|name)\b",
        re.I,
    ),
}
# Questions with a condition or a second part are left to the model.
COMPOUND_RE = re.compile(r"\b(?:besides|both|other than|except|also|apart from)\b|\band (?:what|which|who|how)\b", re.I)


def field_answer(question: str, context: Context, matches: list[Match] = ()) -> str | None:
    """ "Which research area is EMC2 listed under?" → "“EMC2: …” is listed under Contrastive learning [1]."

    The title, authors and area of a paper are exact metadata: code states them, cited, when the
    question names one paper of the context (or several, for their areas) and asks for one of these fields.
    """
    if COMPOUND_RE.search(question):
        return None
    fields = [name for name, pattern in FIELD_QUESTIONS.items() if pattern.search(question)]
    if POSITION in fields:  # "Who is the first author of …" asks for one name, not the list
        fields = [f for f in fields if f != AUTHORS]
    named = named_papers(question, context, matches)
    if len(fields) != 1 or not named or (len(named) > 1 and fields[0] != AREA):
        return None
    match = FIELD_QUESTIONS[POSITION].search(question)
    places = re.findall(rf"\b(?:{_ORDINAL})\b", match.group(0).lower()) if match else []
    if len(places) < len(re.findall(rf"\b(?:{_ORDINAL})\b", question, re.I)):
        return None  # "the first, second and third authors": more places than the answer would name
    written = [_field_sentence(fields[0], source, places) for source in named]
    return " ".join(written) if all(written) else None


def _field_sentence(field: str, source: Source, places: list[str] = ()) -> str | None:
    meta = source.nodes[0].metadata
    title, area = f"“{label_of(source)}”", str(meta.get(AREA) or "")
    authors = authors_of(meta)
    if field == AREA:
        return f"{title} is listed under {area} [{source.n}]." if area else None
    if field == TITLE:
        return f"The paper is {title} [{source.n}]."
    if not authors:
        return None
    if field == AUTHORS:
        return f"{title} is by {joined(authors)} [{source.n}]."
    if any(ORDINALS[place] >= len(authors) for place in places):
        return None
    names = joined([authors[ORDINALS[place]] for place in places])
    if len(places) == 1:
        return f"The {places[0]} listed author of {title} is {names} [{source.n}]."
    return f"The {' and '.join(places)} listed authors of {title} are {names} [{source.n}]."


FIELD_CHECK = "field-check"  # its name in RAG_DISABLED_RULES
# What a yes/no question says when it asks about a paper's filing or its authors ("Does KESTREL use
# graph learning?" asks about its method, which the area does not answer).
CHECK_CUES = {
    AREA: re.compile(r"\b(?:filed|listed|under|areas?|categor(?:y|ies|ised|ized)|sections?)\b", re.I),
    AUTHOR: re.compile(r"\b(?:co-?authors?|authored|authors?|wrote|written|by)\b", re.I),
}
EITHER_RE = re.compile(r"\bor\b", re.I)


def field_check(question: str, context: Context, matches: list[Match] = ()) -> tuple[str, str] | None:
    """ "Is REPOFORMER filed under retrieval-augmented generation?" → ("No:", "“REPOFORMER: …” is listed
    under Code completion [20]."): a yes/no question about the area or the authors of one paper it names.

    Rule "field-check" serves yes/no questions the metadata answers exactly, where a small model tends
    to say yes: the verdict, and the paper's area or author list as the source states it.
    """
    if not YES_NO_RE.match(question) or COMPOUND_RE.search(question) or FIELD_QUESTIONS[POSITION].search(question):
        return None
    if EITHER_RE.search(question):  # "Is it by A or B?": not a question every name must pass
        return None
    asked = [m for m in matches if m.field in (AREA, AUTHOR) and CHECK_CUES[m.field].search(question)]
    # The paper by its own name, the area or author asked about set aside: "the data preparation paper"
    # names an area, and "retrieval-augmented generation" is no title's words.
    rest = phrase_form(question)
    for match in asked:
        rest = rest.replace(phrase_form(match.value), " | ")
    named = named_papers(rest, context)
    if len(named) != 1 or len({m.field for m in asked}) != 1 or (asked[0].field == AREA and len(asked) > 1):
        return None
    paper = named[0]
    holds = all(set(paper.ids) & set(m.ids) for m in asked)
    sentence = _field_sentence(AREA if asked[0].field == AREA else AUTHORS, paper)
    return ("Yes:" if holds else "No:", sentence) if sentence else None


# "Which author appears on both …?", "is anyone on both X and Y?", "does anyone from X also show up on Y?"
# (not "who wrote X? also, who wrote Y?", nor "does anyone know if X and Y are both about …").
SHARED_RE = re.compile(
    r"\b(?:authors?|who)\b.*\b(?:both|in common|shared?|each of)\b|\b(?:both|in common)\b.*\bauthors?\b"
    r"|\b(?:anyone|anybody|someone|people)\b.*\b(?:(?:on|in|wrote|write)\s+both"
    r"|also\s+(?:on|in|wrote|write|appears?|appeared|shows?\s+up|showed\s+up|worked))\b",
    re.I,
)


def shared_authors(question: str, context: Context, matches: list[Match] = ()) -> str | None:
    """ "Which author appears on both MADA and EMC2 (besides X)?" → the authors the named papers share.

    A set intersection: exact in code, and a relation the citation check cannot verify in a
    model's sentence (each name it writes is on one of the papers, just not on both).
    """
    if not SHARED_RE.search(question):
        return None
    named = named_papers(question, context, matches)
    if len(named) < 2:
        return None
    lists = [authors_of(s.nodes[0].metadata) for s in named]
    common = [a for a in lists[0] if all(a in other for other in lists[1:])]
    shared = [a for a in common if phrase_form(a) not in phrase_form(question)]  # "besides Parameswaran Raman"
    papers = ("both " if len(named) == 2 else "all of ") + " and ".join(f"{short_name(s)} [{s.n}]" for s in named)
    if not shared:
        return f"No {'other ' if common else ''}author is listed on {papers}."
    return f"{joined(shared)} {'is an author' if len(shared) == 1 else 'are authors'} of {papers}."


def named_papers(question: str, context: Context, matches: list[Match] = ()) -> list[Source]:
    """The papers a question names, in context order: by whole title, by the short name before a colon
    ("MADA"), by two title words in a row that no other title has ("the zeroth-order fine-tuning
    paper", "the target-network paper"), or as the one paper of a research area it names ("the ASR
    paper", "the continual learning paper")."""
    papers = [s for s in context.sources if s.kind == PAPER]
    pairs = {s.n: _word_pairs(label_of(s)) for s in papers}
    words = Counter(word for s in papers for word in set(ordered_terms(label_of(s))))
    # A pair names a paper when one of its words is in no other title ("zeroth", "target"): "large
    # language" is in one title only, yet every LLM paper is about large language models.
    asked = {pair for pair in _word_pairs(question) if min(words[pair[0]], words[pair[1]]) == 1}
    named = [s for s in papers if names_paper(question, s) or pairs[s.n] & asked]
    areas = [m for m in matches if m.field == AREA and len(m.ids) == 1]
    if not named and len(areas) == 1:
        named = [s for s in papers if areas[0].ids[0] in s.ids]
    # "… and the transfer learning paper": an area named as a paper's name names its one paper beside others.
    text = phrase_form(question)
    called = {m.ids[0] for m in areas if re.search(rf"\bthe {re.escape(phrase_form(m.value).strip())} papers?\b", text)}
    return named + [s for s in papers if s not in named and set(s.ids) & called]


def _word_pairs(text: str) -> set[tuple[str, str]]:
    words = ordered_terms(text)
    return set(zip(words, words[1:], strict=False))


def names_paper(question: str, source: Source) -> bool:
    """Does the question name this paper: its whole title, or the short name before a colon ("MADA")?"""
    title = phrase_form(label_of(source))
    short = phrase_form(label_of(source).split(":")[0]) if ":" in label_of(source) else ""
    text = phrase_form(question)
    return title in text or (len(short.strip()) >= 3 and short in text)


def _count(count: int, kind: str) -> str:
    singular, plural = ANSWER_NOUNS.get(kind, ("entry", "entries"))
    return f"{count} {singular if count == 1 else plural}"


def _sentence(match: Match, ids: list[str], where: dict[str, Source]) -> str:
    kind = ids[0].split("/", 1)[0]
    value = (place_names(match.value, "") or match.value) if match.field == COUNTRY else match.value
    lead = PHRASES[match.field].format(value=value, count=_count(len(ids), kind), are="is" if len(ids) == 1 else "are")
    holding = {where[i].n: where[i] for i in ids}  # one item per source, in context order
    items = [
        f"{_item(source, [i for i in ids if i in source.ids], show_area=match.field != AREA)} [{n}]"
        for n, source in sorted(holding.items())
    ]
    return f"{lead}: {'; '.join(items)}."


def _item(source: Source, ids: list[str], show_area: bool) -> str:
    if source.kind == POSTING:
        copies = f" ({len(ids)} postings with the same text)" if len(ids) > 1 else ""
        return f"{short_name(source, ids)}{copies}"
    area = source.nodes[0].metadata.get(AREA) if show_area else ""
    return f"“{label_of(source)}”" + (f" ({area})" if area else "")
