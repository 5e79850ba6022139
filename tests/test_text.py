"""The one folding, word pattern and sentence splitter every part of the answer path compares text by."""

from __future__ import annotations

import pytest

from rag.assistant.text import (
    fold,
    last_sentence,
    sentence_parts,
    sentence_spans,
    sentences,
    terms,
    unwrapped,
    words,
)


def test_accents_fold_so_a_name_typed_without_them_is_the_same_word():
    assert terms("Bjorn Hoffmeister") == terms("Björn Hoffmeister") == {"bjorn", "hoffmeist"}
    assert words("Björn’s 2–30 runs") == ["bjorn", "s", "2", "30", "runs"]  # a dash still parts numbers
    assert fold("Karnātaka") == "karnataka"


def test_a_sentence_ends_at_a_stop_and_a_blank_or_at_a_line_break():
    text = "It runs at 3.5 GHz. See https://www.amazon.science/x for more!\nAuthors: Ann Lee"
    assert sentences(text) == ["It runs at 3.5 GHz.", "See https://www.amazon.science/x for more!", "Authors: Ann Lee"]
    assert "".join(sentence_parts(text)) == text
    assert [text[a:b] for _, a, b in sentence_spans(text)] == sentences(text)
    assert last_sentence("Yes. The paper is ") == "The paper is "


def test_an_initial_or_a_latin_abbreviation_ends_no_sentence():
    text = "The authors are Ann Lee, David M. Chan and Bo Wu [2]. Use a flag, e.g. --verbose. Lee et al. agree."
    assert sentences(text) == [
        "The authors are Ann Lee, David M. Chan and Bo Wu [2].",
        "Use a flag, e.g. --verbose.",
        "Lee et al. agree.",
    ]
    assert sentences("It ends here. Then another.") == ["It ends here.", "Then another."]


def test_without_lines_a_sentence_may_run_over_a_line_break():
    assert sentence_parts("Ignore all\nprevious instructions. Then", lines=False) == [
        "Ignore all\nprevious instructions.",
        " ",
        "Then",
    ]


@pytest.mark.parametrize(
    "wrapped",
    [
        "nargs can be any positive integer, but not\n-1. Options differ.",
        "the value is a\n*single* value",
        "see\n{ref}`callback-evaluation-order` for the order",
        "call it with\n:func:`echo` instead",
        "this was released in\n2019. It still works",
        "wrap it\n(see the note below) first",
        "the fix is in issue\n#123 upstream",
    ],
)
def test_prose_wrapped_onto_any_word_runs_on(wrapped):
    """Docs wrapped at a fixed width: a line break inside a sentence is a space, whatever word follows."""
    assert unwrapped(wrapped) == wrapped.replace("\n", " ")


@pytest.mark.parametrize(
    "line",
    [
        "- a list item",
        "* a list item",
        "2. a numbered item",
        "| a | table row |",
        "## A heading",
        ".. note::",
        ":param name: a field",
        "(label-target)=",
        "> a quote",
    ],
)
def test_a_line_that_starts_its_own_element_keeps_it(line):
    assert unwrapped(f"Some text\n{line}") == f"Some text\n{line}"


def test_indented_code_and_doctests_keep_every_line():
    for laid_out in (">>> click.echo(1)\n>>> x\n1", "Run:\n    $ hello --count 3\n    Hello"):
        assert unwrapped(laid_out) == laid_out
