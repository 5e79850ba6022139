"""Files that are not guides → chunk entries: plain text by sentences, structured documents by section."""

from __future__ import annotations

from pathlib import Path

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from rag.assistant.schema import CHUNK
from rag.ingest.entries import Entry, slugify
from rag.ingest.sections import (
    CHUNK_OVERLAP,
    CHUNK_TOKENS,
    HEADING_RE,
    PATH_SEPARATOR,
    Section,
    chunk_texts,
    page_title,
    part_title,
)


def split_text(text: str, source: str, name: str | None = None) -> list[Entry]:
    """Chunk entries that cite their file and character span.

    `name` is the file's path below the ingested folder (default: the file name); ids
    derive from it, suffix included, so same-named files in different folders, and `LICENSE.txt`
    beside `license.md`, get different ids.
    """
    splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP)
    nodes = splitter.get_nodes_from_documents([Document(text=text)])
    name = name or Path(source).name
    entries = []
    for n, node in enumerate(nodes, start=1):
        start, end = node.start_char_idx or 0, node.end_char_idx or 0
        entries.append(
            Entry(
                id=f"chunk/{_stem(name)}/{n}",
                kind=CHUNK,
                title=part_title(name, n),
                text=node.get_content(),
                source=source,
                position=n,
                extra={"start_char": str(start), "end_char": str(end)},
            )
        )
    return entries


def split_sections(sections: list[Section], source: str, name: str) -> list[Entry]:
    """One entry per piece of each section, titled by the file and heading path
    ("usage.md › Setup › Installing plugins", "(part 2)" on a section's later pieces)."""
    entries: list[Entry] = []
    for section in sections:
        body = _without_own_heading(section)
        pieces = chunk_texts(Section(section.path, body)) if body.strip() else []
        where = PATH_SEPARATOR.join(section.path)
        for part, text in enumerate(pieces, start=1):
            title = PATH_SEPARATOR.join(p for p in (name, where) if p)
            if len(pieces) > 1:
                title = part_title(title, part)
            n = len(entries) + 1
            extra = {"section": where} if where else {}
            entries.append(_entry(name, source, n, title, text, extra))
    return entries


def split_pages(pages: list[tuple[int, str]], source: str, name: str) -> list[Entry]:
    """One entry per piece of each PDF page, titled "paper.pdf, page 4"."""
    entries: list[Entry] = []
    for page, text in pages:
        pieces = chunk_texts(Section((), text))
        for part, piece in enumerate(pieces, start=1):
            title = page_title(name, page)
            title = part_title(title, part) if len(pieces) > 1 else title
            entries.append(_entry(name, source, len(entries) + 1, title, piece, {"page": str(page)}))
    return entries


def _entry(name: str, source: str, n: int, title: str, text: str, extra: dict[str, str]) -> Entry:
    return Entry(
        id=f"chunk/{_stem(name)}/{n}", kind=CHUNK, title=title, text=text, source=source, position=n, extra=extra
    )


def _stem(name: str) -> str:
    return "/".join(slugify(part) for part in Path(name).parts)


def _without_own_heading(section: Section) -> str:
    """The section's text without its heading line: the heading path is in the title and the body."""
    first, _, rest = section.text.partition("\n")
    return rest.strip("\n") if HEADING_RE.match(first) and section.path else section.text
