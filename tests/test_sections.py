"""Questions about where a folder of documents covers a topic, answered from its sections' headings."""

from __future__ import annotations

import pytest
from llama_index.core.schema import TextNode

from rag.assistant.answer import Assistant
from rag.assistant.citations import verify
from rag.assistant.context import Context, Source
from rag.assistant.sections import SECTIONS, section_answer, topic_of


def _section(n: int, title: str, text: str = "", kind: str = "chunk") -> Source:
    return Source(n, [TextNode(id_=f"{kind}/{n}", text=text, metadata={"kind": kind, "title": title})], text)


LAZY = (
    "Large CLIs may defer loading their\nsubcommands. The interfaces for this are {meth}`Group.get_command` and\n"
    "[list_commands](api.md#list). A custom group can load lazily.\n\n```python\nclass LazyGroup: ...\n```"
)
DOCS = Context(
    [
        _section(1, "complex.md › Complex Applications › Lazily Loading Subcommands", LAZY),
        _section(2, "complex.md › Complex Applications › Lazily Loading Subcommands › What triggers Lazy Loading?"),
        _section(3, "standalone-apps-nuitka.md › Standalone Application with Nuitka › Building (part 2)"),
        _section(4, "standalone-apps-nuitka.md › Standalone Application with Nuitka › Configuration"),
        _section(5, "standalone-apps-briefcase.md › Standalone Application with Briefcase"),
        _section(6, "quickstart.md › Quickstart › Examples"),
    ]
)


@pytest.mark.parametrize(
    ("question", "topic", "yes_no"),
    [
        ("where in the docs is lazy loading of subcommands explained?", "lazy loading of subcommands", False),
        ("Where do the docs explain building a standalone app?", "building a standalone app", False),
        ("where is shell completion documented?", "shell completion", False),
        ("where can I read about custom groups?", "custom groups", False),
        ("which section covers shell completion?", "shell completion", False),
        ("do the docs cover command aliases?", "command aliases", True),
        ("is there anything on lazily loading subcommands?", "lazily loading subcommands", True),
        ("got anything on testing?", "testing", True),
        ("anything in the docs about testing?", "testing", True),
    ],
)
def test_a_question_about_where_the_documents_cover_a_topic_is_read_as_one(question, topic, yes_no):
    assert topic_of(question) == (topic, yes_no)


def test_the_question_is_read_as_typed_without_its_spelt_out_abbreviations():
    assert topic_of("where is CLI testing documented? — CLI: command line interface") == ("CLI testing", False)


@pytest.mark.parametrize(
    "question",
    [
        "Where do I put the completion script?",
        "Is there a way to lazily load subcommands?",
        "How do aliases work?",
        "Does the documentation mention that options are required by default?",  # a claim, not a topic
    ],
)
def test_other_questions_are_not(question):
    assert topic_of(question) is None


def test_the_sections_whose_headings_name_the_topic_are_named_and_cited_their_pieces_as_one():
    answer = section_answer("where in the docs is lazy loading of subcommands explained?", DOCS)
    assert answer is not None and answer.rule == SECTIONS
    assert answer.text == (
        "It is covered in “Lazily Loading Subcommands” (complex.md › Complex Applications) [1][2]. "
        # its opening sentences, within OPENING_CHARS, as a reader sees the markup, cited by the piece
        "Large CLIs may defer loading their subcommands [1]. "
        "The interfaces for this are `Group.get_command` and list_commands [1]. A custom group can load lazily [1]."
    )
    assert verify(answer.cited, answer.context).clean


@pytest.mark.parametrize(
    "text",
    [
        "Click ships these helpers:\n\n- `CliRunner`\n- `Result`\n\nA later paragraph is not the opening.",
        "```python\nrunner = CliRunner()\n```\n\nA paragraph after the code is not the opening.",
        "- `CliRunner` runs a command.\n- `Result` holds its output.",
        "One sentence far longer than an opening may quote, " + "and on and on " * 30 + "to its end.",
    ],
    ids=["lead-into-a-list", "code", "list", "overlong"],
)
def test_a_section_that_opens_with_no_prose_of_its_own_is_named_only(text):
    """A lead into a list ("… these helpers:"), code, a list, an over-long sentence: nothing is quoted."""
    answer = section_answer("is there anything on testing?", Context([_section(1, "testing.md › Testing", text)]))
    assert answer is not None and answer.text == "Yes. It is covered in “Testing” (testing.md) [1]."


def test_only_the_start_of_a_section_is_quoted_as_its_opening():
    middle = _section(1, "testing.md › Testing (part 2)", "The middle of the section goes on here.")
    answer = section_answer("is there anything on testing?", Context([middle]))
    assert answer is not None and answer.text == "Yes. It is covered in “Testing” (testing.md) [1]."
    first = _section(2, "testing.md › Testing (part 1)", "Click can run commands in tests.")
    answer = section_answer("is there anything on testing?", Context([middle, first]))
    assert answer is not None and answer.text.endswith("[1][2]. Click can run commands in tests [2].")


def test_sections_of_one_file_under_a_heading_that_names_the_topic_are_that_heading():
    answer = section_answer("do the docs cover building a standalone app?", DOCS)
    assert answer is not None
    assert answer.text == (
        "Yes. It is covered in “Standalone Application with Nuitka” (standalone-apps-nuitka.md) [3][4]; "
        "and “Standalone Application with Briefcase” (standalone-apps-briefcase.md) [5]."
    )


def test_no_heading_naming_the_topic_or_no_documents_leaves_the_question_to_the_model():
    assert section_answer("do the docs cover command aliases?", DOCS) is None
    # One shared word ("applications") is as often the collection's own name as the topic.
    assert section_answer("is there anything on example applications in rust?", DOCS) is None
    papers = Context([_section(1, "Lazily loading subcommands at scale", kind="paper")])
    assert section_answer("is there anything on lazily loading subcommands?", papers) is None
    question = "where in the docs is lazy loading of subcommands explained?"
    assert section_answer(question, DOCS, frozenset({SECTIONS})) is None


@pytest.mark.parametrize("mode", ["retrieved", "corpus"])
def test_the_chat_answers_where_a_folder_covers_a_topic_without_the_model(
    mini_index_cfg, mini_retriever, scripted_endpoint, mode
):
    url, requests = scripted_endpoint(["The sources do not say."])
    assistant = Assistant(mini_index_cfg.replace(base_url=url, context_mode=mode), retriever=mini_retriever)
    answer = assistant.ask("Where do the docs explain exporting readings?")
    exporting = next(s for s in answer.context.sources if "Exporting readings" in s.header())
    assert answer.answered_by == "catalog" and answer.rule == SECTIONS and requests == []
    assert answer.answer == (
        f"It is covered in “Exporting readings” (logbook.md › Logbook) [{exporting.n}]. "
        f"Run `logbook export --format csv` to write every reading to a file [{exporting.n}]. "
        f"Readings are kept for 90 days, then deleted [{exporting.n}]. "
        f"Exporting straight to a spreadsheet is not supported [{exporting.n}]."
    )
    assert [c.n for c in answer.citations] == [exporting.n]
