"""The unit the index stores and answers cite: one paper, posting, overview or text chunk."""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import pycountry

from rag.assistant.names import entry_label, place
from rag.assistant.schema import (
    AREA,
    AUTHORS,
    CAPTION,
    CHUNK,
    CITY,
    COUNTRY,
    KIND,
    OVERVIEW,
    PAPER,
    POSTING,
    REGION,
    TITLE,
)
from rag.assistant.text import to_ascii


@dataclass(frozen=True)
class Entry:
    """A citable source entry with a stable id and flat metadata."""

    id: str
    kind: str
    text: str
    source: str
    title: str = ""
    authors: tuple[str, ...] = ()
    area: str = ""
    country: str = ""
    region: str = ""
    city: str = ""
    caption: str = ""
    guide: str = ""
    position: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return place(self.city, self.region, self.country)

    @property
    def label(self) -> str:
        """A short human name: the title, or the location of a posting."""
        return entry_label(self.kind, self.title, self.location, self.id)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that is embedded or shown changes."""
        payload = "\x1f".join([self.kind, self.body(), self.source, str(self.position)])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def body(self) -> str:
        """The text that is embedded, searched and shown to the model."""
        if self.kind == PAPER:
            lines = [f"Paper: {self.title}", f"Authors: {', '.join(self.authors)}"]
            if self.area:
                lines.append(f"Research area: {self.area}")
            if self.caption:
                lines.append(f"Figure caption: {self.caption}")
            return "\n".join(lines)
        if self.kind == POSTING:
            names = place_names(self.country, self.region)
            where = f"{self.location} ({names})" if names else self.location
            return f"Job posting in {where}.\n{self.text}"
        if self.kind == OVERVIEW and self.title:
            return f"{self.title}\n{self.text}"
        if self.kind == CHUNK and self.extra.get("section"):  # a section's later pieces keep its heading
            return f"{self.extra['section']}\n{self.text}"
        return self.text

    def metadata(self) -> dict[str, str | int]:
        """Flat metadata for Chroma (scalars only; authors joined by '; ')."""
        meta: dict[str, str | int] = {
            "entry_id": self.id,
            KIND: self.kind,
            TITLE: self.title,
            AUTHORS: "; ".join(self.authors),
            AREA: self.area,
            COUNTRY: self.country,
            REGION: self.region,
            CITY: self.city,
            CAPTION: self.caption,
            "guide": self.guide,
            "source": self.source,
            "position": self.position,
            "content_hash": self.content_hash,
        }
        meta.update(self.extra)
        return meta

    def as_json(self) -> dict:
        data = asdict(self)
        data[AUTHORS] = list(self.authors)
        data.pop("extra")
        data.update(self.extra)
        return data


@lru_cache(maxsize=4096)  # body() asks for the same few places over and over
def place_names(country: str, region: str) -> str:
    """ "Karnataka, India" for ("IN", "KA"): guides give ISO codes, people ask about India."""
    nation = pycountry.countries.get(alpha_2=country) if country else None
    if nation is None:
        return ""
    state = pycountry.subdivisions.get(code=f"{country}-{region}") if region else None
    # ASCII and without pycountry's bracketed aliases, so a typed "Karnataka" matches in BM25 too.
    names = [re.sub(r"\s*\[.*?\]", "", n.name) for n in (state, nation) if n is not None]
    return ", ".join(to_ascii(n) for n in names)


def slugify(text: str, max_len: int = 80) -> str:
    """ASCII, lower-case, dash-separated; stable for the same input."""
    slug = re.sub(r"[^a-z0-9]+", "-", to_ascii(text).lower()).strip("-")
    if len(slug) > max_len:  # cut at a word boundary so ids stay readable
        slug = slug[: max_len + 1].rsplit("-", 1)[0]
    return slug or "untitled"
