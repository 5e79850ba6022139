"""Questions about the whole index that its metadata answers exactly: superlatives, counts, comparisons.

"Which paper has the most authors?", "Which area has the most papers?", "Who is on the most papers?",
"How many research areas are there?", "How many authors does COLLAGE have?", "Which areas have more
than one paper?" and "Which has the longer author list, A or B?" need every entry counted; a 1.5B
model reading the corpus guesses them. Code counts the catalog and writes the answer, naming and
citing each entry it picks; the whole-index figures (a rank, a count) are the `counted` part, which
no single source could support.

Each rule is one function, named in `RULES` for the class of question it serves; `rag exam` runs
with a rule off (`RAG_DISABLED_RULES=superlative`) to measure what it is worth. `catalog_answer`, the
answer path's one call for an answer written by code, tries them before the lists of `listing`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from rag.assistant.context import Context, Source
from rag.assistant.doc_lists import doc_list_answer
from rag.assistant.listing import NEGATION_RE, SEVERAL_RE, Listing, absent_answer, list_answer, named_papers
from rag.assistant.names import label_of, short_name
from rag.assistant.questions import asked_kinds, mentioned_kinds
from rag.assistant.retrieve import Retrieval
from rag.assistant.schema import (
    ANSWER_NOUNS,
    AREA,
    AUTHOR,
    CAPTION,
    CITY,
    COUNTRY,
    FIELD_NOUNS,
    FIELD_OF_KIND,
    KIND,
    LAYOUT_WORDS,
    PAPER,
    POSTING,
    authors_of,
    kind_words,
    nouns_of,
)
from rag.assistant.sections import section_answer
from rag.assistant.spelling import ABSENT, as_typed, spelt_out
from rag.assistant.text import initials, joined, phrase_form, terms
from rag.ingest.entries import place_names

MOST_RE = re.compile(r"\b(most|largest|biggest|longest|highest|greatest)\b", re.I)
FEWEST_RE = re.compile(r"\b(fewest|(?<!at )least|smallest|shortest|lowest)\b", re.I)
# "the most common research area", "the most popular city": a superlative whose counted noun is implied.
COMMON_RE = re.compile(r"\b(?:most|least) (?:common|popular|frequent)\b", re.I)
PLACE_WORDS_RE = re.compile(r"\b(?:city|cities|locations?|places?|offices?|countr(?:y|ies))\b", re.I)
SECOND_RE = re.compile(r"\bsecond[- ]?(?:most|largest|biggest|longest|highest)\b", re.I)
AUTHOR_COUNT_RE = re.compile(r"\bauthors?\b|\bauthor list\b|\bco-?authors\b|\bpeople\b|\bnames\b", re.I)
POSTING_WORDS_RE = re.compile(rf"\b(?:{kind_words('posting')})\b", re.I)
PAPER_WORDS_RE = re.compile(rf"\b(?:{kind_words('paper')})\b", re.I)
AREA_WORDS_RE = re.compile(rf"\b(?:{FIELD_NOUNS[AREA]})\b", re.I)
WHO_RE = re.compile(r"^\s*(?:who|which (?:author|person|researcher)|what (?:author|person|researcher))\b", re.I)
HOW_MANY_RE = re.compile(r"\bhow many\b|\bnumber of\b|\bcount\b", re.I)
LONGER_RE = re.compile(r"\b(?:longer|bigger|larger|more authors|more co-?authors|more people)\b", re.I)


def _authors(source: Source) -> list[str]:
    return authors_of(source.nodes[0].metadata)


def _area(source: Source) -> str:
    return str(source.nodes[0].metadata.get(AREA) or "")


def _papers(context: Context, retrieval: Retrieval) -> list[Source]:
    """The papers of the context, narrowed to a research area the question names ("among the RL papers")."""
    papers = [s for s in context.sources if s.kind == PAPER]
    areas = {m.value for m in retrieval.matches if m.field == AREA}
    return [s for s in papers if _area(s) in areas] if areas else papers


def _named_papers(retrieval: Retrieval, context: Context) -> list[Source]:
    return named_papers(retrieval.question, context, retrieval.matches)


def _cite(sources: list[Source]) -> str:
    return "; ".join(f"“{label_of(s)}” [{s.n}]" for s in sources) + "."


def _rank(counts: dict, question: str) -> tuple[int, list]:
    """The count and the keys at the rank the question asks for: most, second most, or fewest (ties kept)."""
    levels = sorted(set(counts.values()), reverse=not FEWEST_RE.search(question))
    level = levels[1] if SECOND_RE.search(question) and len(levels) > 1 else levels[0]
    return level, [k for k, v in counts.items() if v == level]


def _ordinal(question: str) -> str:
    if SECOND_RE.search(question):
        return "the second most"
    return "the fewest" if FEWEST_RE.search(question) else "the most"


def superlative(retrieval: Retrieval, context: Context) -> Listing | None:
    """The paper with the most (fewest, second most) authors, the area with the most papers, the author
    on the most papers."""
    question = retrieval.question
    if not (MOST_RE.search(question) or FEWEST_RE.search(question) or SECOND_RE.search(question)):
        return None
    if SEVERAL_RE.search(question):  # "at least two", "more than one": a threshold, not a rank
        return None
    rank = _ordinal(question)
    named = [m for m in retrieval.matches if m.field != KIND]
    if PLACE_WORDS_RE.search(question) and (POSTING_WORDS_RE.search(question) or COMMON_RE.search(question)):
        return None if named else _most_postings(context, question, rank)  # "which city in India …" is narrower
    papers = _papers(context, retrieval)
    if not papers:
        return None
    if WHO_RE.search(question) and PAPER_WORDS_RE.search(question):
        per_author = Counter(a for s in papers for a in _authors(s))
        if not per_author:
            return None
        level, names = _rank(per_author, question)
        on = [s for s in papers if set(_authors(s)) & set(names)]
        who = joined(names)
        tie = f" (a tie of {len(names)})" if len(names) > 1 else ""
        return Listing(_cite(on), f"{who} {'is' if len(names) == 1 else 'are'} on {rank} papers{tie}: {level} each.")
    papers_asked = PAPER_WORDS_RE.search(question) or COMMON_RE.search(question)
    if AREA_WORDS_RE.search(question) and papers_asked and not AUTHOR_COUNT_RE.search(question):
        per_area = Counter(_area(s) for s in papers if _area(s))
        if not per_area:
            return None
        level, areas = _rank(per_area, question)
        chosen = [s for s in papers if _area(s) in areas]
        return Listing(
            _cite(chosen), f"{' and '.join(areas)} {'has' if len(areas) == 1 else 'have'} {rank} papers, {level}:"
        )
    if AUTHOR_COUNT_RE.search(question) and re.search(r"\bwhich\b|\bwhat\b", question, re.I):
        per_paper = {s.n: len(_authors(s)) for s in papers}
        level, numbers = _rank(per_paper, question)
        chosen = [s for s in papers if s.n in numbers]
        areas = sorted({m.value for m in retrieval.matches if m.field == AREA})
        where = f" among the {len(papers)} papers" + (f" in {' and '.join(areas)}" if areas else "")
        return Listing(
            _cite(chosen), f"{'The paper' if len(chosen) == 1 else 'The papers'} with {rank} authors{where} ({level}):"
        )
    return None


def _most_postings(context: Context, question: str, rank: str) -> Listing | None:
    """The city (or country) with the most (fewest) job postings, each posting counted once."""
    country = bool(re.search(r"\bcountr(?:y|ies)\b", question, re.I))
    places = _by_place(context.sources, country)
    if not places:
        return None
    level, chosen = _rank({place: sum(len(ids) for _, ids in held) for place, held in places.items()}, question)
    verb = "has" if len(chosen) == 1 else "have"
    return Listing(
        _place_items(places, chosen, country), f"{' and '.join(chosen)} {verb} {rank} job postings, {level}:"
    )


def _by_place(sources: list[Source], country: bool) -> dict[str, list[tuple[Source, list[str]]]]:
    """Each city (or country) of the postings, with the sources and posting ids it has."""
    places: dict[str, list[tuple[Source, list[str]]]] = {}
    for source in (s for s in sources if s.kind == POSTING):
        for node in source.nodes:
            code = str(node.metadata.get(COUNTRY) or "")
            place = (place_names(code, "") or code) if country else str(node.metadata.get(CITY) or "")
            if not place:
                continue
            held = places.setdefault(place, [])
            if held and held[-1][0] is source:
                held[-1][1].append(node.node_id)
            else:
                held.append((source, [node.node_id]))
    return places


def _place_items(places: dict[str, list[tuple[Source, list[str]]]], chosen: list[str], country: bool) -> str:
    """ "Boston [27]", or for a country (which the postings do not spell out) "Spain: the Barcelona
    posting [26], the Madrid posting [30]": each place's postings, cited."""
    if not country:
        return "; ".join(f"{p} [{', '.join(str(s.n) for s, _ in places[p])}]" for p in chosen) + "."
    items = [f"{p}: " + ", ".join(f"{short_name(s, ids)} [{s.n}]" for s, ids in places[p]) for p in chosen]
    return "; ".join(items) + "."


def counts(retrieval: Retrieval, context: Context) -> Listing | None:
    """How many authors a named paper has."""
    question = retrieval.question
    if not HOW_MANY_RE.search(question):
        return None
    named = _named_papers(retrieval, context)
    if len(named) == 1 and AUTHOR_COUNT_RE.search(question):
        paper, authors = named[0], _authors(named[0])
        listed = joined(authors)
        many = f"{len(authors)} author{'' if len(authors) == 1 else 's'}"
        return Listing(f"{listed} [{paper.n}].", f"“{label_of(paper)}” has {many}:")
    return None


# "How many research areas are there?", "List all the job locations", "Which countries have postings?",
# "How many different authors are there?": the distinct values of one field over the entries of a kind,
# which only a count over the whole index gives. The question may hold nothing else (no name, no topic):
# "Which authors wrote MADA?" or "Which areas have LLM papers?" ask something narrower.
ANY_FIELD_NOUN_RE = re.compile("|".join(FIELD_NOUNS.values()), re.I)
VALUES_RE = re.compile(
    r"\b(?:how many|number of|which|what|list|name|all)\b"
    r"(?:\s+(?:the|of|different|distinct|unique|all|their|job|jobs'?|posting|paper))*"
    rf"\s+({'|'.join(FIELD_NOUNS.values())})\b|^\s*where\b",
    re.I,
)
# Words such a question may hold besides the field and kind nouns.
VALUES_WORDS = terms(
    "has have does do are is were was "
    "how many number which what list name all different distinct unique there total cover covers covered "
    "listed include included located based where given under in across spread index guide they them pls please "
    "grouped organised organized sorted divided split classified categorised categorized fall "
    f"{nouns_of('paper')} {nouns_of('posting')}"
)


def field_values(retrieval: Retrieval, context: Context) -> Listing | None:
    """The distinct research areas, authors, cities or countries of the index, counted and listed."""
    # "(Active learning, Anomaly detection, etc.)": examples in brackets are an aside, not a narrowing.
    question = re.sub(r"\([^)]*\)", " ", retrieval.question)
    asked = VALUES_RE.search(question)
    if asked is None or any(m.field != KIND for m in retrieval.matches):
        return None
    if asked.group(1) is None:  # "Where are the jobs?"
        field = CITY if POSTING_WORDS_RE.search(question) else ""
    else:
        field = next(f for f, nouns in FIELD_NOUNS.items() if re.fullmatch(nouns, asked.group(1), re.I))
    # The guide's own title words ("the ICML papers") narrow nothing either.
    asked_words = terms(ANY_FIELD_NOUN_RE.sub(" ", question)) - VALUES_WORDS - context.title_words()
    if not field or asked_words or _named_papers(retrieval, context):
        return None
    if mentioned_kinds(question) - {FIELD_OF_KIND[field]}:  # "What countries are the papers from?"
        return None
    entries = [s for s in context.sources if s.kind == FIELD_OF_KIND[field]]
    if field == AREA:
        values = sorted({_area(s) for s in entries if _area(s)})
        return Listing("", f"The index lists {len(values)} research areas: {', '.join(values)}.") if values else None
    if field == AUTHOR:  # counted only: a list of every name would be no answer
        people = {a for s in entries for a in _authors(s)}
        if not people or not HOW_MANY_RE.search(question):
            return None
        return Listing("", f"The {len(entries)} papers have {len(people)} distinct authors.")
    return _places(entries, country=field == COUNTRY)


# "come with / have / get / show a figure (or caption)": papers with one, not papers about images.
FIGURE_RE = re.compile(
    r"\b(?:with|have|has|had|get|gets|got|include|includes|show|shows|shown|illustrated by)\b"
    r"[^?]*?\b(?:figures?|captions?)\b",
    re.I,
)


def captioned(retrieval: Retrieval, context: Context) -> Listing | None:
    """ "Which papers come with a figure?": the papers the guide shows a figure of, whose caption is part of
    the entry's metadata (a small model names the first one or two it reads)."""
    question = retrieval.question
    if not FIGURE_RE.search(question) or asked_kinds(question) != {PAPER} or _named_papers(retrieval, context):
        return None
    papers = [s for s in _papers(context, retrieval) if s.nodes[0].metadata.get(CAPTION)]
    if not papers:
        return None
    counted = f"{len(papers)} {'paper comes' if len(papers) == 1 else 'papers come'} with a figure and its caption:"
    return Listing(_cite(papers), counted)


def _places(postings: list[Source], country: bool) -> Listing | None:
    """Where the postings are: each city (or country) once, with the postings it has, cited."""
    places = _by_place(postings, country)
    if not places:
        return None
    count = sum(len(s.nodes) for s in postings)
    noun = "countries" if country else "places"
    return Listing(
        _place_items(places, sorted(places), country), f"The {count} job postings are in {len(places)} {noun}:"
    )


NUMBER_WORDS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten".split())}
# "more than five authors", "at least 2 papers", "only one paper", "a single author", "several papers".
BOUND_RE = re.compile(
    r"\b(more than|over|at least|fewer than|less than|under|at most|only|exactly|just)\s+(?:a\s+)?"
    r"(\d+|single|" + "|".join(NUMBER_WORDS) + r")\s+(?:(?:different|distinct|separate|listed)\s+)?"
    r"(papers?|authors?|co-?authors?)\b"
    r"|\b(multiple|several|two or more)\s+(papers?|authors?)\b",
    re.I,
)
TESTS = {
    "more than": lambda n, k: n > k,
    "over": lambda n, k: n > k,
    "at least": lambda n, k: n >= k,
    "fewer than": lambda n, k: n < k,
    "less than": lambda n, k: n < k,
    "under": lambda n, k: n < k,
    "at most": lambda n, k: n <= k,
    "only": lambda n, k: n == k,
    "exactly": lambda n, k: n == k,
    "just": lambda n, k: n == k,
}
# "which authors appear on three papers", "which papers have 9 authors": a bare number after a verb or
# preposition is an exact count ("the 24 papers" is not a bound).
BARE_BOUND_RE = re.compile(
    r"\b(?:on|in|has|have|with|wrote|written|authored)\s+(\d+|" + "|".join(NUMBER_WORDS) + r")\s+"
    r"(?:(?:different|distinct|separate|listed)\s+)?(papers?|authors?|co-?authors?)\b",
    re.I,
)
# Words a threshold question may hold besides its subject and its bound.
THRESHOLD_WORDS = terms(
    "which what who how many number list name are is have has there index guide listed in on the of "
    "appear appears wrote written co-wrote authored "
    f"authors author areas area research people researchers {nouns_of('paper')}"
)
SUBJECTS = (
    (AREA, AREA_WORDS_RE),
    (
        AUTHOR,
        re.compile(r"^\s*who\b|\b(?:which|what|how many)\s+(?:[\w-]+\s+)?(?:authors?|people|researchers)\b", re.I),
    ),
    (PAPER, re.compile(r"\b(?:which|what|how many)\s+(?:[\w-]+\s+)?papers?\b", re.I)),
)


def threshold(retrieval: Retrieval, context: Context) -> Listing | None:
    """The papers with more than five authors, the authors on more than one paper, the research areas
    with only one paper: entries whose count of something passes a bound, each named and cited."""
    question = retrieval.question
    bound = BOUND_RE.search(question)
    bare = None if bound else BARE_BOUND_RE.search(question)
    if (bound or bare) is None or any(m.field not in (KIND, AREA) for m in retrieval.matches):
        return None
    if bare:
        word = bare.group(1).lower()
        limit = NUMBER_WORDS.get(word, int(word) if word.isdigit() else -1)
        test, counted, bound = TESTS["exactly"], bare.group(2).lower(), bare
    elif bound.group(4):  # "several papers"
        test, limit, counted = (lambda n, k: n >= k), 2, bound.group(5).lower()
    else:
        word = bound.group(2).lower()
        limit = 1 if word == "single" else NUMBER_WORDS.get(word, int(word) if word.isdigit() else -1)
        test, counted = TESTS[bound.group(1).lower()], bound.group(3).lower()
    before = question[: bound.start()]
    subject = next((name for name, pattern in SUBJECTS if pattern.search(before)), None)
    papers = _papers(context, retrieval)  # "Which RL papers …": those of the area it names
    areas = [m.value for m in retrieval.matches if m.field == AREA]
    codes = " ".join(initials(a) for a in areas)  # "RL"
    asked_words = terms(BARE_BOUND_RE.sub(" ", BOUND_RE.sub(" ", as_typed(question)))) - terms(
        " ".join(areas) + " " + codes
    )
    if not papers or asked_words - THRESHOLD_WORDS:  # "more than one LLM paper" narrows what is counted
        return None
    # "exactly three papers": a bare count says "exactly" (its verb or preposition is the sentence's own).
    phrase = f"exactly {bare.group(1)} {counted}" if bare else bound.group(0).lower()
    if subject == PAPER and counted.startswith(("author", "co")):
        chosen = [s for s in papers if test(len(_authors(s)), limit)]
        items = [f"“{label_of(s)}” ({len(_authors(s))} authors) [{s.n}]" for s in chosen]
        return _passed(items, len(papers), ANSWER_NOUNS[PAPER], phrase)
    if subject == AUTHOR and counted.startswith("paper"):
        on: dict[str, list[Source]] = {}
        for source in papers:
            for author in _authors(source):
                on.setdefault(author, []).append(source)
        chosen = sorted((a for a in on if test(len(on[a]), limit)), key=lambda a: (-len(on[a]), a))
        items = [f"{a} ({len(on[a])}): " + ", ".join(f"“{label_of(s)}” [{s.n}]" for s in on[a]) for a in chosen]
        return _passed(items, len(on), ("author", "authors"), phrase)
    if subject == AREA and counted.startswith("paper"):
        per_area = Counter(_area(s) for s in papers if _area(s))
        chosen = [a for a in per_area if test(per_area[a], limit)]
        items = [f"{a}: " + ", ".join(f"“{label_of(s)}” [{s.n}]" for s in papers if _area(s) == a) for a in chosen]
        return _passed(items, len(per_area), ("research area", "research areas"), phrase)
    return None


def _passed(items: list[str], out_of: int, noun: tuple[str, str], phrase: str) -> Listing:
    verb = "has" if noun[0] != "author" else "is on"
    verbs = "have" if noun[0] != "author" else "are on"
    if not items:
        return Listing("", f"None of the {out_of} {noun[1]} {verbs} {phrase}.")
    lead = f"1 {noun[0]} {verb}" if len(items) == 1 else f"{len(items)} of the {out_of} {noun[1]} {verbs}"
    return Listing("; ".join(items) + ".", f"{lead} {phrase}:")


def longer_author_list(retrieval: Retrieval, context: Context) -> Listing | None:
    """Which of two named papers has more authors."""
    question = retrieval.question
    if not (LONGER_RE.search(question) and AUTHOR_COUNT_RE.search(question)):
        return None
    named = _named_papers(retrieval, context)
    if len(named) != 2:
        return None
    (a, na), (b, nb) = sorted(((s, len(_authors(s))) for s in named), key=lambda p: -p[1])
    if na == nb:
        return Listing(_cite([a, b]), f"Both have {na} authors:")
    return Listing(_cite([a, b]), f"“{label_of(a)}” has more authors, {na}, than “{label_of(b)}”, {nb}:")


ELSEWHERE_RE = re.compile(r"\bauthors? of\b.*\b(?:another|other|else|more|also|elsewhere)\b", re.I)


def authors_elsewhere(retrieval: Retrieval, context: Context) -> Listing | None:
    """Whether the authors of a named paper are on other papers ("Did any of them write another paper?"
    after "Who wrote MADA?", which the chat turns into "… any of the authors of “MADA: …” …")."""
    question = retrieval.question
    if not ELSEWHERE_RE.search(question):
        return None
    named = _named_papers(retrieval, context)
    if len(named) != 1:
        return None
    paper = named[0]
    own = set(_authors(paper))
    others = [(s, [a for a in _authors(s) if a in own]) for s in context.sources if s.kind == PAPER and s.n != paper.n]
    others = [(s, shared) for s, shared in others if shared]
    if not others:
        return Listing(f"“{label_of(paper)}” [{paper.n}].", "No other paper in the index has an author of:")
    items = [f"{' and '.join(shared)} on “{label_of(s)}” [{s.n}]" for s, shared in others]
    return Listing("; ".join(items) + ".", f"Yes, {len(others)} other paper{'s' if len(others) > 1 else ''}:")


COMPARE_RE = re.compile(r"\b(?:more|fewer|less)\b.*\bor\b|\bor\b.*\b(?:more|fewer|less)\b", re.I)


def compare_counts(retrieval: Retrieval, context: Context) -> Listing | None:
    """Which of two named places or people has more entries ("more openings in Boston or in India?")."""
    question = retrieval.question
    named = [m for m in retrieval.matches if m.field in (CITY, COUNTRY, AUTHOR, AREA)]
    if not COMPARE_RE.search(question) or len(named) != 2:
        return None
    kind = POSTING if POSTING_WORDS_RE.search(question) else PAPER
    noun = ANSWER_NOUNS[kind][1]
    where = {i: s for s in context.sources for i in s.ids}
    counts = [(m, [i for i in m.ids if i.startswith(kind + "/") and i in where]) for m in named]
    (a, ids_a), (b, ids_b) = sorted(counts, key=lambda c: -len(c[1]))
    if not ids_a:
        return None
    label = {m.value: m.value for m in named} | {
        m.value: place_names(m.value, "") or m.value for m in named if m.field == COUNTRY
    }
    sources = list({where[i].n: where[i] for i in ids_a + ids_b}.values())
    cited = "; ".join(f"{short_name(s, [i for i in ids_a + ids_b if i in s.ids])} [{s.n}]" for s in sources) + "."
    if len(ids_a) == len(ids_b):
        return Listing(cited, f"{label[a.value]} and {label[b.value]} have as many {noun}, {len(ids_a)} each:")
    return Listing(cited, f"{label[a.value]} has more {noun}: {len(ids_a)}, against {len(ids_b)} for {label[b.value]}:")


# Words that say what kind of entry a negated question asks about, not what the entries hold.
ENTRY_NOUNS = terms(
    f"{nouns_of('paper')} {nouns_of('posting')} "
    "one ones two three area areas section research listed co-author author authors has have does do guide "
    # where an entry is, not what it holds: "which job locations are not in the US?" ("which of these
    # cities …" names the cities themselves)
    f"location locations based located {LAYOUT_WORDS}"
)


def negation(retrieval: Retrieval, context: Context) -> Listing | None:
    """Which of a named set is not in another ("Which of Bernie Wang's papers doesn't have Boran Han as a
    co-author?", "Which AGI postings are not in Boston?", "Which privacy paper is not about fine-tuning?").

    A set difference: the entries the names before the negation select (or, naming none, the entries of
    the asked kind holding its words), minus those the names after it select (or holding its words).
    A list of what matches would answer the opposite, and a small model reads "not" as a detail.
    """
    question = retrieval.question
    asked, meanings = spelt_out(question)
    negated = NEGATION_RE.search(asked)
    if negated is None:
        return None
    before, after = asked[: negated.start()], asked[negated.end() :]
    # An abbreviation's meaning stands where it was typed: "RL papers don't …" names RL before the "not".
    before, after = (
        " ".join([part, *(m for code, m in meanings.items() if re.search(rf"\b{re.escape(code)}s?\b", part))])
        for part in (before, after)
    )
    kind = POSTING if POSTING_WORDS_RE.search(question) else PAPER
    where = {i: s for s in context.sources if s.kind == kind for i in s.ids}
    named = [m for m in retrieval.matches if m.field != KIND]
    excluding = [m for m in named if phrase_form(m.value) in phrase_form(after) or m.value in after.split()]
    including = [m for m in named if m not in excluding]
    include = _selected(including, before, where, every=True)
    exclude = _selected(excluding, after, where, every=False)
    if not include or exclude is None:
        return None
    left = [i for i in where if i in include and i not in exclude]
    if not left or len(left) == len(include):
        return None  # nothing set apart: the question was read wrongly
    noun = ANSWER_NOUNS[kind]
    sources = list({where[i].n: where[i] for i in left}.values())
    cited = "; ".join(f"{short_name(s, [i for i in left if i in s.ids])} [{s.n}]" for s in sources) + "."
    counted = (
        f"{len(left)} of the {len(include)} {noun[len(include) > 1]} {_described(including, before, True)} "
        f"{'is' if len(left) == 1 else 'are'} not {_described(excluding, after, False)}:"
    )
    return Listing(cited, counted)


def _selected(matches: list, words_from: str, where: dict[str, Source], every: bool) -> set[str] | None:
    """The entries the names select (all of them, or any), else those holding the text's own words."""
    if matches:
        sets = [set(m.ids) & set(where) for m in matches]
        return set.intersection(*sets) if every else set.union(*sets)
    words = terms(words_from) - ENTRY_NOUNS
    if not words:  # "Which postings are not in India?": every entry of the kind, or nothing to exclude
        return set(where) if every else None
    return {i for i, s in where.items() if words <= terms(s.stated())}


def _described(matches: list, words_from: str, including: bool) -> str:
    """ "by Aaron Roth", "in Privacy", "about “fine-tuning”": how a sentence names a set of entries."""
    if not matches:
        words = [w for w in re.findall(r"[\w-]+", words_from) if terms(w) and not terms(w) <= ENTRY_NOUNS]
        if not words:
            return "in the index"
        return f"{'with' if including else 'about'} “{' '.join(words)}”"
    parts = []
    for m in matches:
        value = (place_names(m.value, "") or m.value) if m.field == COUNTRY else m.value
        parts.append(f"{'by' if m.field == AUTHOR else 'in'} {value}")
    return " and ".join(parts) if including else " or ".join(parts)


# The class of question each rule serves, by the name that switches it off.
RULES: dict[str, Callable[[Retrieval, Context], Listing | None]] = {
    "negation": negation,
    "superlative": superlative,
    "count": counts,
    "field-values": field_values,
    "threshold": threshold,
    "longer-author-list": longer_author_list,
    "authors-elsewhere": authors_elsewhere,
    "compare-counts": compare_counts,
    "captions": captioned,
}


def catalog_answer(retrieval: Retrieval, context: Context, disabled: frozenset[str] = frozenset()) -> Listing | None:
    """What code answers from the catalog, or None to ask the model: "the sources do not mention …" for
    a question about a name the index never mentions, else the first aggregate rule's answer, else a
    list, a count, a field of a named paper or the authors named papers share (`list_answer`), else the
    document sections that cover a topic asked about (`section_answer`), else the items of a list in
    the documents (`doc_list_answer`)."""
    # Only when the question names nothing the index holds: beside a name it does hold ("Who wrote EMC2,
    # CANARY-BOB?"), an unknown name is a premise for the answer to set right, not the subject.
    if retrieval.absent and not (
        [m for m in retrieval.matches if m.field != KIND] or named_papers(retrieval.question, context)
    ):
        about_postings = POSTING_WORDS_RE.search(retrieval.question) is not None
        return replace(absent_answer(retrieval, context, about_postings), rule=ABSENT)
    return (
        aggregate_answer(retrieval, context, disabled)
        or list_answer(retrieval, context, disabled)
        or section_answer(retrieval.question, context, disabled)
        or doc_list_answer(retrieval, context, disabled)
    )


def aggregate_answer(retrieval: Retrieval, context: Context, disabled: frozenset[str] = frozenset()) -> Listing | None:
    """The first rule's answer, if the context holds every entry (the corpus mode, or a small index)."""
    whole = {i for s in context.sources for i in s.ids}
    catalog = getattr(retrieval, "catalog_ids", None)
    if catalog is not None and not set(catalog) <= whole:
        return None  # counting only what retrieval found would be wrong
    negated = NEGATION_RE.search(retrieval.question) is not None
    for name, rule in RULES.items():
        if negated and rule is not negation:
            continue  # the other rules' lists and counts would answer the opposite
        if name not in disabled and (listing := rule(retrieval, context)):
            return replace(listing, rule=name)
    return None
