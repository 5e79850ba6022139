"""Citations are checked in code: only numbers of sources really in the context survive."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.context import Context, Source, terms

MIN_SHARED = 0.5
CITATION_RE = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
# Two or more bare numbers in a row, "[1], [2] and [3]" (or "[1] [3]"): a list naming none of its items.
BARE_LIST_RE = re.compile(r"\[\d+\](?:(?:\s*,\s*(?:and\s+)?|\s*;\s*|\s+and\s+|[ \t]+)\[\d+\])+")
ABSTAIN_RE = re.compile(
    r"sources? (do|does) not (say|contain|mention|provide)|not (mentioned|stated) in the sources", re.I
)


@dataclass(frozen=True)
class Citation:
    """A verified citation: the source number and the entries behind it."""

    n: int
    ids: tuple[str, ...]
    kind: str
    label: str
    snippet: str

    def as_json(self) -> dict:
        return {
            "n": self.n,
            "id": self.ids[0],
            "ids": list(self.ids),
            "kind": self.kind,
            "label": self.label,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Verified:
    """The answer with invalid citations removed, and what was cited."""

    text: str
    citations: list[Citation]
    invalid: list[int]
    abstained: bool
    unsupported: list[int] = field(default_factory=list)


def verify(answer: str, context: Context) -> Verified:
    """Keep a citation `[n]` only if source n is in the context and supports what it is attached to.

    What a citation supports is the text since the previous citation in its sentence (so a list
    "EMC2 [1], MADA [2] and COLLAGE [3]." checks each title against its own source) or else the
    whole sentence. A source supports a claim holding at least half of its content words; in a
    group like `[1, 2]` the sources may share the claim, each holding its part. Numbers that name
    no source are reported as `invalid`, real sources that fail the check as `unsupported`; both
    are removed from the text.
    """
    sources = context.by_number()
    source_terms = {n: terms(s.render()) for n, s in sources.items()}
    used: list[int] = []
    invalid: list[int] = []
    unsupported: list[int] = []

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

    def check_sentence(sentence: str) -> str:
        sentence_claim = terms(CITATION_RE.sub(" ", sentence))
        previous_end = 0

        def keep_valid(match: re.Match[str]) -> str:
            nonlocal previous_end
            segment_claim = terms(CITATION_RE.sub(" ", sentence[previous_end : match.start()]))
            previous_end = match.end()
            claims = [c for c in (segment_claim, sentence_claim) if c]
            numbers = [int(x) for x in re.split(r"[,;]", match.group(1))]
            invalid.extend(n for n in numbers if n not in sources)
            group = [n for n in numbers if n in sources]
            kept = []
            for n in group:
                if not supports(n, group, claims):
                    unsupported.append(n)
                    continue
                kept.append(n)
                if n not in used:
                    used.append(n)
            return "".join(f"[{n}]" for n in kept)

        return CITATION_RE.sub(keep_valid, sentence)

    text = "".join(check_sentence(part) for part in re.split(r"(?<=[.!?])(\s+)", _cite_before_stop(answer)))
    text = _tidy_removals(text)
    text = name_bare_lists(text, sources)
    citations = [_citation(sources[n]) for n in used]
    return Verified(text, citations, sorted(set(invalid)), bool(ABSTAIN_RE.search(text)), sorted(set(unsupported)))


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
            already_named = first and source is not None and _names(preceding, source)
            first = False
            if source is None or already_named:
                return number.group(0)
            return f"{short_name(source)} {number.group(0)}"

        return re.sub(r"\[(\d+)\]", name_one, run)

    return BARE_LIST_RE.sub(name_run, text)


def _names(text: str, source: Source) -> bool:
    """Does `text` already name the source: half the words of its title, or of the part before a
    colon ("EMC2" for "EMC2: Efficient MCMC negative sampling…"), or a posting's city?"""
    name = terms(" ".join(_cities(source)) if source.kind == "posting" else label_of(source).split(":")[0])
    return bool(name) and len(name & terms(text)) >= MIN_SHARED * len(name)


def short_name(source: Source) -> str:
    """How a list names a source: a paper's quoted title, or "the Boston posting"."""
    if source.kind == "posting":
        return f"the {'/'.join(_cities(source)) or 'job'} posting"
    return f"“{label_of(source)}”"


def _cities(source: Source) -> list[str]:
    return [c for c in dict.fromkeys(str(n.metadata.get("city") or "") for n in source.nodes) if c]


def label_of(source: Source) -> str:
    meta = source.nodes[0].metadata
    if source.kind == "posting":
        places = list(
            dict.fromkeys(
                ", ".join(str(n.metadata.get(k)) for k in ("city", "region", "country")) for n in source.nodes
            )
        )
        return "Job posting, " + "; ".join(places)
    return str(meta.get("title") or source.ids[0])


def _citation(source: Source) -> Citation:
    snippet = source.passage if len(source.passage) <= 300 else source.passage[:297] + "…"
    return Citation(source.n, tuple(source.ids), source.kind, label_of(source), snippet)


def support_ratio(text: str, context: Context) -> float:
    """Share of the answer's content words that occur in some source (1.0 for an empty answer)."""
    claim = terms(CITATION_RE.sub(" ", text))
    if not claim:
        return 1.0
    known = set().union(*(terms(s.render()) for s in context.sources)) if context.sources else set()
    return len(claim & known) / len(claim)
