"""What the chat page offers, drawn from what the index holds: its heading, filters and example questions.

A guide of papers and postings gets the research-area and city filters and questions about its own
papers, authors and cities; a folder of documents gets none of those controls and questions about
its own section headings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rag.assistant.schema import AREA, CHUNK, CITY, KIND, OVERVIEW, PAPER, POSTING, TITLE, authors_of
from rag.ingest.sections import PATH_SEPARATOR, PIECE_MARK_RE

MAX_EXAMPLES = 6


@dataclass(frozen=True)
class Page:
    """The corpus-specific parts of the chat page."""

    heading: str
    kinds: list[str]  # offered in "Search in" when there are several
    areas: list[str]
    cities: list[str]
    examples: list[str]


def corpus_page(entries: Iterable[Mapping[str, object]], collection: str) -> Page:
    """The page for an index whose entries have this metadata (kind, title, authors, area, city)."""
    entries = list(entries)
    by_kind: dict[str, list[Mapping[str, object]]] = {}
    for meta in entries:
        by_kind.setdefault(str(meta.get(KIND) or ""), []).append(meta)
    areas = sorted({str(m[AREA]) for m in entries if m.get(AREA)})
    cities = sorted({str(m[CITY]) for m in entries if m.get(CITY)})
    overviews = [str(m.get(TITLE) or "") for m in by_kind.get(OVERVIEW, []) if m.get(TITLE)]
    files = {_file_of(str(m.get(TITLE) or "")) for m in by_kind.get(CHUNK, [])}
    if overviews:
        heading = "; ".join(sorted(overviews))
    else:
        heading = f"Ask '{collection}': {len(entries)} passages from {len(files)} document{'s' * (len(files) != 1)}"
    kinds = sorted(k for k in by_kind if k in (PAPER, POSTING, CHUNK))
    return Page(heading, kinds if len(kinds) > 1 else [], areas, cities, _examples(by_kind)[:MAX_EXAMPLES])


def _examples(by_kind: dict[str, list[Mapping[str, object]]]) -> list[str]:
    examples: list[str] = []
    papers = by_kind.get(PAPER, [])
    if papers:
        first = min(papers, key=lambda m: str(m.get(TITLE)))
        examples.append(f"What is “{_short(str(first.get(TITLE)))}” about?")
        authors = Counter(a for m in papers for a in authors_of(m))
        if authors:
            examples.append(f"Which papers did {authors.most_common(1)[0][0]} co-author?")
        areas = Counter(str(m[AREA]) for m in papers if m.get(AREA))
        if areas:
            examples.append(f"Which papers are listed under {areas.most_common(1)[0][0]}?")
    postings = by_kind.get(POSTING, [])
    cities = Counter(str(m[CITY]) for m in postings if m.get(CITY))
    if cities:
        city = cities.most_common(1)[0][0]
        examples += [f"How many job postings are in {city}?", f"What does the {city} team work on?"]
    if by_kind.get(OVERVIEW):
        examples.append("What is the guide about overall?")
    examples += _section_examples(by_kind.get(CHUNK, []))
    return examples


def _section_examples(chunks: list[Mapping[str, object]], count: int = 4) -> list[str]:
    """ "What does options.md say about Multi Value Options?": a section of each of the first few files."""
    chosen: dict[str, str] = {}
    for meta in sorted(chunks, key=lambda m: str(m.get(TITLE))):
        path = PIECE_MARK_RE.sub("", str(meta.get(TITLE) or "")).split(PATH_SEPARATOR)
        if len(path) >= 3 and path[0] not in chosen:  # a subsection: more specific than a page's title
            chosen[path[0]] = f"What does {path[0]} say about {path[-1]}?"
    return list(chosen.values())[:count]


def _file_of(title: str) -> str:
    """ "usage.md › Setup (part 2)" → "usage.md"; "paper.pdf, page 4" → "paper.pdf"."""
    return PIECE_MARK_RE.sub("", title).split(PATH_SEPARATOR)[0]


def _short(title: str) -> str:
    """A paper's short name, "EMC2" for "EMC2: Efficient MCMC …", else its whole title."""
    head = title.split(":")[0]
    return head if ":" in title and len(head.split()) <= 3 else title
