"""Citations are checked in code: only numbers of sources really in the context survive."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.context import Context, Source

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


def verify(answer: str, context: Context) -> Verified:
    """Drop `[n]` that name no source in the context; list the valid ones in order of use."""
    sources = context.by_number()
    used: list[int] = []
    invalid: list[int] = []

    def keep_valid(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"[,;]", match.group(1))]
        good = [n for n in numbers if n in sources]
        invalid.extend(n for n in numbers if n not in sources)
        used.extend(n for n in good if n not in used)
        return "".join(f"[{n}]" for n in good)

    text = CITATION_RE.sub(keep_valid, answer)
    text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    citations = [_citation(sources[n]) for n in used]
    return Verified(text, citations, sorted(set(invalid)), bool(ABSTAIN_RE.search(text)))


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
