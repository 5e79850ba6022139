"""Lists and counts written by code from the catalog: every item named, cited and verified (real index, no model)."""

from __future__ import annotations

import re

import pytest

from rag.assistant.aggregates import catalog_answer
from rag.assistant.citations import verify
from rag.assistant.context import build_context, corpus_context
from rag.assistant.questions import asked_kinds, asks_for_entry, name_references
from rag.eval.exam import GOLD_EXAM, load_exam
from rag.eval.grade import grade_answer

GOLD = {q.id: q for q in load_exam(GOLD_EXAM)}


def listed(retriever, question: str):
    retrieval = retriever.retrieve(question)
    context = build_context(retrieval, retriever.cfg.context_chars, retriever.cfg.max_context_entries)
    listing = catalog_answer(retrieval, context)
    return listing, context


def listed_in_corpus(retriever, question: str):
    """As `listed`, with every entry in the context (the chat's default corpus mode)."""
    context = corpus_context(list(retriever.catalog.nodes.values()), budget_chars=10**6)
    return catalog_answer(retriever.retrieve(question), context), context


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("Which papers did Parameswaran Raman co-author?", {"paper"}),
        ("How many of the job postings are located in Boston?", {"posting"}),
        ("Which two job postings are located in India?", {"posting"}),
        ("What papers are in Privacy?", {"paper"}),
        ("What is the Madrid posting about?", set()),
        ("Which team in Madrid is hiring, and what do they work on?", set()),
        ("Which author appears on both the MADA paper and the EMC2 paper?", set()),
    ],
)
def test_list_questions_are_told_apart_from_others(question, kinds):
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Which paper is listed under the Causal inference area?", True),
        ("What is the title of the paper by Di Wu?", True),
        ("What is the application deadline for the Bengaluru posting?", False),
        ("Under which research area does EMC2 appear?", False),
    ],
)
def test_questions_answered_by_naming_an_entry(question, entry):
    assert asks_for_entry(question) is entry


def test_an_authors_papers_are_all_named_counted_and_cited(retriever):
    listing, context = listed(retriever, "Which papers did Parameswaran Raman co-author?")
    text = listing.cited
    assert not listing.counted
    assert text.startswith("Parameswaran Raman is an author of 3 papers: ")
    verified = verify(text, context)
    assert verified.text == text and verified.clean
    cited = {i for c in verified.citations for i in c.ids}
    assert {i for i in cited if i.startswith("paper/")} == {
        n.node_id for n in retriever.catalog.nodes.values() if "Parameswaran Raman" in str(n.metadata.get("authors"))
    }
    for number in re.findall(r"\[(\d+)\]", text):  # each number names a source in the context
        assert int(number) in context.by_number()


@pytest.mark.parametrize("item_id", ["q39", "q40", "q41", "q42", "q43", "q46", "q48", "q49", "q50", "q51"])
def test_catalog_answers_to_the_gold_list_questions_grade_as_right(retriever, item_id):
    q = GOLD[item_id]
    listing, context = listed(retriever, q.question)
    assert listing is not None, q.question
    text = listing.text
    grade = grade_answer(q.question, q.choices, q.answer, text, facts=q.facts, abstain_letter=q.abstain_letter)
    assert grade.correct, (text, grade)
    assert not listing.cited or verify(listing.cited, context).clean


def test_a_question_about_content_is_left_to_the_model(retriever):
    assert listed(retriever, "What does the Madrid posting say about Haul?")[0] is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who wrote MADA?", "“MADA: Meta-adaptive optimizers through hyper-gradient descent” is by Kaan Ozkara,"),
        ("Which research area is the EMC2 paper listed under?", "is listed under Contrastive learning ["),
        ("Who is the last listed author of MemoryLLM?", "is Julian McAuley ["),
        ("Who is the first author of REPOFORMER?", "is Di Wu ["),
    ],
)
def test_one_field_of_a_named_paper_is_stated_by_code(retriever, question, expected):
    listing, context = listed(retriever, question)
    assert listing is not None and expected in listing.cited
    assert verify(listing.cited, context).clean


@pytest.mark.parametrize(
    "question",
    [
        "What do the authors of MADA propose?",  # about content, not the author list
        "Who wrote MADA, and what does it propose?",  # a second part
    ],
)
def test_questions_beyond_one_field_go_to_the_model(retriever, question):
    assert listed(retriever, question)[0] is None


@pytest.mark.parametrize("item_id", ["q05", "q11", "q41", "q40"])
def test_the_assistant_answers_from_the_catalog_without_asking_the_model(
    index_cfg, retriever, scripted_endpoint, item_id
):
    # The scripted model would say the sources do not say; code answers first.
    from rag.assistant.answer import Assistant

    url, requests = scripted_endpoint(["The sources do not say."])
    q = GOLD[item_id]
    answer = Assistant(index_cfg.replace(base_url=url), retriever=retriever).ask(q.question)
    assert answer.answered_by == "catalog" and requests == []
    assert grade_answer(q.question, q.choices, q.answer, answer.answer, facts=q.facts).correct, answer.answer
    assert {i for c in answer.citations for i in c.ids} >= set(q.sources)


def test_the_authors_two_named_papers_share_are_computed(retriever):
    listing, context = listed(retriever, "Which author appears on both MADA and EMC2 besides Parameswaran Raman?")
    assert listing.cited.startswith("Mingyi Hong is an author of both ")
    assert verify(listing.cited, context).clean
    none, _ = listed(retriever, "Who is an author of both COLLAGE and MADA?")
    assert none.cited.startswith("No author is listed on both ")


def test_a_repeated_question_is_answered_from_the_cache_until_the_prompts_change(
    index_cfg, retriever, scripted_endpoint, tmp_path
):
    import shutil

    from rag.assistant.answer import Assistant

    url, requests = scripted_endpoint(["Distribution drift was modeled as a change from the numeral 0 to 1 [1]."])
    prompts = tmp_path / "prompts"
    shutil.copytree(index_cfg.prompts_dir, prompts)
    assistant = Assistant(index_cfg.replace(base_url=url, prompts_dir=prompts), retriever=retriever)
    first = assistant.ask("How was distribution drift modeled?")
    again = assistant.ask("  how was distribution drift MODELED ")
    assert not first.cached and again.cached and len(requests) == 1
    assert again.answer == first.answer and again.question == "how was distribution drift MODELED"
    assert not assistant.ask("How was distribution drift modeled?", filters={"kind": "paper"}).cached
    (prompts / "answer.md").write_text((prompts / "answer.md").read_text() + "\nBe brief.\n")
    assert not assistant.ask("How was distribution drift modeled?").cached  # a prompt edit invalidates


def test_a_follow_up_reference_becomes_the_entry_name():
    assert name_references("Who wrote it?", "“EMC2: Efficient MCMC”") == "Who wrote “EMC2: Efficient MCMC”?"
    assert name_references("Is this posting remote?", "the Barcelona posting") == "Is the Barcelona posting remote?"
    assert name_references("Its area?", "the Madrid posting") == "The Madrid posting’s area?"
    assert name_references("Which papers are on MCMC?", "“EMC2”") == "Which papers are on MCMC?"  # refers to nothing


def test_a_follow_up_about_them_asks_about_the_papers_authors():
    named = name_references("Did any of them write another paper?", "“MADA: Meta-adaptive optimizers”", people=True)
    assert named == "Did any of the authors of “MADA: Meta-adaptive optimizers” write another paper?"
    assert name_references("Who wrote it?", "“MADA”") == "Who wrote “MADA”?"


def test_a_yes_no_question_about_a_named_place_or_person_says_yes_and_lists(retriever):
    listing, _ = listed(retriever, "is Bellevue one of the job locations?")
    assert listing.text.startswith("Yes. 1 job posting is in Bellevue: the Bellevue posting [")
    assert listed(retriever, "is the data preparation paper about tokenizers?")[0] is None  # not about existence


def test_a_count_with_a_condition_is_not_the_count_of_the_kind(retriever):
    assert (
        listed_in_corpus(retriever, "how many papers are in the guide in total?")[0].text
        == "The index holds 24 papers."
    )
    assert listed_in_corpus(retriever, "how many papers have only one author?")[0].rule == "threshold"


def test_more_than_one_is_answered_by_the_count(retriever):
    two, _ = listed(retriever, "is aaron roth on more than one paper in the guide?")
    assert two.text.startswith("Yes. Aaron Roth is an author of 2 papers:")
    one, _ = listed(retriever, "Is Bing Xiang on more than one paper?")
    assert one.text.startswith("No, only one. Bing Xiang is an author of 1 paper:")


def test_a_negated_question_is_not_answered_with_the_list_it_excludes(retriever):
    """Class: negation. Listing every Privacy paper does not say which one is not about diffusion models."""
    # A set difference needs every entry in the context: the whole corpus, as the chat has it by default.
    listing, context = listed_in_corpus(retriever, "which privacy papers are not about diffusion models?")
    assert listing is not None and "Differentially private bias-term" in listing.text and listing.rule == "negation"
    assert "Membership inference" not in listing.text
    assert verify(listing.cited, context).clean
    assert "Membership inference" in listed(retriever, "which papers are in the privacy section?")[0].text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Two title words in a row, one of them in no other title, name a paper.
        ("Which authors do the EMC2 paper and the zeroth-order paper share?", "Parameswaran Raman is an author of"),
        # The one paper of a named area.
        ("Who wrote the anomaly detection paper?", "“Online adaptive anomaly thresholding with confidence"),
        # Several named papers' areas, one sentence each.
        (
            "Which research areas are the MADA paper and the EMC2 paper in?",
            "is listed under Contrastive learning [",
        ),
    ],
)
def test_papers_named_by_short_name_title_words_or_their_area(retriever, question, expected):
    listing, context = listed(retriever, question)
    assert listing is not None and expected in listing.text
    assert verify(listing.cited, context).clean


def test_words_every_llm_title_could_mean_name_no_paper(retriever):
    listing, _ = listed(retriever, "Who wrote the paper on large language models?")
    assert listing is None


def test_a_question_about_a_name_the_index_never_mentions_is_answered_so(retriever):
    """Class: premises the index does not hold. A list of what it does hold would answer another question."""
    listing, _ = listed_in_corpus(retriever, "Are there any job openings in Reykjavik?")
    assert listing.text.startswith("No: the sources do not mention Reykjavik. The job postings are in Barcelona, ")
    assert listing.rule == "absent-name"
    assert listed_in_corpus(retriever, "any openings in Reykjavik?")[0].text.startswith("No: the sources do not")
    listing, _ = listed(retriever, "How many papers did the guide list in 2019?")
    assert listing.text == "The sources do not mention 2019."
    # An abbreviation the index's words stand for is not absent, even when it is ambiguous.
    assert listed(retriever, "any CL papers?")[0] is None


def test_a_topic_word_in_another_form_names_its_area(retriever):
    listing, _ = listed_in_corpus(retriever, "Is there anything on anomalies?")
    assert listing is not None and listing.text.startswith("Yes. 1 paper is listed under Anomaly detection")
    # A shorter word with the same stem is another word: "explain" does not name "Explainable AI".
    assert not [m for m in retriever.retrieve("Which papers explain their predictions?").matches if m.field == "area"]
