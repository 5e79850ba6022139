"""The entry schema: kinds, the nouns people use for them, and countries, each declared once."""

from __future__ import annotations

from rag.assistant.questions import asked_kinds, mentioned_kinds
from rag.assistant.schema import authors_of, country_names, plurals


def test_every_noun_of_a_kind_is_understood_by_the_question_rules():
    assert mentioned_kinds("Any vacancies in Madrid?") == {"posting"}
    assert asked_kinds("Which publications are about privacy?") == {"paper"}
    assert "openings" in plurals("posting") and "vacancies" in plurals("posting")
    # "works" is the verb: a question about a team is no paper question.
    assert mentioned_kinds("Which team works on ranking for Amazon Haul?") == set()
    assert mentioned_kinds("which work is about diffusion models?") == {"paper"}


def test_countries_come_from_pycountry_with_the_names_people_use():
    us = country_names("US")
    assert {"united states", "united states of america", "usa", "america"} <= us
    assert "india" in country_names("IN") and "spain" in country_names("ES")


def test_authors_are_read_from_metadata_in_order():
    assert authors_of({"authors": "Ann Lee; Bo Chen"}) == ["Ann Lee", "Bo Chen"]
    assert authors_of({"authors": ""}) == [] and authors_of({}) == []
