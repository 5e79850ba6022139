"""The open-answer grader on hand-written items and answers: right, wrong, partly right, abstaining, hedging."""

from __future__ import annotations

import pytest

from rag.eval.exam import ExamQuestion
from rag.eval.grade import grade_answer, grading_terms

# Hand-written items about the mini corpus (tests/fixtures/mini), one of each kind the grader meets.
ITEMS = {
    q.id: q
    for q in [
        ExamQuestion(
            id="area",
            question="Which research area is the TIDEGRAPH paper listed under?",
            choices={"A": "Speech recognition", "B": "Graph learning", "C": "Molecule property", "D": "Time series"},
            answer="B",
            kind="paper",
        ),
        ExamQuestion(
            id="count",
            question="How many of the job postings are located in Toronto?",
            choices={"A": "1", "B": "3", "C": "2", "D": "The sources do not say"},
            answer="C",
            kind="posting",
        ),
        ExamQuestion(
            id="two-places",
            question="In which two cities are the job postings?",
            choices={
                "A": "Toronto and Vancouver",
                "B": "Ottawa and Amsterdam",
                "C": "Toronto and Amsterdam",
                "D": "Amsterdam and Berlin",
            },
            answer="C",
            kind="posting",
            facts=["Toronto", "Amsterdam"],
        ),
        ExamQuestion(
            id="an-authors-papers",
            question="Which papers did Tomas Lindqvist co-author?",
            choices={
                "A": "TIDEGRAPH and WALKER",
                "B": "Only KESTREL",
                "C": "TIDEGRAPH, the message passing paper and KESTREL",
                "D": "WALKER and KESTREL",
            },
            answer="C",
            kind="multi",
            facts=["TIDEGRAPH", "Sparse message passing", "KESTREL"],
        ),
        ExamQuestion(
            id="a-number-in-the-text",
            question="How long are the buoy readings kept?",
            choices={"A": "30 days", "B": "A year", "C": "Forever", "D": "90 days"},
            answer="D",
            kind="other",
        ),
        ExamQuestion(
            id="team",
            question="Which team is hiring in Amsterdam?",
            choices={
                "A": "The Graph Systems team",
                "B": "The Voice team",
                "C": "The harbor office",
                "D": "The Logbook team",
            },
            answer="B",
            kind="posting",
        ),
        ExamQuestion(
            id="not-in-the-guide",
            question="In which city will SIGMETRICS 2031 be held, according to the guide?",
            choices={"A": "The sources do not say", "B": "Toronto", "C": "Vienna", "D": "Amsterdam"},
            answer="A",
            kind="unanswerable",
        ),
        ExamQuestion(
            id="not-in-the-paper",
            question="Which GPU was used to train KESTREL?",
            choices={"A": "NVIDIA A100", "B": "The sources do not say", "C": "AMD MI300", "D": "NVIDIA H100"},
            answer="B",
            kind="unanswerable",
        ),
    ]
}


def grade(item_id: str, text: str):
    q = ITEMS[item_id]
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
        ("area", "The TIDEGRAPH paper is listed under Graph learning [1].", True),
        ("count", "Two job postings are in Toronto [1].", True),
        ("count", "There are 2 job postings in Toronto, ON, CA [1].", True),
        ("two-places", "The postings are in Toronto [1] and Amsterdam [2].", True),
        ("a-number-in-the-text", "Readings are kept for 90 days, then deleted [1].", True),
        ("not-in-the-guide", "The sources do not say.", True),
        ("not-in-the-paper", "The sources do not mention which GPU was used.", True),
        # wrong
        ("area", "It is listed under Speech recognition [1].", False),
        ("count", "There are 3 job postings in Toronto [1].", False),
        ("not-in-the-guide", "SIGMETRICS 2031 is held in Vienna [1].", False),
        ("two-places", "The postings are in Ottawa [1] and Amsterdam [2].", False),
        # partly right: one of two expected places, two of three papers
        ("two-places", "There is a posting in Toronto [1].", False),
        ("an-authors-papers", "Tomas Lindqvist co-authored TIDEGRAPH [1] and KESTREL [2].", False),
        # abstaining on an answerable item
        ("area", "The sources do not say.", False),
        # hedging between the right and a wrong option
        ("area", "It is either Graph learning or Speech recognition [1].", False),
        ("team", "The Amsterdam hire joins the Voice team or the Graph Systems team [1].", False),
    ],
)
def test_grader_on_hand_written_answers(item_id, text, correct):
    assert grade(item_id, text).correct is correct


def test_citation_numbers_are_not_read_as_answers():
    # "[1]" and "[3]" must not count as the wrong options "1" and "3" on "how many postings are in Toronto?".
    result = grade("count", "There are 2 job postings in Toronto [1] [3].")
    assert result.correct and not result.wrong


def test_false_abstention_only_on_answerable_items():
    assert grade("area", "The sources do not say.").false_abstention
    assert not grade("not-in-the-guide", "The sources do not say.").false_abstention
    assert not grade("area", "It is listed under Speech recognition [1].").false_abstention


def test_grade_reports_its_evidence():
    result = grade("two-places", "There is a posting in Toronto [1] and one in Berlin [2].")
    assert result.stated == ["Toronto"] and result.missing == ["Amsterdam"]


def test_number_words_and_plurals_match():
    assert grading_terms("three papers") == grading_terms("3 paper")


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


def test_a_quoted_sentence_is_a_claim_and_is_graded_as_one():
    """A quoted passage (the quote stage's answers) states what it says; only a quoted name is set aside."""
    choices = {"A": "90 days", "B": "30 days", "C": "A year", "D": "The sources do not say"}
    question = "How long are readings kept?"
    assert grade_answer(question, choices, "A", "“Readings are kept for 90 days, then deleted.” [1]").correct
    wrong = "“Readings are kept for 90 days, and backups for 30 days.” [1]"
    assert not grade_answer(question, choices, "A", wrong).correct


def test_a_number_in_an_example_is_not_what_the_answer_states():
    choices = {"A": "80 columns; set max_width", "B": "120 columns; set max_width", "C": "40", "D": "No limit"}
    question = "What is the default width and how do I change it?"
    example = "The default width is 80 columns [1]. Set `max_width`, e.g. `cli(max_width=120)` [1]."
    assert grade_answer(question, choices, "A", example).correct
    assert not grade_answer(question, choices, "A", "It is 80 columns, or 120 columns with max_width [1].").correct


def test_a_no_is_stated_by_an_answer_that_denies():
    choices = {"A": "No", "B": "Yes", "C": "Only in groups", "D": "The sources do not say"}
    question = "Does the kit support multi-character short options like -dbg?"
    no = {"facts": ["no"]}
    assert grade_answer(question, choices, "A", "No: they are not supported [1].", **no).correct
    assert grade_answer(
        question, choices, "A", "The kit does not support multi-character short options [1].", **no
    ).correct
    assert grade_answer(question, choices, "A", "They aren't supported [1].", **no).correct
    assert not grade_answer(question, choices, "A", "Yes, the kit supports them [1].", **no).correct
    # a "Yes" that goes on to deny, or a hedge, is no "no"
    assert not grade_answer(question, choices, "A", "Yes, as long as the name is not taken [1].", **no).correct
    assert not grade_answer(question, choices, "A", "I don't know.", **no).correct
    # a denial after the first sentence is not the answer's
    assert not grade_answer(
        question, choices, "A", "Yes, it supports them [1]. Long names are not allowed.", **no
    ).correct
    assert not grade_answer(question, choices, "A", "The sources do not say.", **no).correct
