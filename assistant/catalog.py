"""Exact metadata look-ups for aggregate questions ("papers by X", "postings in Boston").

Top-k retrieval cannot promise *all* entries by an author or in a city; the catalog
can. It indexes the metadata of the current index version once, finds author, city,
country and area names in a question, and returns every matching entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from llama_index.core.schema import BaseNode

from rag.assistant.schema import (
    AREA,
    AUTHOR,
    CHUNK,
    CITY,
    COUNTRY,
    FILTER_KEYS,
    KIND,
    PAPER,
    POSTING,
    REGION,
    TITLE,
    authors_of,
    country_names,
    plurals,
    region_names,
)
from rag.assistant.spelling import Abbreviations, Speller, spelt_out
from rag.assistant.text import initials, phrase_form, terms
from rag.ingest.embed import common_words
from rag.ingest.sections import PART_MARK_RE

MIN_TITLE_WORDS = 3  # a one- or two-word title ("Overview") is a common phrase, not a name to set apart
MIN_AREA_WORD = 6  # shorter words of area names ("active", "causal" pass; "code", "data" do not)
# "How many postings in total?" asks about a whole kind: answered with a count, not a list.
KIND_WORDS = {kind: plurals(kind) for kind in (PAPER, POSTING)}
TOTAL_WORDS = re.compile(r"\b(how many|in total|total|number of|count)\b", re.I)


@dataclass(frozen=True)
class Match:
    """A name found in the question and the entries it selects."""

    field: str
    value: str
    ids: tuple[str, ...]


LOWER_CASE_CODE = 3  # the shortest code read in lower case as well


class Catalog:
    """Metadata of every entry in the current version, with name → entries look-ups."""

    def __init__(self, nodes: list[BaseNode]):
        self.nodes = {n.node_id: n for n in nodes}
        self._names: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.values: dict[str, set[str]] = defaultdict(set)
        for node in nodes:
            meta = node.metadata
            for key in FILTER_KEYS:
                if meta.get(key):
                    self.values[key].add(str(meta[key]))
            for author in authors_of(meta):
                self._names[(AUTHOR, author)].add(node.node_id)
            for key in (CITY, AREA):
                if meta.get(key):
                    self._names[(key, str(meta[key]))].add(node.node_id)
            if meta.get(COUNTRY):
                self._names[(COUNTRY, str(meta[COUNTRY]))].add(node.node_id)
        self._patterns = [(field, value, phrase_form(value)) for field, value in self._names]
        # A word only one area's name has ("hallucination", "causal") names that area in a topic question.
        area_words: dict[str, set[str]] = defaultdict(set)
        for field, value in self._names:
            if field == AREA:
                for word in phrase_form(value).split():
                    area_words[word].add(value)
        # By its stem, so "causality" names "Causal inference" and "hallucinations" "Hallucination mitigation".
        self._area_stems: dict[str, tuple[str, int]] = {}
        for word, areas in area_words.items():
            if len(areas) == 1 and len(word) >= MIN_AREA_WORD:
                self._area_stems.update(dict.fromkeys(terms(word), (next(iter(areas)), len(word))))
        # Codes matched in capitals ("US", never the pronoun "us"), and from LOWER_CASE_CODE letters in
        # lower case too ("asr"): countries' ISO codes, and the initials of an area's name ("RL", "ASR",
        # "RAG") when no other area has the same.
        self._codes: list[tuple[str, str]] = []
        for field, code in list(self._names):
            if field == COUNTRY:
                self._patterns += [(COUNTRY, code, phrase_form(name)) for name in country_names(code)]
                self._codes.append((COUNTRY, code))
        # A state or province names the cities of the index in it ("jobs in Washington state" → Bellevue),
        # unless its name is a city's own ("Madrid", a province as well).
        cities = {value.lower() for field, value in self._names if field == CITY}
        self._regions: set[tuple[str, str]] = set()  # (city, the region's name in phrase form)
        for node in nodes:
            meta = node.metadata
            for name in region_names(str(meta.get(COUNTRY) or ""), str(meta.get(REGION) or "")) - cities:
                if meta.get(CITY):
                    self._regions.add((str(meta[CITY]), phrase_form(name)))
        named: dict[str, list[str]] = defaultdict(list)  # areas by their initials
        for field, value in self._names:
            if field == AREA:
                named[initials(value)].append(value)
        taken = {code for _, code in self._codes}
        self._codes += [(AREA, v[0]) for i, v in named.items() if len(i) >= 2 and len(v) == 1 and i not in taken]
        self._code_of = {(AREA, v[0]): i for i, v in named.items() if len(v) == 1}
        # The codes `find` reads, as a question writes them ("US", "RL").
        self.codes = frozenset(self._code_of.get(key, key[1]) for key in self._codes)
        # Titles of several words, longest first: a title the question names is one name, and its words
        # ("Membership inference attacks …") do not also name an area ("Causal inference").
        titles = {phrase_form(str(n.metadata.get(TITLE) or "")) for n in nodes}
        # A long document section's pieces, in document order, by the section they belong to.
        self._pieces: dict[tuple[str, str], list[BaseNode]] = defaultdict(list)
        for node in sorted(nodes, key=_position):
            if node.metadata.get(KIND) == CHUNK:
                self._pieces[_section_key(node)].append(node)
        self._titles = sorted((t for t in titles if len(t.split()) >= MIN_TITLE_WORDS), key=len, reverse=True)

    def _without_titles(self, question: str) -> str:
        """The question in phrase form with each title it names set apart as one name (" | ")."""
        text = phrase_form(question)
        for title in self._titles:
            text = text.replace(title, " | ")
        return text

    def find(self, question: str) -> list[Match]:
        """Every author, city, country or area named in the question, longest names first."""
        text = self._without_titles(question)
        found: dict[tuple[str, str], Match] = {}
        for field, value, pattern in sorted(self._patterns, key=lambda p: -len(p[2])):
            if len(pattern.strip()) >= 3 and pattern in text and (field, value) not in found:
                found[(field, value)] = Match(field, value, tuple(sorted(self._names[(field, value)])))
        # An abbreviation's meaning names a thing whole ("MIA: membership inference attacks"): its words
        # name an area only as the area's whole name, not one by one ("inference": "Causal inference").
        for word in self._without_titles(spelt_out(question)[0]).split():
            # Only a word as long as the area's ("causality" for "causal"): "explain" is no "explainable".
            area, length = next((self._area_stems[s] for s in terms(word) if s in self._area_stems), ("", 0))
            if area and len(word) >= length and (AREA, area) not in found:
                found[(AREA, area)] = Match(AREA, area, tuple(sorted(self._names[(AREA, area)])))
        for city, region in sorted(self._regions):
            # Not the city of the same name ("Washington, DC") nor a university named after the state.
            named = re.search(rf"(?<!university of){re.escape(region)}(?!d ?c )", text)
            if named and (CITY, city) not in found:
                found[(CITY, city)] = Match(CITY, city, tuple(sorted(self._names[(CITY, city)])))
        for field, value in self._codes:
            code = self._code_of.get((field, value), value)
            # Typed in lower case too ("the asr paper") when three letters or more: "us", "in" are words.
            case = re.I if len(code) >= LOWER_CASE_CODE else 0
            if (field, value) not in found and re.search(rf"(?<![\w.]){re.escape(code)}s?(?![\w])", question, case):
                found[(field, value)] = Match(field, value, tuple(sorted(self._names[(field, value)])))
        if not found and TOTAL_WORDS.search(question):
            for kind, words in KIND_WORDS.items():
                if any(phrase_form(word) in text for word in words):
                    ids = tuple(sorted(i for i, n in self.nodes.items() if n.metadata.get(KIND) == kind))
                    if ids:
                        found[(KIND, kind)] = Match(KIND, kind, ids)
        return list(found.values())

    def section_pieces(self, node: BaseNode) -> list[BaseNode]:
        """Every piece of the document section `node` is a piece of, in document order ([node] when the
        section is one piece, or `node` is no document section)."""
        return self._pieces.get(_section_key(node)) or [node]

    def names(self) -> list[str]:
        """Every name the index gives: its authors, places and areas, and its entries' titles."""
        return [value for _, value in self._names] + [str(n.metadata.get(TITLE) or "") for n in self.nodes.values()]

    def speller(self) -> Speller:
        """Corrections for misspelt names, from this index's own words and names."""
        return Speller((n.get_content() for n in self.nodes.values()), self.names(), common=common_words())

    def abbreviations(self) -> Abbreviations:
        """Abbreviations spelt out from this index's own words and names (its country codes left to `find`)."""
        keep = {c for _, c in self._codes}
        return Abbreviations((n.get_content() for n in self.nodes.values()), keep=keep, names=self.names())

    def allowed(self, filters: dict[str, str]) -> set[str] | None:
        """Ids that pass the filters (None when there are none)."""
        if not filters:
            return None
        return {i for i, n in self.nodes.items() if all(str(n.metadata.get(k, "")) == v for k, v in filters.items())}


def _section_key(node: BaseNode) -> tuple[str, str]:
    """The document and section a piece of a long section belongs to: its id without its number, its title
    without "(part n)"; a section of one piece (or a PDF's page) is its own."""
    title = str(node.metadata.get(TITLE) or "")
    if not PART_MARK_RE.search(title):
        return node.node_id, title
    return node.node_id.rsplit("/", 1)[0], PART_MARK_RE.sub("", title)


def _position(node: BaseNode) -> tuple[str, int]:
    number = node.node_id.rsplit("/", 1)[-1]
    return node.node_id.rsplit("/", 1)[0], int(number) if number.isdecimal() else 0
