"""Lists and counts written by code from the catalog: every item named, cited and verified (a real index of
the mini corpus in tests/fixtures/mini, no model)."""

from __future__ import annotations

import re

import pytest

from rag.assistant.aggregates import BARE_BOUND_RE, catalog_answer
from rag.assistant.citations import verify
from rag.assistant.context import build_context, corpus_context
from rag.assistant.listing import NARROWING, SHARED_RE, YES_TO_A_LIST, list_answer
from rag.assistant.questions import asked_kinds, asks_for_entry, name_references
from rag.eval.grade import grade_answer

TIDEGRAPH = "paper/tidegraph-streaming-graph-partitioning-with-bounded-memory"
SPARSE = "paper/sparse-message-passing-for-molecule-property-prediction"
WALKER = "paper/walker-label-efficient-graph-node-classification-with-random-walks"
KESTREL = "paper/kestrel-low-latency-speech-recognition-on-small-devices"


def listed(retriever, question: str, disabled: frozenset[str] = frozenset()):
    retrieval = retriever.retrieve(question)
    context = build_context(retrieval, retriever.cfg.context_chars, retriever.cfg.max_context_entries)
    listing = catalog_answer(retrieval, context, disabled)
    return listing, context


def listed_in_corpus(retriever, question: str):
    """As `listed`, with every entry in the context (the chat's default corpus mode)."""
    retrieval = retriever.retrieve(question)  # loads the catalog
    context = corpus_context(list(retriever.catalog.nodes.values()), budget_chars=10**6)
    return catalog_answer(retrieval, context), context


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("Which papers did Tomas Lindqvist co-author?", {"paper"}),
        ("what did tomas lindqvist coauthor", {"paper"}),
        ("What has Hana Sato written?", {"paper"}),
        ("What is the title of the paper Hana Sato wrote?", set()),  # one entry, not a list
        ("What language is the logbook tool written in?", set()),
        ("How many of the job postings are located in Toronto?", {"posting"}),
        ("Which two job postings are located in Canada?", {"posting"}),
        ("What papers are in Speech recognition?", {"paper"}),
        ("what are the speech recognition papers?", {"paper"}),
        ("show me all the jobs", {"posting"}),
        ("What are the speech recognition papers about?", set()),  # what they say, not which they are
        ("What are the skills the jobs require?", set()),
        ("What are the jobs in Toronto looking for?", set()),
        ("What is the Amsterdam posting about?", set()),
        ("Which team in Amsterdam is hiring, and what do they work on?", set()),
        ("Which author appears on both the TIDEGRAPH paper and the KESTREL paper?", set()),
    ],
)
def test_list_questions_are_told_apart_from_others(question, kinds):
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Which paper is listed under the Speech recognition area?", True),
        ("What is the title of the paper by Elena Ferreira?", True),
        ("What is the application deadline for the Amsterdam posting?", False),
        ("Under which research area does WALKER appear?", False),
    ],
)
def test_questions_answered_by_naming_an_entry(question, entry):
    assert asks_for_entry(question) is entry


def test_an_authors_papers_are_all_named_counted_and_cited(mini_retriever):
    listing, context = listed(mini_retriever, "Which papers did Tomas Lindqvist co-author?")
    text = listing.cited
    assert not listing.counted
    assert text == (
        "Tomas Lindqvist is an author of 3 papers: “KESTREL: Low-latency speech recognition on small devices” "
        "(Speech recognition) [1]; “Sparse message passing for molecule property prediction” (Graph learning) [2]; "
        "“TIDEGRAPH: Streaming graph partitioning with bounded memory” (Graph learning) [3]."
    )
    verified = verify(text, context)
    assert verified.text == text and verified.clean
    assert {i for c in verified.citations for i in c.ids} == {KESTREL, SPARSE, TIDEGRAPH}
    for number in re.findall(r"\[(\d+)\]", text):  # each number names a source in the context
        assert int(number) in context.by_number()


# One question of each class the catalog answers in full, with the choices an exam would offer.
@pytest.mark.parametrize(
    ("question", "choices", "answer", "stated"),
    [
        pytest.param(
            "How many of the job postings are located in Toronto?",
            {"A": "1", "B": "2", "C": "3", "D": "4"},
            "B",
            "2 job postings are in Toronto: the Toronto posting (2 postings with the same text) [1].",
            id="count-of-postings-in-a-city",
        ),
        pytest.param(
            "How many job postings does the guide list in total?",
            {"A": "2", "B": "3", "C": "4", "D": "5"},
            "B",
            "The index holds 3 job postings.",
            id="total-count-of-a-kind",
        ),
        pytest.param(
            "Which papers did Priya Raghunathan co-author?",
            {"A": "TIDEGRAPH and KESTREL", "B": "TIDEGRAPH and WALKER", "C": "KESTREL only", "D": "WALKER only"},
            "A",
            "Priya Raghunathan is an author of 2 papers: “KESTREL: Low-latency speech recognition on small devices” "
            "(Speech recognition) [1]; “TIDEGRAPH: Streaming graph partitioning with bounded memory” "
            "(Graph learning) [2].",
            id="an-authors-papers",
        ),
        pytest.param(
            "How many papers are listed under Graph learning?",
            {"A": "1", "B": "2", "C": "3", "D": "4"},
            "C",
            "3 papers are listed under Graph learning: “Sparse message passing for molecule property prediction” [1]; "
            "“TIDEGRAPH: Streaming graph partitioning with bounded memory” [2]; "
            "“WALKER: Label-efficient graph node classification with random walks” [3].",
            id="count-of-papers-in-an-area",
        ),
        pytest.param(
            "Which paper is listed under Speech recognition?",
            {"A": "TIDEGRAPH", "B": "KESTREL", "C": "WALKER", "D": "The message passing paper"},
            "B",
            "1 paper is listed under Speech recognition: "
            "“KESTREL: Low-latency speech recognition on small devices” [1].",
            id="the-papers-of-an-area",
        ),
        pytest.param(
            "Which two job postings are located in Canada?",
            {"A": "Toronto and Amsterdam", "B": "The two Toronto postings", "C": "Amsterdam", "D": "None"},
            "B",
            "2 job postings are in Canada: the Toronto posting (2 postings with the same text) [1].",
            id="the-postings-of-a-country",
        ),
    ],
)
def test_catalog_answers_to_list_and_count_questions_state_the_facts_and_grade_as_right(
    mini_retriever, question, choices, answer, stated
):
    """Classes: a count of a city's postings, the count of a whole kind, an author's papers, the count and
    the list of an area's papers, a country's postings. Each is written by code, cited and verified."""
    listing, context = listed(mini_retriever, question)
    assert listing is not None and listing.text == stated
    assert grade_answer(question, choices, answer, listing.text).correct, listing.text
    assert not listing.cited or verify(listing.cited, context).clean


def test_a_question_about_content_is_left_to_the_model(mini_retriever):
    assert listed(mini_retriever, "What does the Amsterdam posting say about hearing aids?")[0] is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Who wrote KESTREL?",
            "“KESTREL: Low-latency speech recognition on small devices” is by Priya Raghunathan, Tomas Lindqvist "
            "and Jonas (Joe) Weber [1].",
        ),
        (
            "Which research area is the TIDEGRAPH paper listed under?",
            "“TIDEGRAPH: Streaming graph partitioning with bounded memory” is listed under Graph learning [1].",
        ),
        (
            "what section is the TIDEGRAPH paper filed under?",
            "“TIDEGRAPH: Streaming graph partitioning with bounded memory” is listed under Graph learning [1].",
        ),
        ("Under which heading is KESTREL listed?", "is listed under Speech recognition [1]."),
        ("which topic area is KESTREL filed in?", "is listed under Speech recognition [1]."),
        ("Who is the last listed author of KESTREL?", "is Jonas (Joe) Weber [1]."),
        ("Who is the first author of WALKER?", "is Elena Ferreira [1]."),
        ("who's the second listed author of KESTREL?", "is Tomas Lindqvist [1]."),
        ("Who are the first and last authors on KESTREL?", "are Priya Raghunathan and Jonas (Joe) Weber [1]."),
        # its title, asked by its short name or by the area it is the one paper of
        ("what's KESTREL called?", "The paper is “KESTREL: Low-latency speech recognition on small devices” [1]."),
        (
            "What is the full title of the speech recognition paper?",
            "The paper is “KESTREL: Low-latency speech recognition on small devices” [1].",
        ),
    ],
)
def test_one_field_of_a_named_paper_is_stated_by_code(mini_retriever, question, expected):
    listing, context = listed(mini_retriever, question)
    assert listing is not None and listing.cited.endswith(expected) and listing.rule == "field"
    assert verify(listing.cited, context).clean


@pytest.mark.parametrize(
    "question",
    [
        "What do the authors of KESTREL propose?",  # about content, not the author list
        "Who wrote KESTREL, and what does it propose?",  # a second part
        "Who is the fifth author of KESTREL?",  # it has three
        "What is KESTREL about?",  # its content, not its name
        "Which topics does KESTREL cover?",  # what it covers, not the area it is listed under
        "What datasets are listed in the KESTREL paper?",  # what its text lists
        "What section of the KESTREL paper covers latency?",  # a part of its text
        "What is the dataset called that KESTREL uses?",  # another thing's name
        "What's the method named in KESTREL?",
        "Are any of KESTREL's authors on the WALKER paper?",  # a condition, not whether they exist
    ],
)
def test_questions_beyond_one_field_go_to_the_model(mini_retriever, question):
    assert listed(mini_retriever, question)[0] is None


@pytest.mark.parametrize(
    ("question", "stated", "sources"),
    [
        pytest.param(
            "Under which research area does “Sparse message passing for molecule property prediction” appear?",
            "is listed under Graph learning [",
            {SPARSE},
            id="the-area-of-a-quoted-title",
        ),
        pytest.param(
            "Which papers did Tomas Lindqvist co-author?",
            "Tomas Lindqvist is an author of 3 papers:",
            {KESTREL, SPARSE, TIDEGRAPH},
            id="an-authors-papers",
        ),
        pytest.param(
            "How many job postings does the guide list in total?", "The index holds 3 job postings.", set(), id="total"
        ),
    ],
)
def test_the_assistant_answers_from_the_catalog_without_asking_the_model(
    mini_index_cfg, mini_retriever, scripted_endpoint, question, stated, sources
):
    """Classes: one field of a named paper, an author's papers, the count of a kind."""
    # The scripted model would say the sources do not say; code answers first.
    from rag.assistant.answer import Assistant

    url, requests = scripted_endpoint(["The sources do not say."])
    answer = Assistant(mini_index_cfg.replace(base_url=url), retriever=mini_retriever).ask(question)
    assert answer.answered_by == "catalog" and requests == []
    assert stated in answer.answer
    assert {i for c in answer.citations for i in c.ids} == sources


def test_the_authors_two_named_papers_share_are_computed(mini_retriever):
    question = "Which author appears on both TIDEGRAPH and KESTREL besides Tomas Lindqvist?"
    listing, context = listed(mini_retriever, question)
    assert listing.cited.startswith("Priya Raghunathan is an author of both “KESTREL: ")
    assert verify(listing.cited, context).clean
    none, _ = listed(mini_retriever, "Who is an author of both WALKER and KESTREL?")
    assert none.cited.startswith("No author is listed on both ")
    # asked of people without the word "author"
    anyone, _ = listed(mini_retriever, "does anyone from TIDEGRAPH also show up on the KESTREL paper?")
    assert anyone.cited.startswith("Priya Raghunathan and Tomas Lindqvist are authors of both")
    # two questions in one, or "both" about topics, ask for no shared author
    assert SHARED_RE.search("who wrote TIDEGRAPH? also, who wrote KESTREL?") is None
    assert SHARED_RE.search("does anyone know if TIDEGRAPH and KESTREL are both about graphs?") is None


def test_a_repeated_question_is_answered_from_the_cache_until_the_prompts_change(
    mini_index_cfg, mini_retriever, scripted_endpoint, tmp_path
):
    import shutil

    from rag.assistant.answer import Assistant

    url, requests = scripted_endpoint(["Readings are kept for 90 days, then deleted [1]."])
    prompts = tmp_path / "prompts"
    shutil.copytree(mini_index_cfg.prompts_dir, prompts)
    assistant = Assistant(mini_index_cfg.replace(base_url=url, prompts_dir=prompts), retriever=mini_retriever)
    first = assistant.ask("How long are readings kept?")
    again = assistant.ask("  how long are readings KEPT ")
    assert not first.cached and again.cached and len(requests) == 1
    assert again.answer == first.answer and again.question == "how long are readings KEPT"
    assert not assistant.ask("How long are readings kept?", filters={"kind": "chunk"}).cached
    (prompts / "answer.md").write_text((prompts / "answer.md").read_text() + "\nBe brief.\n")
    assert not assistant.ask("How long are readings kept?").cached  # a prompt edit invalidates


def test_a_follow_up_reference_becomes_the_entry_name():
    assert name_references("Who wrote it?", "“TIDEGRAPH: Streaming graph”") == "Who wrote “TIDEGRAPH: Streaming graph”?"
    assert name_references("Is this posting remote?", "the Amsterdam posting") == "Is the Amsterdam posting remote?"
    assert name_references("Its area?", "the Toronto posting") == "The Toronto posting’s area?"
    assert (
        name_references("Which papers are on streaming?", "“TIDEGRAPH”") == "Which papers are on streaming?"
    )  # no reference


def test_a_follow_up_about_them_asks_about_the_papers_authors():
    named = name_references("Did any of them write another paper?", "“KESTREL: Low-latency speech”", people=True)
    assert named == "Did any of the authors of “KESTREL: Low-latency speech” write another paper?"
    assert name_references("Who wrote it?", "“KESTREL”") == "Who wrote “KESTREL”?"


def test_a_yes_no_question_about_a_named_place_or_person_says_yes_and_lists(mini_retriever):
    listing, _ = listed(mini_retriever, "is Amsterdam one of the job locations?")
    assert listing.text == "Yes. 1 job posting is in Amsterdam: the Amsterdam posting [1]."
    assert listed(mini_retriever, "is the molecule paper about proteins?")[0] is None  # not about existence


def test_a_yes_no_question_naming_its_kind_says_yes_before_the_list(mini_retriever):
    """Class: yes/no existence with the kind named ("did they have any speech recognition paper?")."""
    listing, _ = listed(mini_retriever, "did they have any speech recognition paper?")
    assert listing.text.startswith("Yes. 1 paper is listed under Speech recognition")
    off, _ = listed(mini_retriever, "did they have any speech recognition paper?", frozenset({YES_TO_A_LIST}))
    assert off.text.startswith("1 paper is listed under Speech recognition")
    # a condition the list does not check gets no "Yes"
    more, _ = listed(mini_retriever, "did they have any speech recognition paper with more than five authors?")
    assert more is None or not more.text.startswith("Yes")


def test_a_count_with_a_condition_is_not_the_count_of_the_kind(mini_retriever):
    assert listed_in_corpus(mini_retriever, "how many papers are in the guide in total?")[0].text == (
        "The index holds 4 papers."
    )
    alone = listed_in_corpus(mini_retriever, "how many papers have only one author?")[0]
    assert alone.rule == "threshold" and alone.text.startswith("1 paper has only one author: “WALKER: ")


def test_a_bare_count_after_a_verb_is_an_exact_threshold(mini_retriever):
    """Class: threshold questions without "more than": "which authors appear on two papers"."""
    two = listed_in_corpus(mini_retriever, "which authors appear on two different papers?")[0]
    assert two.rule == "threshold" and " on exactly two papers:" in two.text
    assert "Priya Raghunathan (2)" in two.text and "Hana Sato" not in two.text
    nine = listed_in_corpus(mini_retriever, "which papers have 1 author?")[0]
    assert nine.rule == "threshold" and nine.text.startswith("1 paper has exactly 1 author: “WALKER: ")
    # "the 4 papers" is the index's own count, not a bound.
    assert BARE_BOUND_RE.search("Which of the 4 papers is on graphs?") is None


def test_more_than_one_is_answered_by_the_count(mini_retriever):
    two, _ = listed(mini_retriever, "is priya raghunathan on more than one paper in the guide?")
    assert two.text.startswith("Yes. Priya Raghunathan is an author of 2 papers:")
    one, _ = listed(mini_retriever, "Is Hana Sato on more than one paper?")
    assert one.text.startswith("No, only one. Hana Sato is an author of 1 paper:")


def test_a_negated_question_is_not_answered_with_the_list_it_excludes(mini_retriever):
    """Class: negation. Listing every Graph learning paper does not say which ones are not about streaming."""
    # A set difference needs every entry in the context: the whole corpus, as the chat has it by default.
    listing, context = listed_in_corpus(mini_retriever, "which graph learning papers are not about streaming?")
    assert listing is not None and listing.rule == "negation"
    assert listing.text.startswith("2 of the 3 papers in Graph learning are not about “streaming”: ")
    assert "Sparse message passing" in listing.text and "WALKER" in listing.text and "TIDEGRAPH" not in listing.text
    assert verify(listing.cited, context).clean
    assert "TIDEGRAPH" in listed(mini_retriever, "which papers are in the graph learning section?")[0].text


def test_a_topic_the_names_do_not_say_is_not_answered_with_the_whole_list(mini_retriever):
    """Class: a named set narrowed by a topic. Every Graph learning paper does not say which one is about
    streaming; the model answers it, with every entry in its prompt."""
    narrowed, _ = listed_in_corpus(mini_retriever, "which graph learning paper is about streaming?")
    assert narrowed is None
    assert "TIDEGRAPH" in listed_in_corpus(mini_retriever, "which papers are on graph learning?")[0].text
    # What follows the topic names something else: the names still select the answer.
    written = listed_in_corpus(mini_retriever, "which papers on graph learning were written by Tomas Lindqvist?")[0]
    assert written is not None and written.rule == "list"
    retrieval = mini_retriever.retrieve("which graph learning paper is about streaming?")
    context = corpus_context(list(mini_retriever.catalog.nodes.values()), budget_chars=10**6)
    assert list_answer(retrieval, context, frozenset({NARROWING})).rule == "list"  # switched off


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Two title words in a row, one of them in no other title, name a paper.
        (
            "Which authors do the TIDEGRAPH paper and the message passing paper share?",
            "Tomas Lindqvist is an author of both",
        ),
        # The one paper of a named area.
        ("Who wrote the speech recognition paper?", "“KESTREL: Low-latency speech recognition on small devices” is by"),
        # … also beside a paper named otherwise, when the area is said as the paper's name.
        ("Which authors do WALKER and the speech recognition paper share?", "No author is listed on both “KESTREL"),
        # Several named papers' areas, one sentence each.
        (
            "Which research areas are the WALKER paper and the KESTREL paper in?",
            "is listed under Speech recognition [1]. “WALKER: Label-efficient graph node classification with "
            "random walks” is listed under Graph learning [2].",
        ),
    ],
)
def test_papers_named_by_short_name_title_words_or_their_area(mini_retriever, question, expected):
    listing, context = listed(mini_retriever, question)
    assert listing is not None and expected in listing.text
    assert verify(listing.cited, context).clean


def test_words_several_titles_could_mean_name_no_paper(mini_retriever):
    # "graph" is in the titles of TIDEGRAPH and WALKER; "graph partitioning" only in TIDEGRAPH's.
    assert listed(mini_retriever, "Who wrote the graph paper?")[0] is None
    named, _ = listed(mini_retriever, "Who wrote the graph partitioning paper?")
    assert named.text.startswith("“TIDEGRAPH: Streaming graph partitioning with bounded memory” is by Mira Okafor,")


def test_a_question_about_a_name_the_index_never_mentions_is_answered_so(mini_retriever):
    """Class: premises the index does not hold. A list of what it does hold would answer another question."""
    listing, _ = listed_in_corpus(mini_retriever, "Are there any job openings in Reykjavik?")
    assert listing.text == "No: the sources do not mention Reykjavik. The job postings are in Amsterdam and Toronto."
    assert listing.rule == "absent-name"
    assert listed_in_corpus(mini_retriever, "any openings in Reykjavik?")[0].text.startswith("No: the sources do not")
    are_any = listed_in_corpus(mini_retriever, "Are any of the job postings in Reykjavik?")[0]
    assert are_any.text.startswith("No: the sources do not mention Reykjavik.")
    listing, _ = listed(mini_retriever, "How many papers did the guide list in 2019?")
    assert listing.text == "The sources do not mention 2019."
    # An abbreviation the index's words stand for is not absent, even when it is ambiguous: "MP" is
    # "message passing" and "molecule property" equally often.
    assert listed(mini_retriever, "any MP papers?")[0] is None


def test_a_topic_word_in_another_form_names_its_area(mini_retriever):
    listing, _ = listed_in_corpus(mini_retriever, "Is there anything on speeches?")
    assert listing is not None and listing.text.startswith("Yes. 1 paper is listed under Speech recognition")
    # A shorter word with the same stem is another word: "learn" does not name "Graph learning".
    matches = mini_retriever.retrieve("Which papers learn from few labels?").matches
    assert not [m for m in matches if m.field == "area"]


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        (
            "Is KESTREL filed under graph learning?",
            "No: “KESTREL: Low-latency speech recognition on small devices” is listed under Speech recognition [1].",
        ),
        (
            "is WALKER in the graph learning area?",
            "Yes: “WALKER: Label-efficient graph node classification with random walks” is listed under Graph "
            "learning [1].",
        ),
        (
            "Is Tomas Lindqvist an author of KESTREL?",
            "Yes: “KESTREL: Low-latency speech recognition on small devices” is by Priya Raghunathan, Tomas "
            "Lindqvist and Jonas (Joe) Weber [1].",
        ),
        (
            "Is Elena Ferreira an author of the KESTREL paper?",  # about this paper, not whether she is on any
            "No: “KESTREL: Low-latency speech recognition on small devices” is by Priya Raghunathan, Tomas "
            "Lindqvist and Jonas (Joe) Weber [1].",
        ),
        (
            "Is Elena Ferreira an author of KESTREL?",
            "No: “KESTREL: Low-latency speech recognition on small devices” is by Priya Raghunathan, Tomas "
            "Lindqvist and Jonas (Joe) Weber [1].",
        ),
    ],
)
def test_a_yes_no_question_about_a_named_papers_area_or_authors_is_answered_by_its_metadata(
    mini_retriever, question, stated
):
    listing, context = listed(mini_retriever, question)
    assert listing is not None and listing.rule == "field-check"
    paper = "paper/walker" if "WALKER" in question else "paper/kestrel"
    n = next(s.n for s in context.sources if s.ids[0].startswith(paper))
    assert listing.text == stated.replace("[1]", f"[{n}]") and verify(listing.cited, context).clean


@pytest.mark.parametrize(
    "question",
    [
        "Is the speech recognition paper about hearing aids?",  # named by its area: the area is not asked
        "Is KESTREL filed under graph learning, and who wrote it?",  # a second part
        "Is Tomas Lindqvist the first author of KESTREL?",  # a place in the list, not membership
        "Does KESTREL use graph learning?",  # its method, which its area does not answer
        "Is KESTREL by Tomas Lindqvist or Elena Ferreira?",  # either name would do
    ],
)
def test_yes_no_questions_the_metadata_does_not_decide_are_left_alone(mini_retriever, question):
    listing, _ = listed(mini_retriever, question)
    assert listing is None or listing.rule != "field-check"
