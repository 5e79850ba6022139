"""The items of a list in the documents: "how many example apps does the quickstart list?", "which
interactive input libraries do the docs recommend?", answered by code from a Markdown list or table
of a section retrieval found. A small model miscounts a list, and never sees the whole of one that
runs over a long section's pieces; code counts it, names every item, and cites the pieces that hold
them, shown whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from llama_index.core.schema import BaseNode

from rag.assistant.context import Context, Source, display_text, section_body, with_pieces_whole
from rag.assistant.listing import NEGATION_RE, Listing
from rag.assistant.retrieve import Retrieval
from rag.assistant.schema import CHUNK, LAYOUT_WORDS
from rag.assistant.sections import heading_path, heading_terms, named_section
from rag.assistant.text import sentences, terms
from rag.ingest.lists import DocList, doc_lists

DOC_LIST = "doc-list"  # its name in RAG_DISABLED_RULES

_VERB = r"(?:are|is|were|was|do|does|did|can|could|will|would|should|get|gets|have|has|in|on|of|for|there|that)"
_NOUN = r"(?P<noun>[\w’'/-]+(?:\s+[\w’'/-]+){0,4}?)"
# The frames of a question asking for the items of a list: how many there are, or which.
COUNT_RE = re.compile(rf"^\s*how\s+many\s+{_NOUN}\s+{_VERB}\b", re.I)
# "how many tools ship …": its first word
COUNT_WORD_RE = re.compile(r"^\s*how\s+many\s+(?P<noun>[\w’'/-]+)", re.I)
LIST_RES = (
    re.compile(
        rf"^\s*(?:list|name|enumerate)\s+(?:all\s+|every\s+|each\s+)?(?:of\s+)?(?:the\s+)?{_NOUN}\s+{_VERB}\b", re.I
    ),
    re.compile(rf"^\s*(?:which|what)\s+{_NOUN}\s+(?:do|does|did)\s+(?:the\s+)?(?:docs?|documentation|manual)\b", re.I),
)
SUPERLATIVE_RE = re.compile(
    r"\b(?:most|least|fewest|best|worst|first|last|largest|biggest|smallest|longest|shortest|highest|lowest"
    r"|greatest|newest|oldest|latest|fastest|slowest|simplest|easiest)\b",
    re.I,
)
# Words that say a list is asked for, where it is ("the table on the contrib page") or that it is what
# ships ("come with click according to the quickstart"), not what it lists.
FRAME_WORDS = terms(
    f"how many list listed name enumerate which what docs documentation manual recommend mention section {LAYOUT_WORDS}"
    " according come comes ship ships shipped shipping bundled included packaged"
)
# A list is the one asked about when the heading path and the paragraph before it hold this many of the
# question's words (all of them for a one-word question), its section's own heading one of them, and
# the paragraph (or, when there is none or it only points at the list, the heading) a word of what is
# counted; and when at most this many of the question's words are in neither ("example apps" for
# "examples … Click applications"): another word narrows the list ("… that use a database?"), and
# code cannot read which items it keeps.
MIN_SHARED_WORDS = 2
MAX_UNSAID_WORDS = 1
MIN_OVERLAP_CHARS = 20  # a long section's pieces repeat the end of the one before
POINTER_RE = re.compile(r"\b(?:below|above)\b", re.I)  # a lead that only points at its list


@dataclass(frozen=True)
class Found:
    """A list in a section, with the pieces of the section that hold it."""

    doc_list: DocList
    path: list[str]
    pieces: list[BaseNode]
    holders: list[list[BaseNode]]  # for each item, the pieces its text is in
    shared: int


def asked_noun(question: str) -> tuple[str, bool] | None:
    """What a list question counts or lists ("example apps"), and whether it asks how many; None when it
    asks for something else (a negation or a superlative over the items is not their list)."""
    if NEGATION_RE.search(question) or SUPERLATIVE_RE.search(question):
        return None
    if match := COUNT_RE.match(question) or COUNT_WORD_RE.match(question):
        return match.group("noun"), True
    for frame in LIST_RES:
        if match := frame.match(question):
            return match.group("noun"), False
    return None


def section_text(pieces: list[BaseNode]) -> str:
    """A section's pieces as one text, without what each piece repeats of the one before."""
    text = ""
    for piece in pieces:
        part = section_body(piece)
        overlap = next(
            (k for k in range(min(len(text), len(part), 600), MIN_OVERLAP_CHARS - 1, -1) if text.endswith(part[:k])), 0
        )
        text = f"{text}\n{part[overlap:]}" if text else part
    return text


def find_list(question: str, noun: str, retrieval: Retrieval, context: Context) -> Found | None:
    """The list of a retrieved section whose heading path and lead hold most of the question's words; None
    when no list is clearly the one asked about (none qualifies, or two hold as many)."""
    if retrieval.catalog is None:
        return None
    wanted = terms(question) - FRAME_WORDS
    counted = terms(noun) - FRAME_WORDS
    need = min(MIN_SHARED_WORDS, len(wanted))
    best: Found | None = None
    tied = False
    for source, pieces in retrieved_sections(retrieval, context):
        path = heading_path(source)
        held: dict[str, set[str]] = {}  # each piece's words, read once for the section when a list qualifies
        for doc_list in doc_lists(section_text(pieces)):
            said = heading_terms(path) | terms(doc_list.lead)
            shared = len(wanted & said)
            own_heading = terms(path[-1]) if path else set()
            if not (need and shared >= need and wanted & own_heading and counted & _what_it_lists(doc_list.lead, path)):
                continue
            if len(wanted - said) > MAX_UNSAID_WORDS:
                continue
            if sum(name.endswith("…") for name in doc_list.names) * 2 > len(doc_list.names):
                continue  # a list of statements, not of things to count or name
            held = held or {p.node_id: terms(display_text(p)) for p in pieces}
            holders = [[p for p in pieces if _holds(held[p.node_id], item)] for item in doc_list.items]
            if not all(holders):
                continue
            if best is not None and shared == best.shared:
                tied = True
            elif best is None or shared > best.shared:
                best, tied = Found(doc_list, path, pieces, holders, shared), False
    return None if tied else best  # two lists as good as each other: which one is meant is not clear


def retrieved_sections(retrieval: Retrieval, context: Context) -> Iterator[tuple[Source, list[BaseNode]]]:
    """Each document section of the context, once, with every piece of it; in a fixed context (the whole
    corpus) only the sections retrieval found, not every section."""
    hit_ids = {hit.node.node_id for hit in retrieval.hits}
    seen: set[str] = set()
    for source in context.sources:
        node_id = source.nodes[0].node_id
        if source.kind != CHUNK or node_id in seen or (context.fixed and node_id not in hit_ids):
            continue
        pieces = retrieval.catalog.section_pieces(source.nodes[0])
        seen.update(p.node_id for p in pieces)
        yield source, pieces


def _what_it_lists(lead: str, path: list[str]) -> set[str]:
    """The words that say what a list holds: its lead paragraph's, and its heading's when the lead's last
    sentence only points at it ("Some of the most popular are listed below:" under "Third-party projects")."""
    said = terms(lead)
    last = (sentences(lead) or [""])[-1]
    if not lead or POINTER_RE.search(last):
        said |= terms(path[-1]) if path else set()
    return said


def _holds(said: set[str], item: str) -> bool:
    """True when a piece's words `said` hold the item's (an item can straddle two pieces: then both do)."""
    return bool(terms(item)) and (terms(item) <= said or terms(item[:60]) <= said)


INLINE_LIST = "inline-list"  # its name in RAG_DISABLED_RULES
# A list written inside a sentence ("The built-in shells are `bash`, `zsh`, `fish`, and `powershell`."):
# three or more names (inline code, or one or two capitalised words, each perhaps with a bracketed
# remark) joined by commas and a last "and" or "or".
_NAMED = r"(?:`[^`\n]+`|[A-Z][\w.+#-]*(?:\s[A-Z][\w.+#-]*)?)(?:\s*\([^()\n]*\))?"
ENUMERATION_RE = re.compile(rf"(?<![\w`]){_NAMED}(?:,\s*{_NAMED})+,?\s+(?:and|or)\s+{_NAMED}")
ENUMERATED_RE = re.compile(_NAMED)


def inline_count(question: str, noun: str, retrieval: Retrieval, context: Context) -> Listing | None:
    """Rule "inline-list" serves "how many shells get tab completion built in?" where the documents name
    them in a sentence, not a list: the sentence of a retrieved section that names three or more things
    after saying what they are — the counted noun ("The built-in shells are …"), or, under a heading
    that says it, MIN_SHARED_WORDS of the question's other words ("Shell Completion": "Click provides tab
    completion support for Bash, …") — counted and quoted. None when no sentence does, or two that do
    give different counts."""
    if retrieval.catalog is None:
        return None
    counted = terms(noun) - FRAME_WORDS
    wanted = terms(question) - FRAME_WORDS - counted
    if not counted:
        return None
    found: list[tuple[str, BaseNode, int]] = []
    for source, pieces in retrieved_sections(retrieval, context):
        headed = counted <= heading_terms(heading_path(source))
        for piece in pieces:
            for sentence in sentences(display_text(piece)):
                if not (match := ENUMERATION_RE.search(sentence)):
                    continue
                lead = terms(sentence[: match.start()])
                if counted <= lead or (headed and len(wanted & lead) >= min(MIN_SHARED_WORDS, len(wanted))):
                    found.append((sentence, piece, len(ENUMERATED_RE.findall(match.group(0)))))
    if not found or len({count for _, _, count in found}) > 1:
        return None
    sentence, piece, count = found[0]
    context, numbers = with_pieces_whole(context, [piece])
    return Listing(
        cited=f"“{sentence}” [{numbers[piece.node_id]}]", counted=f"{count}:", rule=INLINE_LIST, context=context
    )


def doc_list_answer(retrieval: Retrieval, context: Context, disabled: frozenset[str] = frozenset()) -> Listing | None:
    """ "9 are listed under “Examples” (quickstart.md › Quickstart):" and a line for each item ("- inout [1]") for a
    question asking for the items of a list in the documents, with the context the answer cites (the
    list's pieces shown whole), or None."""
    if DOC_LIST in disabled or not (asked := asked_noun(retrieval.question)):
        return None
    noun, how_many = asked
    found = find_list(retrieval.question, noun, retrieval, context)
    if found is None:
        return (
            inline_count(retrieval.question, noun, retrieval, context)
            if how_many and INLINE_LIST not in disabled
            else None
        )
    context, numbers = with_pieces_whole(context, found.pieces)
    # One item a line, each cited by the piece that holds it: a line is the claim its citation supports.
    items = [
        f"- {name} [{numbers[holders[0].node_id]}]"
        for name, holders in zip(found.doc_list.names, found.holders, strict=True)
    ]
    where = named_section(found.path)
    count = len(items)
    counted = f"{count} {'are' if count != 1 else 'is'} listed under {where}:" if how_many else f"Listed under {where}:"
    return Listing(cited="\n".join(items), counted=counted + "\n", rule=DOC_LIST, context=context)
