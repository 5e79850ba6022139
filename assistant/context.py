"""Retrieval → the numbered sources the model sees, within a character budget.

- Entries named in the question (catalog matches) come first, then fused hits.
- Postings with identical text are one source that lists every location, so the model
  never reads (or repeats) the same description six times.
- Long entries are cut to the sentences that share most words with the question.
- Bracketed numbers inside documents are neutralised, so a document cannot plant a
  fake citation or a fake "[7]" source marker.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass, field, replace

from llama_index.core.schema import BaseNode, NodeWithScore

from rag.assistant.names import label_of, node_label, place_of, posting_heading
from rag.assistant.retrieve import Retrieval
from rag.assistant.schema import AREA, AUTHOR, CHUNK, CITY, COUNTRY, KIND, OVERVIEW, POSTING, TITLE, authors_of
from rag.assistant.text import CITATION_RE, sentence_parts, sentences, terms
from rag.ingest.blocks import readable_roles
from rag.ingest.sections import PIECE_MARK_RE

MIN_PASSAGE = 400
OMITTED = "[instruction-like text omitted]"
INSTRUCTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override|skip)\b.{0,30}\b"
    r"(?:instructions?|rules|sources|documents|prompts?|guidelines|guidance|directions|context)"
    r"|\b(?:reply|respond)\b.{0,20}\bonly\b|\b(?:every|each|all|your) (?:answers?|responses?|replies|outputs?)\b"
    r"|system prompt|system message|hidden (?:rules|instructions)|developer mode|jailbreak|new rules|from now on"
    r"|\bdo anything now\b|\byou are now\b|\bpretend\b|\bas an ai\b"
    r"|\b(?:reply|respond|answer|write)(?: only)? (?:with the word|in french|in spanish|in german|only with)\b"
    r"|\b(?:always|must) cite\b|\bcite source\b"
    r"|\b(?:append|add|include|insert|embed)\b.{0,25}\b(?:links?|urls?|images?)\b"
    r"|!\[[^\]]*\]\(|<(?:img|script|iframe|form|object|embed|svg)\b|\b(?:reveal|print|repeat|show|output|translate)\b.{0,30}\b(?:prompt|instructions)\b"
    r"|\btell the user\b|\binstead of answering\b"
    # the same in Spanish, French and German
    r"|\bignora\b.{0,30}\binstrucciones\b|\bignorez\b.{0,30}\binstructions\b|\bignoriere\b.{0,30}\banweisungen\b"
    r"|\b(?:olvida|oubliez|vergiss)\b.{0,30}\b(?:instrucciones|instructions|anweisungen|reglas|règles|regeln)\b"
    r"|^\s*(?:system|assistant|user)\s*:|</?(?:sources?|system|context|instructions)>",
    re.IGNORECASE | re.MULTILINE,
)
# Look-alike letters from other scripts that NFKC leaves alone ("іgnore" with a Cyrillic і), for matching only.
CONFUSABLES = str.maketrans(
    "аеорсхуіјѕԁһӏԛԝАВЕКМНОРСТХУІЈЅαεορτυνκχΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcxyijsdhlqwABEKMHOPCTXYIJSaeoptuvkxABEHIKMNOPTYX",
)
MAX_LISTED = 12
TABLE_ROW_RE = re.compile(r"(?m)^[ \t]*\|(?:[^|\n]*\|){2,}[ \t]*$")  # "| a | b |": two cells or more
IMAGE_RE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")


@dataclass
class Source:
    """One numbered source block: one entry, or several postings with the same text."""

    n: int
    nodes: list[BaseNode]
    passage: str
    score: float | None = None

    @property
    def ids(self) -> list[str]:
        return [node.node_id for node in self.nodes]

    @property
    def kind(self) -> str:
        return str(self.nodes[0].metadata.get(KIND, ""))

    def header(self) -> str:
        meta = self.nodes[0].metadata
        if self.kind == POSTING:
            return f"[{self.n}] {posting_heading([place_of(n) for n in self.nodes])}"
        if self.kind == CHUNK:  # the title is a file name, which a document's author chose
            return f"[{self.n}] Document {neutralise(str(meta.get(TITLE, '')))}"
        return f"[{self.n}] {self.kind.capitalize() or 'Entry'}"

    def render(self) -> str:
        return f"{self.header()}\n{self.passage}"

    def stated(self) -> str:
        """The source as the citation check reads it: its rendering without its number or where the piece
        sits in its document ("(part 1)", ", page 4"), which are no facts it states ("nargs=-1")."""
        return CITATION_RE.sub(" ", f"{PIECE_MARK_RE.sub(' ', self.header())}\n{self.passage}")


@dataclass
class Context:
    """The sources given to the model, and the text they render to."""

    sources: list[Source] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    # In a fixed context (the whole corpus), what this question's retrieval adds goes after the
    # sources, so every prompt starts with the same text: the facts, the best-matching sources and
    # the best one's passage again.
    fixed: bool = False
    pointers: list[int] = field(default_factory=list)
    named: int = 0  # how many of the pointers the prompt names (all when 0); a person is shown all
    excerpt: str = ""  # the best match's passage again, cut to what the question asks, beside the question

    def title_words(self) -> set[str]:
        """The terms of the guides' own titles ("the ICML papers"): they name the corpus, narrowing nothing."""
        return terms(" ".join(label_of(s) for s in self.sources if s.kind == OVERVIEW))

    def text(self) -> str:
        return "\n\n".join(part for part in self.parts() if part)

    def parts(self) -> tuple[str, str]:
        """The sources as the model reads them, in two parts: what every prompt over this corpus starts
        with (the whole corpus in a fixed context, else everything) and what this question adds after it
        (empty unless fixed). A prompt that puts its standing instructions between the two keeps them in
        the server's cached prefix too."""
        parts = [s.render() for s in self.sources]
        facts = ["Index facts (exact counts from the index metadata):\n" + "\n".join(self.facts)] if self.facts else []
        if not self.fixed:
            parts = facts + parts
            return ("Sources:\n\n" + "\n\n".join(parts) if parts else "Sources: none found."), ""
        shown = self.shown()
        best = [f"[{s.n}] {neutralise(label_of(s))}" for s in shown[: self.named or None]]
        after = facts + (["Sources that match this question best:\n" + "\n".join(best)] if best else [])
        if self.excerpt and shown:
            after.append(f"From the best match, [{shown[0].n}]:\n{self.excerpt}")
        return "\n\n".join(["Sources:", *parts]), "\n\n".join(after)

    def by_number(self) -> dict[int, Source]:
        return {s.n: s for s in self.sources}

    def shown(self) -> list[Source]:
        """The sources shown to a person as what was found for the question: all of them, or in a fixed
        context (the whole corpus) those retrieval ranked first, numbered as the model read them."""
        if not self.fixed:
            return self.sources
        by_number = self.by_number()
        return [by_number[n] for n in self.pointers if n in by_number]


def build_context(retrieval: Retrieval, budget_chars: int, max_entries: int) -> Context:
    """Group, order, trim and number the retrieved entries."""
    hit_scores = {h.node.node_id: h.score for h in retrieval.hits}
    scored = [(n, hit_scores.get(n.node_id)) for n in _matched_first(retrieval)]
    scored += [(h.node, h.score) for h in retrieval.hits]
    groups: dict[str, list[tuple[BaseNode, float | None]]] = {}
    for node, score in scored[: max_entries + len(retrieval.hits)]:
        key = _group_key(node)
        if node.node_id not in {n.node_id for n, _ in groups.get(key, [])}:
            groups.setdefault(key, []).append((node, score))
    groups_list = list(groups.values())[:max_entries]

    context = Context()
    per_source = max(MIN_PASSAGE, budget_chars // max(len(groups_list), 1))
    used = 0
    for members in groups_list:
        # Identical postings tie in retrieval and come back in any order; sorted, the same question
        # always gets the same context (and the model the same prompt).
        members = sorted(members, key=lambda member: member[0].node_id)
        nodes = [n for n, _ in members]
        scores = [s for _, s in members if s is not None]
        passage = select_passage(display_text(nodes[0]), retrieval.question, per_source)
        if context.sources and used + len(passage) > budget_chars:
            break
        used += len(passage)
        context.sources.append(Source(len(context.sources) + 1, nodes, passage, max(scores) if scores else None))
    context.facts = index_facts(retrieval, context)
    return context


def corpus_context(nodes: list[BaseNode], budget_chars: int) -> Context | None:
    """Every entry, whole and numbered in a fixed order, so every question's prompt starts with the same
    text and the model server reads it once (cache-augmented generation); None when the corpus is larger
    than `budget_chars`."""
    ordered = sorted(nodes, key=lambda node: node.node_id)
    everything = Retrieval(question="", hits=[NodeWithScore(node=node, score=None) for node in ordered])
    context = build_context(everything, budget_chars=sys.maxsize, max_entries=len(ordered))
    return context if len(context.text()) <= budget_chars else None


def focus(whole: Context, retrieval: Retrieval, retrieved: Context, *, named: int, excerpt_chars: int) -> Context:
    """The fixed corpus context for one question: every source as before (the prefix the server keeps),
    then the index facts this question's retrieval found, the first `named` sources it ranked first
    (numbered as in the corpus, so the model knows where to look) and the best one's sentences that
    share a word with the question (at most `excerpt_chars`): every token after the prefix is read anew."""
    number = {i: s.n for s in whole.sources for i in s.ids}
    pointers = list(dict.fromkeys(number[i] for s in retrieved.sources for i in s.ids if i in number))
    # Entries a name selects first, each in the order retrieval ranks them: of an area's papers, the
    # one about the question's topic ("which RL paper is about target networks?") is the best match.
    rank = {h.node.node_id: k for k, h in enumerate(retrieval.hits)}
    matched = {number[i] for m in retrieval.matches for i in m.ids if i in number}
    ids_of = {s.n: s.ids for s in whole.sources}
    pointers.sort(key=lambda n: (n not in matched, min((rank.get(i, len(rank)) for i in ids_of[n]), default=0)))
    excerpt = ""
    if pointers and excerpt_chars:
        best = whole.by_number()[pointers[0]]
        excerpt = matching_sentences(best.passage, retrieval.question, excerpt_chars, name=label_of(best))
    return replace(
        whole, facts=index_facts(retrieval, whole), fixed=True, pointers=pointers, named=named, excerpt=excerpt
    )


def _matched_first(retrieval: Retrieval) -> list[BaseNode]:
    hit_ids = {h.node.node_id for h in retrieval.hits}
    by_id = {h.node.node_id: h.node for h in retrieval.hits}
    ordered: list[BaseNode] = []
    for match in retrieval.matches:
        for entry_id in match.ids:
            if entry_id in hit_ids:
                ordered.append(by_id[entry_id])
    ordered += retrieval.expanded
    return ordered


def index_facts(retrieval: Retrieval, context: Context) -> list[str]:
    """Counts and lists the model cannot be trusted to make: every entry a name selects."""
    where = {i: s.n for s in context.sources for i in s.ids}
    labels = {n.node_id: neutralise(node_label(n)) for s in context.sources for n in s.nodes}
    facts = []
    for match in retrieval.matches:
        kinds: dict[str, int] = {}
        for entry_id in match.ids:
            kind = entry_id.split("/", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        counted = ", ".join(f"{c} {k}{'s' if c > 1 else ''}" for k, c in kinds.items())
        label = {
            AUTHOR: "by author",
            CITY: "in city",
            COUNTRY: "in country",
            AREA: "in research area",
            KIND: "of kind",
        }[match.field]
        listed = [f"{labels[i]} [{where[i]}]" for i in match.ids if i in labels]
        if len(match.ids) <= MAX_LISTED and len(listed) == len(match.ids):
            facts.append(f"- Entries {label} {match.value}: {counted}: " + "; ".join(dict.fromkeys(listed)))
        else:
            facts.append(f"- Entries {label} {match.value}: {counted}")
    return facts


def _group_key(node: BaseNode) -> str:
    if node.metadata.get(KIND) == POSTING:
        text = node.get_content().split("\n", 1)[-1]
        return "posting:" + hashlib.sha256(text.encode()).hexdigest()
    return node.node_id


def display_text(node: BaseNode) -> str:
    text = node.get_content()
    authors = authors_of(node.metadata)
    if len(authors) >= 3:  # a small model miscounts long author lists; code states the ends of the list
        order = f"Author order: first {authors[0]}, last {authors[-1]} ({len(authors)} authors)"
        text = re.sub(r"(?m)^(Authors: .*)$", lambda m: f"{m.group(1)}\n{order}", text, count=1)
    if node.metadata.get(KIND) == POSTING:
        text = text.split("\n", 1)[-1]  # the location is in the header
    # "{meth}`Group.get_command`" as `Group.get_command`: what a reader sees, and what an answer should write
    return neutralise(readable_roles(text))


def section_body(node: BaseNode) -> str:
    """A document section's text as `display_text` shows it, without its heading line (`without_heading`)."""
    return without_heading(display_text(node), node)


def without_heading(text: str, node: BaseNode) -> str:
    """`text` (of `node`) without its first line when that repeats the section's heading path, stored as
    its "section" when it was ingested: the source's header already shows it."""
    first, _, rest = text.partition("\n")
    return rest if first.strip() and first.strip() == str(node.metadata.get("section", "")).strip() else text


def neutralise(text: str) -> str:
    """Defuse documents: drop sentences that address the assistant, and planted citation markers.

    `[3]` → `(3)` and `Source 7:` → `Source 7 -`, so a document cannot fake a source block.
    """
    text = omit_instructions(_table_images(text))
    text = CITATION_RE.sub(r"(\1)", text)
    return re.sub(r"(?im)^(\s*(?:source|\[)\s*\d+)\s*[:\]]", r"\1 -", text)


def _table_images(text: str) -> str:
    """A table row without its images (a project's "GitHub stars" badge): an image states nothing a reader
    of the text needs, and the sentence it would have had omitted (an image is how a document would fetch
    an address) runs on over the following rows. Its cell stays, empty, so the row keeps its columns; the
    row's words still pass `omit_instructions`."""
    return TABLE_ROW_RE.sub(lambda row: IMAGE_RE.sub("", row.group(0)), text)


def omit_instructions(text: str) -> str:
    """Replace sentences written to steer an AI assistant (prompt injection) with a marker.

    Sentences are matched in a normal form, so zero-width characters, look-alike letters, full-width
    forms and line breaks inside a phrase do not hide it.
    """
    kept = []
    for part in sentence_parts(text, lines=False):
        kept.append(OMITTED if part.strip() and INSTRUCTION_RE.search(match_form(part)) else part)
    return "".join(kept)


def visible(text: str) -> str:
    """NFKC (full-width and compatibility forms folded), format characters (zero-width, bidi) removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")


def match_form(text: str) -> str:
    """`visible`, look-alike letters folded, a phrase broken over lines joined."""
    text = visible(text).translate(CONFUSABLES)
    return re.sub(r"[ \t]*\n[ \t]*(?=\S)", lambda m: "\n" if _line_start(m) else " ", text)


def _line_start(match: re.Match[str]) -> bool:
    """Keep a line break before "System:" or "User:" (a planted turn), join other broken lines."""
    return bool(re.match(r"(?i)(?:system|assistant|user)\s*:", match.string[match.end() :]))


def select_passage(text: str, question: str, budget: int) -> str:
    """The text itself if short; else its first sentence and the best-matching sentences."""
    if len(text) <= budget:
        return text
    cut = sentences(text)
    # The title's words name the entry (its first sentence is always kept); the rest say what is asked:
    # "Who are the authors of <title>?" wants the Authors line, not a caption repeating the title.
    wanted = terms(question) - terms(cut[0])
    ranked = sorted(range(1, len(cut)), key=lambda i: -len(wanted & terms(cut[i])))
    return _fill(cut, ranked, budget, first={0})


def matching_sentences(text: str, question: str, budget: int, name: str = "") -> str:
    """The sentences of `text` that share a content word with the question other than those of the
    entry's `name` (which only says which entry it is), best first within `budget` characters, in
    text order; "" when none does."""
    cut = sentences(text)
    wanted = terms(question) - terms(name)
    overlap = {i: len(wanted & terms(sentence)) for i, sentence in enumerate(cut)}
    return _fill(cut, sorted((i for i in overlap if overlap[i]), key=lambda i: -overlap[i]), budget)


def _fill(sentences: list[str], ranked: list[int], budget: int, first: set[int] | None = None) -> str:
    """`first`, then each of `ranked` in turn that still fits in `budget` characters, in text order."""
    chosen = set(first or ())
    size = sum(len(sentences[i]) for i in chosen)
    for i in ranked:
        if size + len(sentences[i]) <= budget:
            chosen.add(i)
            size += len(sentences[i]) + 1
    indexes = sorted(chosen)
    return " … ".join(_join_runs(indexes, [sentences[i] for i in indexes]))


def _join_runs(indexes: list[int], picked: list[str]) -> list[str]:
    """Consecutive sentences stay together; gaps become an ellipsis."""
    runs: list[str] = []
    previous = -2
    for index, sentence in zip(indexes, picked, strict=True):
        if index == previous + 1 and runs:
            runs[-1] += " " + sentence
        else:
            runs.append(sentence)
        previous = index
    return runs


def with_pieces_whole(context: Context, pieces: list[BaseNode]) -> tuple[Context, dict[str, int]]:
    """The context with each piece as a source shown whole (added after the others when retrieval did not
    bring it), and each piece's source number: what an answer quoting or listing from the pieces cites."""
    sources = list(context.sources)
    numbers: dict[str, int] = {}
    for piece in pieces:
        at = next((i for i, s in enumerate(sources) if s.nodes[0].node_id == piece.node_id), None)
        if at is None:
            sources.append(Source(n=len(sources) + 1, nodes=[piece], passage=display_text(piece)))
            at = len(sources) - 1
        else:
            sources[at] = replace(sources[at], passage=display_text(piece))
        numbers[piece.node_id] = sources[at].n
    # A fixed context shows the sources its pointers name: the pieces are among them.
    pointers = context.pointers + [n for n in numbers.values() if n not in context.pointers]
    return replace(context, sources=sources, pointers=pointers if context.fixed else context.pointers), numbers
