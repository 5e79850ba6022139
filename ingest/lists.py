"""Lists and tables in a document section's Markdown: the name of each item and the paragraph that
introduces them, so code can count and name what a list holds.

- A list is a run of items at one indent ("- x", "* x", "1. x", "2) x"); lines indented under an item,
  deeper items, paragraphs and code blocks inside it belong to that item. The list ends at a line that
  is none of these. A thematic break ("* * *") is no item; a list inside a code block is not read.
- A table is a header row, a "|---|" row and its body rows, each with the header's number of cells;
  each body row is an item.
- An item's name is its bold or linked words ("**Prompt** (`PROMPT`): …" → "Prompt", "[inout](…) : …"
  → "inout"), its first code span, or else its words up to a colon or dash (six at most, then "…").
- The lead is the paragraph just before the list; none when a code block or nothing comes before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.blocks import LINK_RE, ROLE_RE, TABLE_RULE_RE, blocks, is_table, list_item, readable_roles

NAME_RE = re.compile(r"^(?:\*\*(?P<bold>[^*]+)\*\*|\[(?P<link>[^\]]+)\]\([^)]*\)|`(?P<code>[^`]+)`)")
MAX_NAME_WORDS = 6
CODE = "\x00"  # a code block, as one line: inside a list item it is part of the item; it is no lead


@dataclass(frozen=True)
class DocList:
    """One list or table: the paragraph that introduces it, and its items' names and whole text."""

    lead: str
    names: tuple[str, ...]
    items: tuple[str, ...]


def plain(text: str) -> str:
    """Markdown link and role markup as the words a reader sees, without code marks (an item's name)."""
    return ROLE_RE.sub(lambda m: m.group("text"), LINK_RE.sub(r"\1", text)).strip()


def item_name(text: str) -> str:
    """What an item is called: its leading bold, link or code span, else its words before a colon or dash."""
    text = readable_roles(text.strip())
    if match := NAME_RE.match(text):
        return (match.group("bold") or match.group("link") or match.group("code")).strip()
    head = re.split(r"\s*(?::|\s[-–—]\s)", plain(text), maxsplit=1)[0]
    words = head.rstrip(".").split()
    return " ".join(words) if len(words) <= MAX_NAME_WORDS else " ".join(words[:MAX_NAME_WORDS]) + " …"


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _lines(text: str) -> list[str]:
    """The text's lines, each code block one CODE line, paragraphs apart by a blank line."""
    lines: list[str] = []
    for block, is_code in blocks(text):
        lines += [CODE] if is_code else block.split("\n")
        lines.append("")
    return lines


def doc_lists(text: str) -> list[DocList]:
    """Every list and table of `text`, in order."""
    lines = _lines(text)
    found: list[DocList] = []
    i = 0
    while i < len(lines):
        if is_table(lines[i : i + 3]):
            i = _table(lines, i, found)
        elif first := list_item(lines[i]):
            i = _list(lines, i, len(first.group("indent")), found)
        else:
            i += 1
    return found


def _table(lines: list[str], start: int, found: list[DocList]) -> int:
    end = start + 2
    while end < len(lines) and lines[end].strip().startswith("|"):
        end += 1
    header = _cells(lines[start])
    # A table cut into pieces starts each piece with its header rows again: they are no items.
    rows = [_cells(row) for row in lines[start + 2 : end] if _cells(row) != header and not TABLE_RULE_RE.match(row)]
    if rows and all(len(row) == len(header) and row[0] for row in rows):
        # (a row cut or run together, as when a long section is split inside its table, is not readable)
        names = tuple(item_name(row[0]) for row in rows)
        found.append(DocList(_lead(lines, start), names, tuple(" | ".join(plain(c) for c in row) for row in rows)))
    return end


def _list(lines: list[str], start: int, indent: int, found: list[DocList]) -> int:
    items: list[str] = []
    i = start
    while i < len(lines):
        line = lines[i]
        match = list_item(line)
        if match and len(match.group("indent")) == indent:
            items.append(match.group("text"))
        elif line.strip() and line != CODE and (line[: indent + 1].isspace() or line.startswith("\t")):
            items[-1] += " " + line.strip()  # its continuation, a deeper item or an indented paragraph
        elif not line.strip() or line == CODE:
            after = next((x for x in lines[i + 1 :] if x.strip() and x != CODE), "")
            belongs = (m := list_item(after)) and len(m.group("indent")) == indent or after[: indent + 1].isspace()
            if not belongs:
                break
        else:
            break
        i += 1
    found.append(DocList(_lead(lines, start), tuple(item_name(t) for t in items), tuple(plain(t) for t in items)))
    return i


def _lead(lines: list[str], start: int) -> str:
    """The paragraph just before line `start` (empty when a code block or the top of the text is)."""
    end = start
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    begin = end
    while begin > 0 and lines[begin - 1].strip() and lines[begin - 1] != CODE:
        begin -= 1
    return plain(" ".join(line.lstrip("#").strip() for line in lines[begin:end]))
