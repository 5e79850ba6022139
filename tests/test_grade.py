"""The open-answer grader on hand-written answers: right, wrong, partly right, abstaining, hedging."""

from __future__ import annotations

import pytest

from rag.eval.exam import GOLD_EXAM, load_exam
from rag.eval.grade import grade_answer, grading_terms

GOLD = {q.id: q for q in load_exam(GOLD_EXAM)}


def grade(item_id: str, text: str):
    q = GOLD[item_id]
    return grade_answer(
        q.question,
        q.choices,
        q.answer,
        text,
        facts=q.facts,
        unanswerable=q.unanswerable,
        abstain_letter=q.abstain_letter,
    )


@pytest.mark.parametrize(
    ("item_id", "text", "correct"),
    [
        # right
        ("q01", "The EMC2 paper is listed under Contrastive learning [1].", True),
        ("q39", "Five job postings are in Boston [1].", True),
        ("q39", "There are 5 job postings in Boston, MA, US [1].", True),
        ("q48", "The two postings in India are the Bengaluru posting [1] and the Gurugram posting [2].", True),
        ("q37", "The hire would mentor a team of 2-3 scientists and BIEs [1].", True),
        ("q57", "The sources do not say.", True),
        ("q60", "The sources do not mention which GPU was used.", True),
        # wrong
        ("q01", "It is listed under Transfer learning [1].", False),
        ("q39", "There are 6 job postings in Boston [1].", False),
        ("q57", "ICML 2024 is held in Vienna [1].", False),
        ("q48", "The postings in India are in Mumbai [1] and Bengaluru [2].", False),
        # partly right: one of two expected places
        ("q48", "There is a posting in Bengaluru [1].", False),
        ("q41", "Parameswaran Raman co-authored EMC2 [1] and MADA [2].", False),
        # abstaining on an answerable item
        ("q01", "The sources do not say.", False),
        # hedging between the right and a wrong option
        ("q01", "It is either Contrastive learning or Transfer learning [1].", False),
        ("q29", "The Madrid hire joins the Tamale team or the PRIMAS team [1].", False),
    ],
)
def test_grader_on_hand_written_answers(item_id, text, correct):
    assert grade(item_id, text).correct is correct


def test_citation_numbers_are_not_read_as_answers():
    # "[1]" must not count as the wrong option "1" on "how many postings are in Boston?".
    result = grade("q39", "There are 5 job postings in Boston [1] [6].")
    assert result.correct and not result.wrong


def test_false_abstention_only_on_answerable_items():
    assert grade("q01", "The sources do not say.").false_abstention
    assert not grade("q57", "The sources do not say.").false_abstention
    assert not grade("q01", "It is listed under Transfer learning [1].").false_abstention


def test_grade_reports_its_evidence():
    result = grade("q48", "There is a posting in Bengaluru [1] and one in Hyderabad [2].")
    assert result.stated == ["Bengaluru"] and result.missing == ["Gurugram"]


def test_number_words_and_plurals_match():
    assert grading_terms("three papers") == grading_terms("3 paper")


def test_gold_facts_are_stated_in_their_source_entries(corpus_entries):
    # A fact no source entry states could never be found in a cited answer.
    bodies = {e.id: grading_terms(e.body()) for e in corpus_entries}
    for q in GOLD.values():
        if not q.facts:
            continue
        text = set().union(*(bodies[s] for s in q.sources))
        for fact in q.facts:
            assert grading_terms(fact) <= text, (q.id, fact)


def test_a_quoted_title_states_none_of_the_options_its_words_hold():
    choices = {
        "A": "Selective retrieval for repository-level code completion",
        "B": "Code completion",
        "C": "Research area",
        "D": "REPOFORMER",
    }
    question = 'What is the research area of the paper "REPOFORMER"?'
    quoted = (
        "“REPOFORMER: Selective retrieval for repository-level code completion” is listed under Code completion [1]."
    )
    assert grade_answer(question, choices, "B", quoted).correct
    # Unquoted, the same words are a claim: an answer that says the area is the title's words is wrong.
    claimed = "Its research area is selective retrieval for repository-level code completion [1]."
    assert not grade_answer(question, choices, "B", claimed).correct
