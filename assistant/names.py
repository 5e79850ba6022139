"""How an entry or a numbered source is named to a person: one home for every display name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.assistant.schema import CITY, COUNTRY, KIND, POSTING, REGION, TITLE

if TYPE_CHECKING:
    from llama_index.core.schema import BaseNode

    from rag.assistant.context import Source


def place(city: str, region: str, country: str) -> str:
    """ "Boston, MA, US": how a posting's location reads everywhere (parts that are empty left out)."""
    return ", ".join(p for p in (city, region, country) if p)


def entry_label(kind: str, title: str, location: str, entry_id: str) -> str:
    """A short name of an entry before it is indexed: its title, or "Job posting, Boston, MA, US"."""
    return f"Job posting, {location}" if kind == POSTING else title or entry_id


def posting_heading(locations: list[str]) -> str:
    """How the model's sources name a posting: "Job posting in Boston, MA, US", or for the same text
    posted in several places "Job posting, the same text posted 5 times (Bellevue, WA, US: 1 posting; …)"."""
    if len(locations) == 1:
        return f"Job posting in {locations[0]}"
    counts = {loc: locations.count(loc) for loc in dict.fromkeys(locations)}
    spread = "; ".join(f"{loc}: {c} posting{'s' if c > 1 else ''}" for loc, c in counts.items())
    return f"Job posting, the same text posted {len(locations)} times ({spread})"


def node_label(node: BaseNode) -> str:
    """An entry in a facts line: its title, or "posting in Boston"."""
    meta = node.metadata
    if meta.get(KIND) == POSTING:
        return f"posting in {meta.get(CITY)}"
    return str(meta.get(TITLE) or node.node_id)


def label_of(source: Source) -> str:
    """A source's full name: a paper's title, or "Job posting, Boston, MA, US; Bellevue, WA, US"."""
    if source.kind == POSTING:
        places = dict.fromkeys(place_of(n) for n in source.nodes)
        return "Job posting, " + "; ".join(places)
    return str(source.nodes[0].metadata.get(TITLE) or source.ids[0])


def place_of(node: BaseNode) -> str:
    meta = node.metadata
    return place(str(meta.get(CITY) or ""), str(meta.get(REGION) or ""), str(meta.get(COUNTRY) or ""))


def cities(source: Source, ids: list[str] | None = None) -> list[str]:
    """The cities of a posting source's entries (of `ids` only, when given), in order, once each."""
    chosen = (n for n in source.nodes if ids is None or n.node_id in ids)
    return [c for c in dict.fromkeys(str(n.metadata.get(CITY) or "") for n in chosen) if c]


def short_name(source: Source, ids: list[str] | None = None) -> str:
    """How a sentence names a source: a paper's quoted title, or "the Boston posting"."""
    if source.kind == POSTING:
        return f"the {'/'.join(cities(source, ids)) or 'job'} posting"
    return f"“{label_of(source)}”"
