"""Where a folder of documents covers a topic: the answer to "where do the docs explain X?", "is there
anything on X?", "do the docs cover X?", written by code from the headings of the sections retrieval
found. A small model reads such a question as one about the documents' existence and says the sources
do not say; the headings answer it exactly, and each named section is cited.
"""

from __future__ import annotations

import re

from llama_index.core.schema import BaseNode

from rag.assistant.context import Context, Source, section_body, with_pieces_whole
from rag.assistant.listing import Listing
from rag.assistant.questions import ANYTHING_ON
from rag.assistant.schema import CHUNK, TITLE
from rag.assistant.spelling import spelt_out
from rag.assistant.text import sentences, terms, unwrapped
from rag.ingest.blocks import LINK_RE, blocks, is_table, list_item
from rag.ingest.sections import PART_MARK_RE, PATH_SEPARATOR, PIECE_MARK_RE

SECTIONS = "sections"  # its name in RAG_DISABLED_RULES

_DOCS = r"(?:the\s+)?(?:docs?|documentation|manual|guides?|pages?|sections?|files?)"
_COVER = (
    r"(?:cover(?:s|ed)?|explain(?:s|ed)?|describe[sd]?|discuss(?:es|ed)?|document(?:s|ed)?|mention(?:s|ed)?"
    r"|talk(?:s|ed)? about)"
)
_TOPIC = r"(?P<topic>.+?)\s*\??\s*$"
# The question's frame, and the topic after it: "where (in the docs) is X explained", "do the docs cover X",
# "is there anything on X", "anything about X". The frames of a yes/no question are answered "Yes." first.
TOPIC_FRAMES = (
    (re.compile(rf"^\s*where\s+in\s+{_DOCS}\s+(?:is|are)\s+(?P<topic>.+?)(?:\s+{_COVER})?\s*\??\s*$", re.I), False),
    (re.compile(rf"^\s*where\s+(?:is|are)\s+(?P<topic>.+?)\s+{_COVER}(?:\s+in\s+{_DOCS})?\s*\??\s*$", re.I), False),
    (re.compile(rf"^\s*where\s+(?:do|does)\s+{_DOCS}\s+{_COVER}\s+{_TOPIC}", re.I), False),
    (re.compile(rf"^\s*where\s+can\s+i\s+(?:read|find|learn)\s+(?:about|more about)\s+{_TOPIC}", re.I), False),
    (
        re.compile(
            rf"^\s*(?:which|what)\s+(?:part|page|section|file|doc)s?\b(?:\s+of\s+{_DOCS})?"
            rf"\s+(?:{_COVER}|(?:is|are)\s+about)\s+{_TOPIC}",
            re.I,
        ),
        False,
    ),
    (
        re.compile(rf"^\s*(?:do|does)\s+{_DOCS}\s+(?:{_COVER}|say anything about|have anything on)\s+{_TOPIC}", re.I),
        True,
    ),
    (
        re.compile(
            r"^\s*(?:is|are)\s+there\s+(?:anything|something|a (?:section|page|doc)"
            r"|any (?:docs?|documentation|sections?|pages?))"
            rf"\s+(?:on|about|regarding|covering|for)\s+{_TOPIC}",
            re.I,
        ),
        True,
    ),
    (re.compile(rf"^\s*{ANYTHING_ON}\s+{_TOPIC}", re.I), True),
)
# A section is about the topic when its heading path (file name included) holds this many of the topic's
# words (all of them for a one-word topic): one shared word is as often the collection's own name.
MIN_HEADING_WORDS = 2


# How much of the covering section's opening paragraph an answer repeats: what the section is about, in
# its own words (a pointer alone leaves the reader to open it).
OPENING_CHARS = 300
# A paragraph that is no prose: a reST directive, a field list or MyST colon fence, a heading, a quote.
_NOT_PROSE_RE = re.compile(r"^\s*(?:\.\.|:|#|>)")


# A clause after a yes/no frame states a claim ("do the docs mention that options are required?"):
# whether it holds is the question, not whether a topic is covered.
CLAUSE_RE = re.compile(r"^(?:that|whether|if|how|why|when|what|which|who)\b", re.I)


def topic_of(question: str) -> tuple[str, bool] | None:
    """The topic a question about the documents' contents asks for, and whether it asks yes or no; the
    question as typed (an abbreviation's spelt-out meaning after it set aside)."""
    asked = spelt_out(question)[0]
    for frame, yes_no in TOPIC_FRAMES:
        if (match := frame.match(asked)) and not (yes_no and CLAUSE_RE.match(match.group("topic"))):
            return match.group("topic"), yes_no
    return None


def heading_path(source: Source) -> list[str]:
    """A section's file and headings ("complex.md", "Complex Applications", "Lazily Loading …"), without
    the "(part n)" of a long section's later pieces."""
    title = PIECE_MARK_RE.sub("", str(source.nodes[0].metadata.get(TITLE) or ""))
    return [part for part in title.split(PATH_SEPARATOR) if part]


def heading_terms(path: list[str]) -> set[str]:
    if not path:
        return set()
    return terms(" ".join([re.sub(r"\.\w+$", "", path[0]).replace("-", " ").replace("_", " "), *path[1:]]))


def covering_sections(topic: str, context: Context) -> list[tuple[list[str], list[int]]]:
    """The sections of the context whose headings name the topic, in the context's order (its best match
    first), each with the numbers of its sources. A long section's pieces are one section, and sections
    of one file under a heading that itself names the topic are that heading ("Standalone Application
    with Nuitka" for its "Building" and "Configuration")."""
    wanted = terms(topic)
    need = min(MIN_HEADING_WORDS, len(wanted))

    def names_topic(path: list[str]) -> bool:
        return bool(need) and len(wanted & heading_terms(path)) >= need

    found: list[tuple[list[str], list[int]]] = []
    for source in context.sources:
        if source.kind != CHUNK or not names_topic(path := heading_path(source)):
            continue
        for i, (seen, numbers) in enumerate(found):
            common = _common_prefix(seen, path)
            if common and names_topic(common):
                found[i] = (common, numbers + [source.n])
                break
        else:
            found.append((path, [source.n]))
    return found


def _common_prefix(a: list[str], b: list[str]) -> list[str]:
    common = []
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common.append(x)
    return common


def section_answer(question: str, context: Context, disabled: frozenset[str] = frozenset()) -> Listing | None:
    """ "Yes. It is covered in “Lazily Loading Subcommands” (complex.md › Complex Applications) [1]." for a
    question about where the documents cover a topic, or None (the model answers) when it is not one or no
    section's heading names the topic."""
    asked = topic_of(question)
    if SECTIONS in disabled or asked is None:
        return None
    topic, yes_no = asked
    sections = covering_sections(topic, context)
    if not sections:
        return None
    named = [f"{named_section(path)} {''.join(f'[{n}]' for n in numbers)}" for path, numbers in sections]
    where = named[0] if len(named) == 1 else "; ".join(named[:-1]) + f"; and {named[-1]}"
    # The best section's opening sentences, cited by the piece it starts with, shown whole (an excerpt may
    # lack them); none when retrieval did not bring its start.
    path, first_numbers = sections[0]
    starts = [context.sources[n - 1].nodes[0] for n in first_numbers if _starts(context.sources[n - 1], path)]
    if starts and (said := opening(piece := starts[0])):
        context, numbers = with_pieces_whole(context, [piece])
        n = numbers[piece.node_id]
        cited = f"It is covered in {where}. " + " ".join(f"{s.rstrip('.!?')} [{n}]." for s in said)
        return Listing(cited=cited, counted="Yes." if yes_no else "", rule=SECTIONS, context=context)
    return Listing(cited=f"It is covered in {where}.", counted="Yes." if yes_no else "", rule=SECTIONS)


def _starts(source: Source, path: list[str]) -> bool:
    """Is the source the start of the section at `path`: that heading's own text, its first piece?"""
    title = str(source.nodes[0].metadata.get(TITLE) or "")
    return heading_path(source) == path and (not PART_MARK_RE.search(title) or title.endswith("(part 1)"))


def opening(node: BaseNode) -> list[str]:
    """The first sentences of the section's first paragraph when it is prose (not code, a list, a table
    or a directive), up to OPENING_CHARS in all, with links as their text; none when
    the section opens otherwise, or with a sentence longer than that."""
    for block, is_code in blocks(section_body(node)):
        lines = block.split("\n")
        if is_code or list_item(lines[0]) or is_table(lines) or _NOT_PROSE_RE.match(block):
            return []
        picked: list[str] = []
        # Links as their text (`section_body` already reads roles as a reader sees them).
        for sentence in sentences(LINK_RE.sub(r"\1", unwrapped(block))):
            if sentence.endswith(":") or len(" ".join([*picked, sentence])) > OPENING_CHARS:
                break  # "… the following environments:" leads into what it does not itself say
            picked.append(sentence)
        return picked
    return []


def named_section(path: list[str]) -> str:
    """“Heading” (file › parent headings): the section's own heading first, where it is second."""
    return f"“{path[-1]}” ({PATH_SEPARATOR.join(path[:-1])})" if len(path) > 1 else f"“{path[0]}”"
