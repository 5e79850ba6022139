"""Follow-ups that point at what the last answer named, resolved in code (no model, no index)."""

from __future__ import annotations

import pytest

from rag.assistant.questions import name_entries, name_one_of

POSTINGS = ["the Lisbon posting", "the Oslo posting", "the Quito posting"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("And the Oslo one - what team is it on?", "And the Oslo posting - what team is it on?"),
        ("what does the second one require?", "what does the Oslo posting require?"),
        ("and the last posting?", "and the Quito posting?"),
        # None of them, or a word several names share: the question is left as it is.
        ("what about the Paris one?", "what about the Paris one?"),
        ("what about the posting one?", "what about the posting one?"),
        ("what about the fifth one?", "what about the fifth one?"),
    ],
)
def test_one_of_the_named_entries_by_place_or_position(question, expected):
    assert name_one_of(question, POSTINGS) == expected


def test_one_of_the_named_papers_by_several_words_of_its_title():
    papers = ["“Membership attacks on diffusion models”", "“Private fine-tuning of foundation models”"]
    asked = name_one_of("and who wrote the diffusion models one?", papers)
    assert asked == "and who wrote “Membership attacks on diffusion models”?"
    assert name_one_of("and the models one?", papers) == "and the models one?"  # a word both share


def test_several_named_entries_by_a_plural():
    papers = ["“Sparse routing”", "“Private counting”"]
    assert name_entries("Which research areas are those in?", papers) == (
        "Which research areas are “Sparse routing” and “Private counting” in?"
    )
    assert name_entries("who wrote these papers?", papers) == "who wrote “Sparse routing” and “Private counting”?"
    assert name_entries("Who is on both?", papers) == "Who is on both “Sparse routing” and “Private counting”?"
    assert name_entries("Did they write others?", papers) == "Did they write others?"  # maybe the authors
    assert name_entries("What is the Oslo team?", papers) == "What is the Oslo team?"
