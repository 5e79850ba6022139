"""Lists and tables in a document section's Markdown: the name of each item and the text that
introduces them, so code can count and name what a list holds.

- A list is a run of top-level items ("- x", "* x", "1. x", "2) x"); lines indented under an item, and
  nested items, belong to it. A blank line ends the run unless the next item follows it.
- A table is a header row, a "|---|" row and its body rows, each with the header's number of cells;
  each body row is an item.
- An item's name is its bold or linked words ("**Prompt** (`PROMPT`): …" → "Prompt", "[inout](…) : …"
  → "inout"), its first code span, or else its words up to a colon or dash (six at most).
- The lead is the paragraph before the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ITEM_RE = re.compile(r"^(?P<indent> {0,3})(?:[-*+]|\d{1,3}[.)])\s+(?P<text>\S.*)$")
TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
ROLE_RE = re.compile(r"\{[\w:-]+\}`~?([^`]*)`")  # MyST roles: {class}`~click.Tuple` → click.Tuple
NAME_RE = re.compile(r"^(?:\*\*(?P<bold>[^*]+)\*\*|\[(?P<link>[^\]]+)\]\([^)]*\)|`(?P<code>[^`]+)`)")
FENCE_RE = re.compile(r"^\s*(?:```|~~~)+\s*(\{)?")
HEADING_RE = re.compile(r"^#{1,6}\s")
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class DocList:
    """One list or table: the line that introduces it, and its items' names and whole text."""

    lead: str
    names: tuple[str, ...]
    items: tuple[str, ...]


def plain(text: str) -> str:
    """Markdown link and role markup as the words a reader sees."""
    return ROLE_RE.sub(r"\1", LINK_RE.sub(r"\1", text)).strip()


def item_name(text: str) -> str:
    """What an item is called: its leading bold, link or code span, else its words before a colon or dash."""
    text = ROLE_RE.sub(r"`\1`", text.strip())
    if match := NAME_RE.match(text):
        return (match.group("bold") or match.group("link") or match.group("code")).strip()
    head = re.split(r"\s*(?::|\s[-–—]\s)", plain(text), maxsplit=1)[0]
    words = head.rstrip(".").split()
    return " ".join(words) if len(words) <= MAX_NAME_WORDS else " ".join(words[:MAX_NAME_WORDS]) + " …"


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def doc_lists(text: str) -> list[DocList]:
    """Every list and table of `text`, in order; none inside a code block."""
    lines = _prose_lines(text)
    found: list[DocList] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and "|" in lines[i] and TABLE_RULE_RE.match(lines[i + 1]):
            end = i + 2
            while end < len(lines) and lines[end].strip().startswith("|"):
                end += 1
            rows = [_cells(row) for row in lines[i + 2 : end]]
            if any(len(row) != len(_cells(lines[i])) for row in rows):
                i = end  # a row cut or run together (a long section split inside its table): not readable
                continue
            items = tuple(" | ".join(plain(c) for c in row) for row in rows if row and row[0])
            names = tuple(item_name(row[0]) for row in rows if row and row[0])
            if names:
                found.append(DocList(_lead(lines, i), names, items))
            i = end
            continue
        if ITEM_RE.match(lines[i]):
            start, items = i, []
            while i < len(lines):
                match = ITEM_RE.match(lines[i])
                if match:
                    items.append(match.group("text"))
                elif lines[i].startswith((" ", "\t")) and lines[i].strip() and items:
                    items[-1] += " " + lines[i].strip()  # its continuation, or a nested item
                elif not lines[i].strip() and i + 1 < len(lines) and ITEM_RE.match(lines[i + 1]):
                    pass
                else:
                    break
                i += 1
            found.append(
                DocList(_lead(lines, start), tuple(item_name(t) for t in items), tuple(plain(t) for t in items))
            )
            continue
        i += 1
    return found


def _prose_lines(text: str) -> list[str]:
    """The text's lines, a code block's as blank ones (a MyST directive's, "```{note}", are prose) and
    fence lines blank too."""
    lines: list[str] = []
    opened: list[bool] = []  # the open fences, each True when it opens code
    for line in text.splitlines():
        if fence := FENCE_RE.match(line):
            if opened and not fence.group(1) and not line.strip().strip("`~"):
                opened.pop()  # a bare fence closes the innermost block
            else:
                opened.append(not fence.group(1))
            lines.append("")
        else:
            lines.append("" if any(opened) else line)
    return lines


def _lead(lines: list[str], start: int) -> str:
    """The paragraph just before line `start` (empty at the top of the text)."""
    end = start
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    begin = end
    while begin > 0 and lines[begin - 1].strip() and not HEADING_RE.match(lines[begin]):
        begin -= 1
    return plain(" ".join(line.lstrip("#").strip() for line in lines[begin:end]))
