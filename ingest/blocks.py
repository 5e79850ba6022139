"""Markdown's block structure, read line by line: paragraphs and fenced code blocks, list items and
table rows. Sections are chunked by it (`ingest.sections`) and lists are counted by it (`ingest.lists`).
Also its inline markup a reader does not see as such: links and Sphinx/MyST roles."""

from __future__ import annotations

import re

FENCE_RE = re.compile(r"^\s*(```|~~~)")
ITEM_RE = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d{1,3}[.)])\s+(?P<text>\S.*)$")
THEMATIC_BREAK_RE = re.compile(r"^\s*([-*_])(?:\s*\1){2,}\s*$")
TABLE_RULE_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
# A MyST target, "(options)=" on a line of its own: a link anchor for the next heading, not text.
TARGET_RE = re.compile(r"^\([\w.:-]+\)=\s*$")
LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# A MyST or reST role: {class}`~click.Tuple`, :func:`echo`, {ref}`the testing module <testing>` → its text.
ROLE_RE = re.compile(
    r"(?:\{(?P<myst>[\w:-]+)\}|(?<![\w`]):(?P<rest>[\w-]+(?::[\w-]+)?):)`~?(?P<text>[^`<]*?)(?:\s*<[^>`]*>)?`"
)
PROSE_ROLES = {"ref", "doc", "term", "numref", "std:ref", "std:doc"}  # a cross-reference's text is prose


def readable_roles(text: str) -> str:
    """Roles as a reader sees them: "{meth}`Group.get_command`" → "`Group.get_command`" (code), "{ref}`the
    testing module <testing>`" → "the testing module"."""

    def readable(match: re.Match[str]) -> str:
        role = match.group("myst") or match.group("rest")
        return match.group("text") if role in PROSE_ROLES else f"`{match.group('text')}`"

    return ROLE_RE.sub(readable, text)


def list_item(line: str) -> re.Match[str] | None:
    """The line as a list item ("- x", "* x", "1. x", "2) x"), with its indent and text; a thematic
    break ("* * *") is none."""
    return None if THEMATIC_BREAK_RE.match(line) else ITEM_RE.match(line)


def is_table(lines: list[str]) -> bool:
    """Are these lines a table: a header row, a "|---|" rule, and rows?"""
    return len(lines) > 2 and "|" in lines[0] and bool(TABLE_RULE_RE.match(lines[1]))


def rows_and_items(block: str) -> tuple[list[str], list[str], list[str]] | None:
    """Where a long block may be cut without cutting a row or an item: the lines before its table or list
    (a lead in the same paragraph), the table's header lines (none for a list), and its rows or items
    (an item with the lines under it); None for a paragraph that holds neither."""
    lines = block.split("\n")
    start = next((k for k, line in enumerate(lines) if list_item(line) or is_table(lines[k:])), None)
    if start is None:
        return None
    lead, lines = lines[:start], lines[start:]
    if is_table(lines):
        return lead, lines[:2], lines[2:]
    first = list_item(lines[0])
    assert first is not None
    indent = len(first.group("indent"))
    items: list[str] = []
    for line in lines:
        item = list_item(line)
        if items and not (item and len(item.group("indent")) <= indent):
            items[-1] += "\n" + line
        else:
            items.append(line)
    return lead, [], items


def without_targets(text: str) -> str:
    """Markdown without its MyST target lines; a code block is left as it is."""
    kept: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            fence = None if _closes(fence, line) else fence
        elif FENCE_RE.match(line):
            fence = line
        elif TARGET_RE.match(line):
            continue
        kept.append(line)
    return "\n".join(kept)


def _closes(opening: str, line: str) -> bool:
    """Does `line` close the fence `opening` began: a bare run of the same mark, at least as long?"""
    mark = opening.strip()
    run = len(mark) - len(mark.lstrip(mark[0]))
    bare = line.strip()
    return bool(bare) and set(bare) == {mark[0]} and len(bare) >= run


def blocks(text: str) -> list[tuple[str, bool]]:
    """Paragraphs and fenced code blocks, in order; (text, is_code)."""
    blocks: list[tuple[str, bool]] = []
    paragraph: list[str] = []
    fence: list[str] | None = None
    for line in text.split("\n"):
        if fence is not None:
            fence.append(line)
            if _closes(fence[0], line):
                blocks.append(("\n".join(fence), True))
                fence = None
            continue
        if FENCE_RE.match(line):
            if paragraph:
                blocks.append(("\n".join(paragraph), False))
                paragraph = []
            fence = [line]
        elif line.strip():
            paragraph.append(line)
        elif paragraph:
            blocks.append(("\n".join(paragraph), False))
            paragraph = []
    if fence is not None:  # an unclosed fence runs to the end of the document
        blocks.append(("\n".join(fence), True))
    if paragraph:
        blocks.append(("\n".join(paragraph), False))
    return blocks
