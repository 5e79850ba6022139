"""Documents by their structure: Markdown and reStructuredText by headings, HTML by its headings.

Every format becomes Markdown sections (heading path + body), which are then packed into chunks
of about `CHUNK_TOKENS` without ever splitting a fenced code block, a table row or a list item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from llama_index.core import Document
from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter
from llama_index.core.utils import get_tokenizer

from rag.ingest.blocks import LINK_RE, blocks, rows_and_items, without_targets

CHUNK_TOKENS = 256
CHUNK_OVERLAP = 32
PATH_SEPARATOR = " › "  # "Setup › Installing plugins": how a heading path reads in a citation
# Where a piece sits in its document, as its title ends: "(part 2)" of a long section, ", page 4" of a PDF.
PIECE_MARK_RE = re.compile(r"(?:,\s*page \d+)?(?:\s*\(part \d+\))?$")
PART_MARK_RE = re.compile(r"\s*\(part \d+\)$")  # a long section's piece (`part_title`)
_SPLIT_MARK = "\x1f"  # between headings in llama-index's header_path (never in a heading itself)
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def part_title(title: str, part: int) -> str:
    """The title of a long section's (or page's) piece `part`: "usage.md › Setup (part 2)"."""
    return f"{title} (part {part})"


def page_title(name: str, page: int) -> str:
    """The title of a PDF page: "paper.pdf, page 4"."""
    return f"{name}, page {page}"


@dataclass(frozen=True)
class Section:
    """A heading path and the text under it (the heading line itself included)."""

    path: tuple[str, ...]
    text: str


def markdown_sections(text: str) -> list[Section]:
    """Sections in document order, by llama-index's Markdown parser (headings inside code are text);
    MyST target lines, anchors rather than text, left out."""
    text = without_targets(text)
    parser = MarkdownNodeParser.from_defaults(header_path_separator=_SPLIT_MARK, include_prev_next_rel=False)
    sections = []
    for node in parser.get_nodes_from_documents([Document(text=text)]):
        body = node.get_content()
        parents = [p for p in str(node.metadata.get("header_path", "")).split(_SPLIT_MARK) if p]
        first = HEADING_RE.match(body.split("\n", 1)[0])
        path = (*parents, plain_heading(first.group(2))) if first else tuple(parents)
        sections.append(Section(path, body))
    return sections


def _indented_block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from `start` indented deeper than `indent` (blank lines inside kept, a directive's
    ":option:" lines skipped), dedented; and the index after them."""
    i = start
    while i < len(lines) and (not lines[i].strip() or re.match(r"^\s+:[\w-]+:", lines[i])):
        i += 1
    block: list[str] = []
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
        block.append(lines[i])
        i += 1
    while block and not block[-1].strip():
        block.pop()
    depth = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
    return [b[depth:] for b in block], i


def plain_heading(heading: str) -> str:
    """A heading as a person reads it: Markdown links, emphasis and code marks dropped."""
    return re.sub(r"[*_`]+", "", LINK_RE.sub(r"\1", heading)).strip()


# reStructuredText marks a heading by a line of one punctuation character under (and maybe over) it;
# levels follow the order in which a document first uses each mark.
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


# A code directive ("..  code-block:: python") or a paragraph ending in "::" starts a literal block: the
# indented lines after it.
_RST_CODE = re.compile(r"^(\s*)\.\.\s+(?:code-block|code|sourcecode)::\s*([\w+-]*)\s*$")
_RST_LITERAL = re.compile(r"^(\s*)(.*?)::\s*$")


def rst_to_markdown(text: str) -> str:
    """reStructuredText headings as Markdown headings and literal blocks as fenced code (kept whole like
    Markdown's); everything else as it is."""
    lines = text.splitlines()
    levels: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        code, literal = _RST_CODE.match(line), _RST_LITERAL.match(line)
        if code or (literal and not line.lstrip().startswith("..")):
            indent = len((code or literal).group(1))
            block, end = _indented_block(lines, i + 1, indent)
            if block:
                lead = literal.group(2) if literal and not code else ""
                if lead.strip():  # "Example::" reads "Example:", "Example ::" reads "Example"
                    out.append(literal.group(1) + lead.rstrip() + ("" if lead.endswith(" ") else ":"))
                # A fence longer than any run of backticks inside, so code about Markdown stays one block.
                fence = "`" * max(3, 1 + max((len(r) for b in block for r in re.findall(r"`+", b)), default=0))
                out += ["", f"{fence}{code.group(2) if code else ''}", *block, fence, ""]
                i = end
                continue
        overline = _RST_UNDERLINE.match(line) and i + 2 < len(lines) and _RST_UNDERLINE.match(lines[i + 2])
        title_at = i + 1 if overline else i
        under = lines[title_at + 1] if title_at + 1 < len(lines) else ""
        title = lines[title_at].strip()
        mark = _RST_UNDERLINE.match(under)
        if title and mark and not _RST_UNDERLINE.match(lines[title_at]) and len(under.strip()) >= len(title):
            key = ("over" if overline else "") + mark.group(1)
            if key not in levels:
                levels.append(key)
            out.append("#" * min(levels.index(key) + 1, 6) + " " + title)
            i = title_at + 2
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def chunk_texts(section: Section, max_tokens: int = CHUNK_TOKENS) -> list[str]:
    """The section's text in pieces of about `max_tokens`: paragraphs packed together, a fenced code
    block always whole (alone when it is longer), an over-long table cut between rows (its header rows
    starting every piece) and a list between items, any other over-long paragraph split by sentences."""
    tokens = get_tokenizer()
    splitter = SentenceSplitter(chunk_size=max_tokens, chunk_overlap=CHUNK_OVERLAP)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for block, is_code in blocks(section.text):
        n = len(tokens(block))
        if current and size + n > max_tokens:
            pieces.append("\n\n".join(current))
            current, size = [], 0
        if n > max_tokens and not is_code:
            structured = rows_and_items(block)
            pieces.extend(
                _packed(*structured, max_tokens, tokens, splitter) if structured else splitter.split_text(block)
            )
            continue
        current.append(block)
        size += n
    if current:
        pieces.append("\n\n".join(current))
    return [p for p in pieces if p.strip()]


def _packed(
    lead: list[str],
    head: list[str],
    units: list[str],
    max_tokens: int,
    tokens: Callable[[str], list],
    splitter: SentenceSplitter,
) -> list[str]:
    """Rows (or items) packed into pieces of about `max_tokens`, each starting with `head` (a table's
    header rows), the first with `lead`; a row longer than a piece is split by sentences, alone."""
    budget = max_tokens - len(tokens("\n".join(head)))
    pieces: list[list[str]] = []
    size = budget  # the first row starts a piece
    for unit in units:
        n = len(tokens(unit))
        if n > budget:
            pieces += [[part] for part in splitter.split_text(unit)]
            size = budget
            continue
        if size + n > budget:
            pieces.append([])
            size = 0
        pieces[-1].append(unit)
        size += n
    texts = ["\n".join(head + rows) for rows in pieces]
    if lead and texts:
        texts[0] = "\n".join(lead) + "\n" + texts[0]
    return texts
