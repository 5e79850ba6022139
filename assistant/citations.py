"""Citations are checked in code: only numbers of sources really in the context survive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.context import CITATION_RE, Context, Source, cited_numbers
from assistant.names import cities, label_of, short_name
from assistant.questions import asks_for_entry
from assistant.text import ordered_terms, terms

MIN_SHARED = 0.5
# A cited sentence must also find this share of its new words (those not in the question) in its
# sources: "ICML 2024 is held in Vienna [1]" shares "ICML 2024" with the overview, not "Vienna".
MIN_NEW = 0.5
# ... and this share of the words it takes from the question, other than the cited postings' places:
# "“A” [2] won a best paper award" answers "Which paper won a best paper award?" with a title that [2]
# holds, and a premise it does not.
MIN_ASKED = 0.5
# An uncited sentence is kept only when one source holds this share of its words and of its new
# words; that source is then cited for it, by code.
MIN_UNCITED = 0.75
# Two or more bare numbers in a row, "[1], [2] and [3]" (or "[1] [3]"): a list naming none of its items.
BARE_LIST_RE = re.compile(r"\[\d+\](?:(?:\s*,\s*(?:and\s+)?|\s*;\s*|\s+and\s+|[ \t]+)\[\d+\])+")
# A source named by its number only: "The paper written by X is [1]." or "[1] proposes …".
BARE_REFERENCE_RE = re.compile(
    r"(?:\b(?:is|are|was|were|titled|called|named|paper|posting)\s*:?|:)[ \t]*\[(\d+)\](?=[ \t]*(?:[.!?,;]|$))"
    r"|^[ \t]*\[(\d+)\](?=[ \t]+[a-z])",
    re.M,
)
# What an abstaining sentence looks like; every abstention is shown as UNSUPPORTED.
ABSTAIN_RE = re.compile(
    r"sources? (do|does) not (say|contain|mention|provide|specify|state|include)|not (mentioned|stated) in the sources"
    r"|no (information|mention) (about|of|on)",
    re.I,
)
UNSUPPORTED = "The sources do not say."
SENTENCE_SPLIT_RE = re.compile(r"((?<=[.!?])[ \t]+|\s*\n\s*)")


@dataclass(frozen=True)
class Citation:
    """A verified citation: the source number and the entries behind it."""

    n: int
    ids: tuple[str, ...]
    kind: str
    label: str
    snippet: str
    # The sentences of the source's passage that support what the citation is attached to, chosen by
    # the same check that kept the citation: (start, end) offsets into the passage, and their text.
    support: tuple[tuple[int, int, str], ...] = ()

    def as_json(self) -> dict:
        return {
            "n": self.n,
            "id": self.ids[0],
            "ids": list(self.ids),
            "kind": self.kind,
            "label": self.label,
            "snippet": self.snippet,
            "support": [{"start": start, "end": end, "text": text} for start, end, text in self.support],
        }


@dataclass(frozen=True)
class Verified:
    """The answer with invalid citations and unsupported sentences removed, and what was cited."""

    text: str
    citations: list[Citation]
    invalid: list[int]
    abstained: bool
    unsupported: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # sentences no source supports
    auto_cited: list[int] = field(default_factory=list)  # sources cited by code for an uncited sentence
    model_citations: int = 0  # citations the answer came with, to sources or not
    supported_sentences: int = 0  # shown sentences stating a fact with a verified citation
    fact_sentences: int = 0  # shown sentences stating a fact

    @property
    def clean(self) -> bool:
        """Nothing had to be removed: every citation and every sentence held."""
        return not (self.invalid or self.unsupported or self.dropped)


# Of a claim's new words that a cited source holds, this share must stand within this many adjacent
# sentences of it (beside its header and title lines), not scattered over the whole passage.
SUPPORT_WINDOW = 2
WINDOW_SHARE = 0.75
SENTENCE_SUPPORT = "sentence-support"  # the rule's name in RAG_DISABLED_RULES


def sentence_windows(source: Source) -> list[set[str]]:
    """The terms of each run of SUPPORT_WINDOW adjacent sentences of a source, each with its header lines
    (the entry's kind, place or title), which every sentence of it is about."""
    lines = CITATION_RE.sub(" ", source.render()).split("\n")
    heading = 2 if source.kind == "paper" else 1  # a paper's "Paper: <title>" line names what it is about
    head = terms(" ".join(lines[:heading]))
    sentences = [terms(s) for s in SENTENCE_SPLIT_RE.split("\n".join(lines[heading:])) if s.strip()]
    if len(sentences) <= SUPPORT_WINDOW:
        return [head.union(*sentences)]
    return [head.union(*sentences[i : i + SUPPORT_WINDOW]) for i in range(len(sentences) - SUPPORT_WINDOW + 1)]


def _held_in_a_window(new: set[str], cited: list[Source]) -> bool:
    """Rule "sentence-support": a claim is carried by one place of a source (a sentence or two), not by
    words gathered from all over it ("the International Machine Learning team" from a posting that
    says "International" in one paragraph and "machine learning" in another). Each cited source
    contributes its one best place, so a list citing several sources is checked item by item."""
    covered: set[str] = set()
    for source in cited:
        covered |= max((new & window for window in sentence_windows(source)), key=len, default=set())
    held = new & set().union(*(window for source in cited for window in sentence_windows(source)))
    return len(covered) >= WINDOW_SHARE * len(held)


def verify(answer: str, context: Context, question: str = "", disabled: frozenset[str] = frozenset()) -> Verified:
    """Keep a citation `[n]` only if source n is in the context and supports what it is attached to;
    keep a sentence only if a verified citation supports it.

    What a citation supports is the text since the previous citation in its sentence (so a list
    "EMC2 [1], MADA [2] and COLLAGE [3]." checks each title against its own source) or else the
    whole sentence. A source supports a claim holding at least half of its content words; in a
    group like `[1, 2]` the sources may share the claim, each holding its part. The sentence's
    cited sources together must also hold half of its words that are not in the question, and half
    of those it takes from the question (a premise no source states is not made true by a title).
    Numbers that name no source are reported as `invalid`, real sources that fail the check as
    `unsupported`; both are removed from the text. A sentence left without a citation is cited
    by code when one source holds nearly all of it, and dropped otherwise; a sentence made only of
    the question's words states nothing and is dropped too, unless the question asks which entry
    it is. An abstaining sentence becomes "The sources do not say.". Without a `question` every word
    counts as new (code-written answers, whose words may all be the question's).
    """
    sources = context.by_number()
    # Without the "[n]" of the header: the number of a source is not a fact it states.
    source_terms = {n: terms(CITATION_RE.sub(" ", s.render())) for n, s in sources.items()}
    asked = terms(question)
    used: list[int] = []
    invalid: list[int] = []
    unsupported: list[int] = []
    dropped: list[str] = []
    auto_cited: list[int] = []
    counts = {"model": 0, "supported": 0, "facts": 0}
    claims_for: dict[int, list[set[str]]] = {}  # what each kept citation was checked against

    def supports(n: int, group: list[int], claims: list[set[str]]) -> bool:
        if not claims:
            return True
        together = set().union(*(source_terms[g] for g in group))
        for claim in claims:
            share = len(claim & source_terms[n]) / len(claim)
            if share >= MIN_SHARED:
                return True
            if len(group) > 1 and share >= MIN_SHARED / len(group) and len(claim & together) >= MIN_SHARED * len(claim):
                return True
        return False

    def cite_checked(sentence: str) -> tuple[str, list[tuple[int, list[set[str]]]]]:
        sentence_claim = terms(CITATION_RE.sub(" ", sentence))
        previous_end = 0
        kept_here: list[tuple[int, list[set[str]]]] = []

        def keep_valid(match: re.Match[str]) -> str:
            nonlocal previous_end
            segment_claim = terms(CITATION_RE.sub(" ", sentence[previous_end : match.start()]))
            previous_end = match.end()
            claims = [c for c in (segment_claim, sentence_claim) if c]
            numbers = cited_numbers(match)
            counts["model"] += len(numbers)
            invalid.extend(n for n in numbers if n not in sources)
            group = [n for n in numbers if n in sources]
            kept = []
            for n in group:
                if not supports(n, group, claims):
                    unsupported.append(n)
                    continue
                kept.append(n)
            kept_here.extend((n, claims) for n in kept)
            return "".join(f"[{n}]" for n in kept)

        return CITATION_RE.sub(keep_valid, sentence), kept_here

    def check_sentence(sentence: str) -> str:
        if not sentence.strip() or SENTENCE_SPLIT_RE.fullmatch(sentence):
            return sentence
        if ABSTAIN_RE.search(sentence):
            return UNSUPPORTED
        text, checked = cite_checked(sentence)
        kept = [n for n, _ in checked]
        about = _named_entry(text, sources)
        if about is not None and kept and not any(about(sources[n]) for n in kept):
            # "The authors of “A” are … [2]" with [2] another paper: its names are in [2], but not as A's.
            unsupported.extend(kept)
            text, checked, kept = CITATION_RE.sub(" ", text), [], []

        def accept(numbers: list[int]) -> None:
            used.extend(n for n in numbers if n not in used)
            for n, claims in checked:
                claims_for.setdefault(n, []).extend(c - asked or c for c in claims)

        claim = terms(CITATION_RE.sub(" ", text))
        if not any(not t.isdigit() for t in claim):  # a bullet, a list number, or source numbers alone
            if kept and question and not asks_for_entry(question):
                unsupported.extend(kept)  # "[1]" does not answer "under which area does EMC2 appear?"
                return ""
            accept(kept)
            return text
        new = claim - asked
        if not new and question and not (kept and asks_for_entry(question)) and not text.rstrip().endswith(":"):
            # Only the question's own words: "The deadline of the Bengaluru posting is [1]." or "The Madrid
            # team will join to work on Haul." state nothing, unless the question asks which entry it is
            # (then the source's number is the answer, and its name is written in below).
            unsupported.extend(kept)
            dropped.append(_tidy_removals(CITATION_RE.sub("", text)))
            return ""
        # A model's number must stand in a cited source beside one of the sentence's words ("5 citations"
        # is not "(5 authors)"); code-written answers (no question) state counts the sources do not.
        numbers = {t for t in new if t.isdigit()} if question else set()
        restated = claim & asked
        if kept:
            held = set().union(*(source_terms[n] for n in kept))
            anchored = not numbers or _numbers_anchored(numbers, claim, [sources[n] for n in kept])
            grounded = _premise_held(restated, [sources[n] for n in kept], held)
            windowed = SENTENCE_SUPPORT in disabled or _held_in_a_window(new, [sources[n] for n in kept])
            if anchored and grounded and windowed and (not new or len(new & held) >= MIN_NEW * len(new)):
                counts["facts"] += 1
                counts["supported"] += 1
                accept(kept)
                return text
            unsupported.extend(kept)
            text = CITATION_RE.sub(" ", text)
        best = _best_source(claim, new, source_terms)
        if best is not None and about is not None and not about(sources[best]):
            best = None
        if best is not None and numbers and not _numbers_anchored(numbers, claim, [sources[best]]):
            best = None
        if best is not None and not _premise_held(restated, [sources[best]], source_terms[best]):
            best = None
        if best is not None and SENTENCE_SUPPORT not in disabled and not _held_in_a_window(new, [sources[best]]):
            best = None
        if best is None:
            dropped.append(_tidy_removals(CITATION_RE.sub("", text)))
            return ""
        counts["facts"] += 1
        auto_cited.append(best)
        if best not in used:
            used.append(best)
        claims_for.setdefault(best, []).append(new or claim)
        return re.sub(r"^(.*?)[ \t]*([.!?:]?)[ \t]*$", rf"\1 [{best}]\2", text.rstrip(), flags=re.S)

    answer, blocks = _hold_code(answer)
    parts = SENTENCE_SPLIT_RE.split(_cite_before_stop(answer))
    text = "".join(part if CODE_MARK_RE.fullmatch(part) else check_sentence(part) for part in parts)
    text = _restore_code(text, blocks, context, dropped)
    text = _tidy_removals(_collapse_abstentions(text))
    text = name_bare_references(name_bare_lists(text, sources), sources)
    citations = [_citation(sources[n], claims_for.get(n, [])) for n in used]
    return Verified(
        text,
        citations,
        sorted(set(invalid)),
        bool(ABSTAIN_RE.search(text)),
        sorted(set(unsupported)),
        dropped,
        auto_cited,
        counts["model"],
        counts["supported"],
        counts["facts"],
    )


# A fenced code block of an answer is checked as one unit: kept only when a source holds it whole.
FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)
INLINE_CODE_RE = re.compile(r"`[^`\n]+`")
CODE_MARK_RE = re.compile(r"\x00code(\d+)\x00")


def _hold_code(answer: str) -> tuple[str, list[str]]:
    """The answer with each fenced block set aside (a line of its own), and the blocks."""
    blocks: list[str] = []

    def hold(match: re.Match[str]) -> str:
        blocks.append(match.group(0))
        return f"\n\x00code{len(blocks) - 1}\x00\n"

    return FENCE_RE.sub(hold, answer), blocks


def _restore_code(text: str, blocks: list[str], context: Context, dropped: list[str]) -> str:
    """Each block back in place if a source holds its code verbatim (whitespace aside),
    without the citations a model put inside it; else removed whole, never cut line by line. Citations
    inside inline code go too."""
    passages = [" ".join(CITATION_RE.sub(" ", s.passage).split()) for s in context.sources]

    def put_back(match: re.Match[str]) -> str:
        block = re.sub(rf"[ \t]*(?:{CITATION_RE.pattern})", "", blocks[int(match.group(1))])
        code = " ".join(FENCE_RE.sub(lambda m: m.group(1), block).split())
        if code and any(code in passage for passage in passages):
            return block.strip()
        dropped.append(block.strip())
        return ""

    text = CODE_MARK_RE.sub(put_back, text)
    return INLINE_CODE_RE.sub(lambda m: CITATION_RE.sub("", m.group(0)), text)


def _best_source(claim: set[str], new: set[str], source_terms: dict[int, set[str]]) -> int | None:
    """The source that holds nearly all of an uncited sentence (its words and its new words), if any."""
    best, best_share = None, 0.0
    for n, held in source_terms.items():
        share = len(claim & held) / len(claim)
        if share >= MIN_UNCITED and (not new or len(new & held) >= MIN_UNCITED * len(new)) and share > best_share:
            best, best_share = n, share
    return best


def _collapse_abstentions(text: str) -> str:
    """One "The sources do not say." however often the answer said it, and nothing else if that is all."""
    if UNSUPPORTED not in text:
        return text
    first = text.index(UNSUPPORTED) + len(UNSUPPORTED)
    text = text[:first] + text[first:].replace(UNSUPPORTED, "")
    return text


def _tidy_removals(text: str) -> str:
    """Mend what removed citations leave behind: double spaces, ", ," and a list ending "… [2] and."."""
    text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    text = re.sub(r"([,;])(?:[ \t]*[,;])+", r"\1", text)
    text = re.sub(r"(\])[,;]?[ \t]+(?:and|or)([.!?])", r"\1\2", text)
    return re.sub(r"[,;]([.!?])", r"\1", text).strip()


def _cite_before_stop(answer: str) -> str:
    """ "Paris. [1]" → "Paris [1]." so a citation stays with the sentence it follows."""
    return re.sub(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)", r"\2\1", answer)


def name_bare_lists(text: str, sources: dict[int, Source]) -> str:
    """ "The papers are [1], [2] and [3]." → "The papers are “EMC2…” [1], “MADA…” [2] and “…” [3]."

    A small model often lists sources by number only, which tells a reader nothing. The names are
    written here, in code, from the sources the citations were verified against, so a list can only
    name entries that were in the context (asking the model to name them made it repeat planted
    text). An item whose name the model already wrote just before its number is left as it is.
    """

    def name_run(match: re.Match[str]) -> str:
        preceding = re.split(r"\]|[.!?]\s", text[: match.start()])[-1]
        run = match.group(0)
        if re.fullmatch(r"(?:\[\d+\][ \t]*)+", run):
            if terms(preceding):
                return run  # "Paris [1] [2]": two sources for one claim, not a list
            run = re.sub(r"\][ \t]+\[", "], [", run)  # an answer that is only "[1] [3]"
        first = True

        def name_one(number: re.Match[str]) -> str:
            nonlocal first
            source = sources.get(int(number.group(1)))
            already_named = first and source is not None and names_source(preceding, source)
            first = False
            if source is None or already_named:
                return number.group(0)
            return f"{short_name(source)} {number.group(0)}"

        return re.sub(r"\[(\d+)\]", name_one, run)

    return BARE_LIST_RE.sub(name_run, text)


def name_bare_references(text: str, sources: dict[int, Source]) -> str:
    """ "The paper written by Di Wu is [1]." → "… is “REPOFORMER: …” [1]."; "[2] proposes" → "“EMC2…” [2] proposes".

    Written in code from the verified source, like `name_bare_lists`, unless the sentence names it already.
    """

    def name_one(match: re.Match[str]) -> str:
        number = int(match.group(1) or match.group(2))
        source = sources.get(number)
        sentence = re.split(r"[.!?]\s", text[: match.start()])[-1]
        if source is None or names_source(sentence, source):
            return match.group(0)
        marker = f"[{number}]"
        return match.group(0).replace(marker, f"{short_name(source)} {marker}", 1)

    return BARE_REFERENCE_RE.sub(name_one, text)


def names_source(text: str, source: Source) -> bool:
    """Does `text` already name the source: half the words of its title, or of the part before a
    colon ("EMC2" for "EMC2: Efficient MCMC negative sampling…"), or a posting's city?"""
    name = terms(" ".join(cities(source)) if source.kind == "posting" else label_of(source).split(":")[0])
    return bool(name) and len(name & terms(text)) >= MIN_SHARED * len(name)


def _premise_held(restated: set[str], cited: list[Source], held: set[str]) -> bool:
    """Do the cited sources hold what a sentence takes from the question? Half of those words, or all
    but one, once the cited postings' places are set aside: a place says which posting, not that the
    question's premise is true of it ("the Barcelona posting requires a degree" is not held by
    "Barcelona"). A paper's title stays: it states what the paper is about ("What problem does EMC2
    address?" is answered by its title). One word may be the question's paraphrase ("stands for")."""
    places = [terms(label_of(source)) for source in cited if source.kind == "posting"]
    premise = restated - set().union(*places)
    missing = premise - held
    return len(missing) <= 1 or len(premise & held) >= MIN_ASKED * len(premise)


def _numbers_anchored(numbers: set[str], claim: set[str], cited: list[Source], reach: int = 3) -> bool:
    """Does every number stand in one of the cited sources within `reach` words of another word of the claim?"""
    words = claim - numbers
    sequences = [ordered_terms(CITATION_RE.sub(" ", source.render())) for source in cited]
    return all(
        any(
            term == number and words & set(sequence[max(0, i - reach) : i + reach + 1])
            for sequence in sequences
            for i, term in enumerate(sequence)
        )
        for number in numbers
    )


def _named_entry(sentence: str, sources: dict[int, Source]) -> Callable[[Source], bool] | None:
    """What a sentence naming exactly one entry must cite, as a test of a source: a source about that
    paper (the paper, or a caption naming it), or a posting in the one posting city it names ("The
    Bengaluru posting asks for …" is not supported by the Madrid posting's words)."""
    paper = _paper_named(sentence, sources)
    if paper is not None:
        return lambda source: _mentions(source, paper)
    held = terms(sentence)
    named = {c for s in sources.values() if s.kind == "posting" for c in cities(s) if terms(c) <= held and terms(c)}
    if len(named) == 1:
        city = named.pop()
        return lambda source: city in cities(source)
    return None


def _paper_named(sentence: str, sources: dict[int, Source]) -> Source | None:
    """The one paper of the context a sentence is about, if it names exactly one: by its short name
    before a colon ("EMC2"), or by three quarters of its title's words."""
    named = [s for s in sources.values() if s.kind == "paper" and _names_title(sentence, s)]
    return named[0] if len(named) == 1 else None


def _names_title(text: str, source: Source) -> bool:
    title = label_of(source)
    held = terms(text)
    short = terms(title.split(":")[0]) if ":" in title else set()
    if short and len(short) <= 3 and short <= held:
        return True
    words = terms(title)
    return bool(words) and len(words & held) >= 0.75 * len(words)


def _mentions(source: Source, paper: Source) -> bool:
    """Is `paper` what `source` says something about: the paper itself, or an entry naming it (a caption)?"""
    return source.n == paper.n or _names_title(source.passage, paper)


def _citation(source: Source, claims: list[set[str]]) -> Citation:
    snippet = source.passage if len(source.passage) <= 300 else source.passage[:297] + "…"
    return Citation(source.n, tuple(source.ids), source.kind, label_of(source), snippet, support_spans(source, claims))


def support_spans(source: Source, claims: list[set[str]]) -> tuple[tuple[int, int, str], ...]:
    """For each claim, the sentence (or line) of the passage that supports it; shorter wins a tie.

    An answer names its entry by title, so the words of the title identify rather than support: the
    sentence holding most of the claim's other words wins, else the one holding most of its words
    outside the title line, else the title line itself.
    """
    sentences = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[^\n.!?]+(?:[.!?]+|$)", source.passage, re.M)]
    sentences = [(a + len(t) - len(t.lstrip()), t.strip()) for a, _, t in sentences if terms(t)]
    sentences = [(start, start + len(text), text, terms(text)) for start, text in sentences]
    title = terms(label_of(source)) if source.kind == "paper" else set()
    beyond_title = [s for s in sentences if not title or s[3] - title - {"paper"}]
    spans = set()
    for claim in claims:
        for wanted, candidates in ((claim - title, sentences), (claim, beyond_title), (claim, sentences)):
            scored = [(len(wanted & held), -len(text), (start, end, text)) for start, end, text, held in candidates]
            best = max(scored, default=None)
            if best and best[0] > 0:
                spans.add(best[2])
                break
    return tuple(sorted(spans))
