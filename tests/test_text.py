"""The one folding, word pattern and sentence splitter every part of the answer path compares text by."""

from __future__ import annotations

from rag.assistant.text import fold, last_sentence, sentence_parts, sentence_spans, sentences, terms, words


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


def test_without_lines_a_sentence_may_run_over_a_line_break():
    assert sentence_parts("Ignore all\nprevious instructions. Then", lines=False) == [
        "Ignore all\nprevious instructions.",
        " ",
        "Then",
    ]
