"""Parser for the "A quick guide to Amazon's papers at <conference>" format.

A guide is: a title line, intro paragraphs, then research-area headings each followed
(optionally) by a description paragraph and by papers (a title line, then an authors
line), figure captions (a line ending in `.png`, then the caption), boiler lines
("Research areas", "Related content"), and job postings (a `CC, RR, City` line, then
the description).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.assistant.schema import OVERVIEW, PAPER, POSTING
from rag.assistant.text import words
from rag.errors import RagError
from rag.ingest.entries import Entry, slugify

TITLE_RE = re.compile(r"^(?:a )?quick guide to .*?papers at (?P<conf>.+?)\s*$", re.IGNORECASE)
LOCATION_RE = re.compile(r"^(?P<country>[A-Z]{2}), (?P<region>[A-Z0-9]{1,3}), (?P<city>[^,]{2,60})$")
FIGURE_RE = re.compile(r"\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)
PAPERS_END = {"research areas"}
POSTINGS_START = {"related content"}
NAME_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "le", "la", "del", "bin", "al"}


class GuideParseError(RagError):
    """The file looks like a guide but an entry in it is malformed or truncated."""


def is_guide(text: str) -> bool:
    """True when the first non-blank line is a guide title."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return bool(TITLE_RE.match(_normalize_quotes(first)))


def looks_like_authors(line: str) -> bool:
    """An authors line: comma-separated person names, each a few capitalised words."""
    if len(line) > 1000 or line.endswith((".", "?", "!", ":")) or ":" in line:
        return False
    names = [n.strip() for n in line.split(",")]
    for name in names:
        words = [w for w in re.sub(r"\([^)]*\)", "", name).split() if w.lower() not in NAME_PARTICLES]
        if not 1 <= len(words) <= 5:
            return False
        if not all(w[0].isupper() for w in words):
            return False
    return True


def looks_like_heading(line: str) -> bool:
    """An area heading: a short standalone line without closing punctuation."""
    return len(line) <= 80 and len(line.split()) <= 8 and not line.endswith((".", "?", "!", ":", ","))


@dataclass
class _State:
    guide: str
    source: str
    area: str = ""
    area_line: int = 0
    area_papers: int = 0
    papers: list[Entry] = field(default_factory=list)
    paper_ids: set[str] = field(default_factory=set)
    others: list[Entry] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)
    captions: list[tuple[int, str, str]] = field(default_factory=list)

    def check_area_not_empty(self) -> None:
        if self.area and self.area_papers == 0:
            raise GuideParseError(
                f"{self.source}:{self.area_line}: research area '{self.area}' has no papers (truncated entry?)"
            )


def parse_guide(text: str, source: str) -> list[Entry]:
    """Turn one guide's text into overview, paper and posting entries (caption attached)."""
    blocks = _blocks(text.splitlines())
    if not blocks:
        raise GuideParseError(f"{source}: no text")
    title_no, (title, *subtitle) = blocks.pop(0)
    match = TITLE_RE.match(_normalize_quotes(title))
    guide = slugify(match.group("conf") if match else title)
    state = _State(guide=guide, source=source, intro=list(subtitle))

    posting_lines: list[tuple[int, str]] = []
    papers_done = False
    for line_no, block in blocks:
        first = block[0]
        if posting_lines or first.lower() in POSTINGS_START or LOCATION_RE.match(first):
            posting_lines.extend((line_no + i, line) for i, line in enumerate(block))
            continue
        if first.lower() in PAPERS_END:
            state.check_area_not_empty()
            papers_done = True
            continue
        if papers_done:  # the tag list after "Research areas" is navigation, not content
            continue
        _read_block(state, line_no, block)
    if not papers_done:
        state.check_area_not_empty()

    _attach_captions(state)
    overview = Entry(
        id=f"overview/{guide}",
        kind=OVERVIEW,
        title=title,
        text="\n\n".join(state.intro),
        source=source,
        guide=guide,
        position=title_no,
    )
    postings = _parse_postings(posting_lines, state)
    return [overview, *state.others, *state.papers, *postings]


def _read_block(state: _State, line_no: int, block: list[str]) -> None:
    """Read one blank-line-separated block of the papers section."""
    i = 0
    while i < len(block):
        line, here = block[i], line_no + i
        nxt = block[i + 1] if i + 1 < len(block) else None
        if FIGURE_RE.search(line):
            if nxt is None:
                raise GuideParseError(f"{state.source}:{here}: figure '{line}' has no caption")
            state.captions.append((here, line, nxt))
            i += 2
        elif nxt is not None and looks_like_authors(nxt) and not FIGURE_RE.search(nxt):
            _add_paper(state, here, line, nxt)
            i += 2
        elif len(block) == 1 and looks_like_heading(line):
            state.check_area_not_empty()
            state.area, state.area_line, state.area_papers = line, here, 0
            i += 1
        elif not state.area:
            state.intro.append(line)
            i += 1
        elif state.area_papers == 0:
            state.others.append(
                Entry(
                    id=f"overview/{state.guide}/area-{slugify(state.area)}",
                    kind=OVERVIEW,
                    title=state.area,
                    text=line,
                    area=state.area,
                    source=state.source,
                    guide=state.guide,
                    position=here,
                )
            )
            i += 1
        else:
            raise GuideParseError(
                f"{state.source}:{here}: cannot read '{line[:60]}' (a paper title without its authors line?)"
            )


def _add_paper(state: _State, line_no: int, title: str, authors_line: str) -> None:
    if not state.area:
        raise GuideParseError(f"{state.source}:{line_no}: paper '{title[:60]}' before any research area")
    authors = tuple(a.strip() for a in authors_line.split(",") if a.strip())
    slug = slugify(title)
    entry_id = f"paper/{slug}"
    n = 2
    while entry_id in state.paper_ids:
        entry_id, n = f"paper/{slug}-{n}", n + 1
    state.paper_ids.add(entry_id)
    state.papers.append(
        Entry(
            id=entry_id,
            kind=PAPER,
            title=title,
            text=title,
            authors=authors,
            area=state.area,
            source=state.source,
            guide=state.guide,
            position=line_no,
        )
    )
    state.area_papers += 1


def _attach_captions(state: _State) -> None:
    """A caption belongs to the paper whose title it quotes, else to the paper above it."""
    for line_no, figure, caption in state.captions:
        target = _paper_named_in(caption, state.papers)
        if target is None:
            earlier = [p for p in state.papers if p.position < line_no]
            if not earlier:
                raise GuideParseError(f"{state.source}:{line_no}: figure '{figure}' before any paper")
            target = earlier[-1]
        i = state.papers.index(target)
        joined = f"{target.caption} {caption}".strip()
        state.papers[i] = replace(target, caption=joined, extra={**target.extra, "figure": figure})


def _paper_named_in(caption: str, papers: list[Entry]) -> Entry | None:
    text = _squash(caption)
    named = [p for p in papers if _squash(p.title) in text]
    return max(named, key=lambda p: len(p.title)) if named else None


def _parse_postings(lines: list[tuple[int, str]], state: _State) -> list[Entry]:
    """Postings: a location line, then description lines until the next location line."""
    postings: list[tuple[int, re.Match[str], list[str]]] = []
    for line_no, line in lines:
        match = LOCATION_RE.match(line)
        if match:
            postings.append((line_no, match, []))
        elif line.lower() in POSTINGS_START:
            continue
        elif postings:
            postings[-1][2].append(line)
        else:
            raise GuideParseError(f"{state.source}:{line_no}: text before the first posting location")

    entries: list[Entry] = []
    per_city: dict[str, int] = {}
    for line_no, match, description in postings:
        city = match.group("city").strip()
        if not description:
            raise GuideParseError(
                f"{state.source}:{line_no}: posting at '{city}' has no description (truncated entry?)"
            )
        n = per_city[slugify(city)] = per_city.get(slugify(city), 0) + 1
        entries.append(
            Entry(
                id=f"posting/{state.guide}/{slugify(city)}-{n}",
                kind=POSTING,
                title=f"{city} posting {n}",
                text="\n".join(description),
                country=match.group("country"),
                region=match.group("region"),
                city=city,
                source=state.source,
                guide=state.guide,
                position=line_no,
            )
        )
    return entries


def _blocks(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Group non-blank lines into blocks; each block keeps its 1-based first line number."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _normalize_quotes(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'")


def _squash(text: str) -> str:
    return " ".join(words(text))
