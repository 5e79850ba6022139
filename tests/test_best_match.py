"""Questions that describe an entry in other words: the closest entry of the asked kind, named by code
after the model abstained (a real index of the mini corpus and the real embedder, no model)."""

from __future__ import annotations

import pytest

from rag.assistant.best_match import answers_nothing, best_match_answer
from rag.assistant.citations import Citation, Verified
from rag.assistant.context import build_context


def closest(retriever, question: str) -> str | None:
    retrieval = retriever.retrieve(question)
    context = build_context(retrieval, retriever.cfg.context_chars, retriever.cfg.max_context_entries)
    return best_match_answer(question, context, retriever.embedder, [hit.node.node_id for hit in retrieval.hits])


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("Which paper splits a graph into parts as the edges stream in, using little memory?", "TIDEGRAPH"),
        ("what paper predicts chemical properties of molecules by sending few messages between atoms", "Sparse"),
        ("which paper classifies nodes from few labels by walking randomly on the graph?", "WALKER"),
        ("anything on splitting a streaming graph with little memory?", "TIDEGRAPH"),  # no kind named
        ("anything in there about splitting a streaming graph with little memory?", "TIDEGRAPH"),
    ],
)
def test_a_described_paper_is_named_as_the_closest_match(mini_retriever, question, title):
    answer = closest(mini_retriever, question)
    assert answer is not None and answer.startswith("The closest match in the index is “" + title)
    assert answer.endswith("” [1].")


@pytest.mark.parametrize(
    "question",
    [
        "Which paper won the best paper award at the conference?",  # no entry says so
        "Which paper has the most authors?",  # the metadata answers it, not similarity
        "Which graph learning paper is not about streaming?",  # a negation asks for the opposite
        "Who wrote the KESTREL paper?",  # asks for people, not for an entry
        # A description of nothing the index holds scores too low to name a closest entry.
        "Which paper is about baking sourdough bread?",
        "anything on baking sourdough bread?",
    ],
)
def test_questions_that_describe_no_entry_get_no_closest_match(mini_retriever, question):
    assert closest(mini_retriever, question) is None


def test_the_entry_retrieval_ranks_first_is_named_though_its_words_differ(mini_retriever):
    # "what a speaker said" for "speech recognition": the words differ, the meaning is close (0.35).
    answer = closest(mini_retriever, "Which paper tells what a speaker said on a hearing aid?")
    assert answer is not None and answer.startswith("The closest match in the index is “KESTREL")


def _cited(*kinds: str) -> Verified:
    citations = [Citation(n, (f"{kind}/{n}",), kind, kind, "") for n, kind in enumerate(kinds, start=1)]
    return Verified("An answer.", citations, [], abstained=False)


def test_an_answer_citing_no_entry_of_the_asked_kind_answers_nothing():
    question = "which of amazon's icml papers is about an LLM that updates its own knowledge?"
    assert answers_nothing(_cited("overview"), question)  # the overview paragraph, no paper
    assert not answers_nothing(_cited("overview", "paper"), question)
    assert answers_nothing(Verified("The sources do not say.", [], [], abstained=True), question)
    # A question that does not ask which entry is left with the model's answer.
    assert not answers_nothing(_cited("overview"), "What is the guide about?")


def test_anything_in_the_documents_on_a_topic_asks_whether_they_cover_it():
    from rag.assistant.questions import ANYTHING_ON_RE

    assert ANYTHING_ON_RE.match("anything in the docs about testing?")
    assert ANYTHING_ON_RE.match("anything in there on PDEs?")
    assert not ANYTHING_ON_RE.match("anything in the paper on causality?")  # about the paper under discussion
