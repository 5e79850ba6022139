"""The entry schema: the kinds of entry, the words people call them and their fields by, declared once.

Every question rule, answer writer and filter reads kinds and fields from here, so a word added for a
kind ("vacancies") is understood everywhere at once.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# The kinds of entry: a guide's papers, job postings and overview, and a document's sections.
PAPER, POSTING, OVERVIEW, CHUNK = "paper", "posting", "overview", "chunk"
KINDS = (PAPER, POSTING, OVERVIEW, CHUNK)

# The metadata fields of an entry, as ingest writes them and every reader looks them up. A paper's
# AUTHORS are one string ("A; B; C", read by `authors_of`); a question names one AUTHOR.
KIND, TITLE, AUTHORS, AREA, CITY, REGION, COUNTRY = "kind", "title", "authors", "area", "city", "region", "country"
AUTHOR = "author"
CAPTION = "caption"  # a paper's figure caption, when the guide shows a figure of it

# What people call the entries of a kind, singular and plural. "work" has no plural here: "works" is
# far more often the verb ("Which team works on …?").
KIND_NOUNS: dict[str, tuple[tuple[str, ...], ...]] = {
    PAPER: (("paper", "papers"), ("publication", "publications"), ("work",)),
    POSTING: (
        ("posting", "postings"),
        ("job", "jobs"),
        ("job opening", "job openings"),
        ("opening", "openings"),
        ("position", "positions"),
        ("role", "roles"),
        ("vacancy", "vacancies"),
    ),
}
# How an answer names one and several entries of a kind.
ANSWER_NOUNS = {PAPER: ("paper", "papers"), POSTING: ("job posting", "job postings")}

# The fields a question asks about, the words it asks by, and the kind of entry that has them.
FIELD_NOUNS = {
    AREA: r"(?:research |topic )?(?:areas?|topics?|categories|category|sections?|headings?)",
    CITY: r"cities|city|locations?|places?|offices?",
    COUNTRY: r"countries|country",
    AUTHOR: r"(?:co-?)?authors?|people|researchers",
}
FIELD_OF_KIND = {AREA: PAPER, AUTHOR: PAPER, CITY: POSTING, COUNTRY: POSTING}
# The metadata keys `--filter` and the catalog's value lists know.
FILTER_KEYS = (KIND, AREA, CITY, COUNTRY, "guide")


def kind_words(*kinds: str) -> str:
    """A regular-expression alternation of every noun of the kinds (all kinds with nouns when none are
    given), longest first: "job openings|job opening|…|papers|paper"."""
    nouns = {noun for kind in kinds or tuple(KIND_NOUNS) for forms in KIND_NOUNS[kind] for noun in forms}
    return "|".join(re.escape(noun) for noun in sorted(nouns, key=lambda n: (-len(n), n)))


def plurals(kind: str) -> tuple[str, ...]:
    """The plural nouns of a kind ("papers", "publications"): what a question about the whole kind says."""
    return tuple(forms[1] for forms in KIND_NOUNS[kind] if len(forms) > 1)


# Words for where the corpus shows something, not what it is about: "the postings at the end", "the
# table on the contrib page", "the papers mentioned in the guide".
LAYOUT_WORDS = (
    "guide index page article blog post list lists listed mentioned featured end bottom below above "
    "table bullet bulleted"
)


def nouns_of(kind: str) -> str:
    """Every noun of a kind as plain words, for word lists built from them."""
    return " ".join(noun for forms in KIND_NOUNS[kind] for noun in forms)


def authors_of(meta: dict) -> list[str]:
    """A paper's authors, in order, from its metadata ("A; B; C")."""
    return [a.strip() for a in str(meta.get(AUTHORS) or "").split(";") if a.strip()]


# What people call a country besides pycountry's names ("United States", "United States of America").
COUNTRY_ALIASES = {"US": ("usa", "u s", "u s a", "america"), "GB": ("uk", "u k", "britain", "england")}


@lru_cache(maxsize=512)
def region_names(country: str, region: str) -> frozenset[str]:
    """The names of the state or province with ISO 3166-2 code `country`-`region` ("US", "WA" →
    "washington"), lower-case; empty when pycountry does not know it."""
    subdivision = pycountry.subdivisions.get(code=f"{country}-{region}") if country and region else None
    return frozenset({subdivision.name.split(" [")[0].lower()}) if subdivision is not None else frozenset()


@lru_cache(maxsize=512)
def country_names(code: str) -> frozenset[str]:
    """Every name a question may give the country with ISO code `code`, lower-case (the code itself is
    matched apart, in capitals)."""
    country = pycountry.countries.get(alpha_2=code)
    names = set(COUNTRY_ALIASES.get(code, ()))
    if country is not None:
        names |= {getattr(country, a) for a in ("name", "common_name", "official_name") if hasattr(country, a)}
    return frozenset(n.lower() for n in names)
