"""The catalog finds the names a question gives: accents folded, countries by any name or ISO code, area words."""

from __future__ import annotations

import pytest
from llama_index.core.schema import TextNode

from rag.assistant.catalog import Catalog

NODES = [
    TextNode(
        id_="paper/speech",
        text="",
        metadata={"kind": "paper", "authors": "Ann Lee", "area": "Automatic speech recognition"},
    ),
    TextNode(
        id_="paper/asr",
        text="",
        metadata={"kind": "paper", "authors": "Björn Hoffmeister; Ariya Rastrow", "area": "Hallucination mitigation"},
    ),
    TextNode(id_="paper/code", text="", metadata={"kind": "paper", "authors": "Di Wu", "area": "Code completion"}),
    TextNode(
        id_="paper/detecting",
        text="",
        metadata={"kind": "paper", "title": "Detecting hallucinations with probes", "area": "Interpretability"},
    ),
    TextNode(
        id_="posting/boston-1", text="", metadata={"kind": "posting", "city": "Boston", "region": "MA", "country": "US"}
    ),
    TextNode(
        id_="posting/pune-1", text="", metadata={"kind": "posting", "city": "Pune", "region": "MH", "country": "IN"}
    ),
    TextNode(
        id_="posting/madrid-1", text="", metadata={"kind": "posting", "city": "Madrid", "region": "M", "country": "ES"}
    ),
]


def found(question: str) -> set[tuple[str, str]]:
    return {(m.field, m.value) for m in Catalog(NODES).find(question)}


@pytest.mark.parametrize(
    "question",
    ["Which jobs are in the US?", "any openings in the USA", "jobs in the United States of America?", "America jobs"],
)
def test_a_country_is_found_by_any_of_its_names_or_its_code_in_capitals(question):
    assert ("country", "US") in found(question)


def test_a_state_or_province_names_the_cities_of_the_index_in_it_by_pycountrys_names():
    assert found("any jobs in Massachusetts?") == {("city", "Boston")}
    assert found("openings in maharashtra") == {("city", "Pune")}  # "Mahārāshtra", its accents folded
    assert found("jobs in Madrid?") == {("city", "Madrid")}  # the province's name is the city's: found once
    assert found("jobs in Massachusetts, DC?") == set() and found("University of Massachusetts papers") == set()


def test_lower_case_us_is_the_pronoun_and_accents_are_folded():
    assert ("country", "US") not in found("tell us about the papers")
    assert found("papers by Bjorn Hoffmeister") == {("author", "Björn Hoffmeister")}


def test_a_word_only_one_area_name_has_names_that_area_and_shared_short_words_do_not():
    assert found("any papers about hallucinations?") == {("area", "Hallucination mitigation")}
    assert ("area", "Code completion") not in found("papers with code")


def test_an_areas_initials_name_it_in_capitals_and_from_three_letters_in_lower_case():
    assert found("list the HM papers") == {("area", "Hallucination mitigation")}
    assert found("any CC work?") == {("area", "Code completion")}
    assert ("area", "Code completion") not in found("cc me on the answer")
    # three letters or more are read in lower case too, as people type them; two are often words
    assert found("title of the asr paper?") == {("area", "Automatic speech recognition")}
    assert found("any cc work?") == set()


def test_a_title_the_question_names_is_one_name_and_its_words_name_no_area():
    assert found("Who wrote Detecting hallucinations with probes?") == set()
    assert found("Who wrote the hallucinations paper?") == {("area", "Hallucination mitigation")}


def test_an_abbreviations_meaning_names_an_area_only_as_its_whole_name():
    # The question as spelling reads it: "— HD: hallucination detection" spelt out after it.
    assert found("any HD papers? — HD: hallucination detection") == set()
    assert found("any HM papers? — HM: hallucination mitigation") == {("area", "Hallucination mitigation")}
