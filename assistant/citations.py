"""Citations are checked in code: only numbers of sources really in the context survive."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.context import Context, Source, terms

MIN_SHARED = 0.5
CITATION_RE = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
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
    text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    citations = [_citation(sources[n]) for n in used]
    return Verified(text, citations, sorted(set(invalid)), bool(ABSTAIN_RE.search(text)), sorted(set(unsupported)))


def _cite_before_stop(answer: str) -> str:
    """ "Paris. [1]" → "Paris [1]." so a citation stays with the sentence it follows."""
    return re.sub(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)", r"\2\1", answer)


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
