"""The "corpus" context mode: every entry, in a fixed order, as one prompt prefix for every question."""

from __future__ import annotations

import pytest
from llama_index.core.schema import NodeWithScore, TextNode

from rag.assistant.answer import Assistant
from rag.assistant.catalog import Match
from rag.assistant.chat import ChatSession
from rag.assistant.context import build_context, corpus_context, focus
from rag.assistant.retrieve import Retrieval


def node(entry_id: str, text: str, kind: str = "paper") -> TextNode:
    return TextNode(id_=entry_id, text=text, metadata={"kind": kind, "title": entry_id})


def test_every_entry_in_a_fixed_order_and_none_when_too_large():
    nodes = [node("paper/b", "Beta paper."), node("paper/a", "Alpha paper."), node("paper/c", "Gamma paper.")]
    context = corpus_context(nodes, budget_chars=10_000)
    assert [s.ids for s in context.sources] == [["paper/a"], ["paper/b"], ["paper/c"]]
    assert context.text() == corpus_context(list(reversed(nodes)), 10_000).text()
    assert corpus_context(nodes, budget_chars=40) is None


def test_a_question_adds_its_best_matches_after_the_unchanged_corpus():
    long = "Beta paper. " + " ".join(f"Filler sentence number {i} about nothing." for i in range(40))
    nodes = [node("paper/a", "Alpha paper."), node("paper/b", long + " Beta was trained on seven tasks.")]
    whole = corpus_context(nodes, budget_chars=10_000)
    retrieval = Retrieval("How many tasks was paper/b trained on?", [NodeWithScore(node=nodes[1], score=0.9)])
    focused = focus(whole, retrieval, build_context(retrieval, 6000, 24), named=0, excerpt_chars=600)
    text = focused.text()
    assert text.startswith(whole.text()) and [s.n for s in focused.shown()] == [2]
    after = text[len(whole.text()) :]
    assert "Sources that match this question best:\n[2] paper/b" in after
    # The best match again, cut to the sentences the question asks about: not its title, no filler.
    excerpt = after.split("From the best match, [2]:\n")[1].split("\n")[0]
    assert excerpt == "Beta was trained on seven tasks."


def test_of_the_entries_a_name_selects_the_best_match_is_the_one_retrieval_ranks_first():
    nodes = [node("paper/a", "Actor-critic paper."), node("paper/b", "Target network paper.")]
    whole = corpus_context(nodes, budget_chars=10_000)
    area = Match("area", "Reinforcement learning", ("paper/a", "paper/b"))  # in the catalog's order
    hits = [NodeWithScore(node=nodes[1], score=0.9), NodeWithScore(node=nodes[0], score=0.2)]
    retrieval = Retrieval("Which RL paper is about target networks?", hits, matches=[area])
    focused = focus(whole, retrieval, build_context(retrieval, 6000, 24), named=1, excerpt_chars=600)
    assert focused.pointers == [2, 1] and focused.excerpt == "Target network paper."


def test_the_prompt_names_the_first_best_matches_and_repeats_only_sentences_about_the_question():
    nodes = [node(f"paper/{c}", f"{c.upper()} paper.\nAuthors: Ann Lee.\nIt uses seven tasks.") for c in "abcd"]
    whole = corpus_context(nodes, budget_chars=10_000)
    retrieval = Retrieval("Who wrote the C paper?", [NodeWithScore(node=n, score=1.0) for n in reversed(nodes)])
    focused = focus(whole, retrieval, build_context(retrieval, 6000, 24), named=2, excerpt_chars=600)
    after = focused.text()[len(whole.text()) :]
    assert after.endswith("best:\n[4] paper/d\n[3] paper/c")  # no third, and nothing repeated after
    assert [s.n for s in focused.shown()] == [4, 3, 2, 1]  # a person is shown every best match
    # "wrote" shares no word with any sentence of the best match: nothing is repeated.
    assert "From the best match" not in after
    asked = Retrieval("Which authors wrote D?", retrieval.hits)
    excerpt = focus(whole, asked, build_context(asked, 6000, 24), named=2, excerpt_chars=600).excerpt
    assert excerpt == "Authors: Ann Lee."


def test_every_question_sends_the_same_prefix(mini_index_cfg, mini_retriever, scripted_endpoint):
    url, requests = scripted_endpoint(["TIDEGRAPH places each arriving edge in one of four partitions [1]."])
    assistant = Assistant(mini_index_cfg.replace(base_url=url, context_mode="corpus"), retriever=mini_retriever)
    assistant.warm_up()  # at start: the server reads the prefix before anyone asks
    first = assistant.ask("What does TIDEGRAPH propose for graph partitioning?")
    assistant.ask("What does the figure for the streaming partitioning paper show?")
    prompts = [r["messages"][1]["content"] for r in requests]
    corpus = prompts[0].split("Question:")[0].strip()  # the warm-up: every entry, nothing for a question
    assert len(prompts) == 3 and all(p.startswith(corpus) for p in prompts)
    assert requests[0]["max_tokens"] == 1
    assert len(first.context.sources) == 12  # 13 entries; the two identical postings share one source
    assert first.citations and first.citations[0].ids[0].startswith("paper/tidegraph")
    # After the corpus, what retrieval found for this question: the best-matching sources, by number.
    tidegraph = next(s for s in first.context.sources if s.ids[0].startswith("paper/tidegraph"))
    after = prompts[1][len(corpus) :].split("Question:")[0]
    assert f"Sources that match this question best:\n[{tidegraph.n}] TIDEGRAPH: Streaming graph" in after
    # What a person is shown as found: those best matches, numbered as the model read them.
    assert first.retrieved()[0]["n"] == tidegraph.n and len(first.retrieved()) <= mini_index_cfg.top_k


def test_a_follow_up_is_made_searchable_without_a_rewriting_call(mini_index_cfg, mini_retriever, scripted_endpoint):
    url, requests = scripted_endpoint(["TIDEGRAPH places each arriving edge in one of four partitions [1]."])
    assistant = Assistant(mini_index_cfg.replace(base_url=url, context_mode="corpus"), retriever=mini_retriever)
    session = ChatSession(assistant)
    session.ask("What does TIDEGRAPH propose for graph partitioning?")
    follow = session.ask("How does it bound its memory?")
    # Two questions, two answer prompts with the corpus first: a rewriting call would evict it.
    corpus = assistant.corpus_context().text()
    assert all(r["messages"][1]["content"].startswith(corpus) for r in requests)
    assert not any("Rewrite the last question" in r["messages"][-1]["content"] for r in requests)
    assert follow.question == "How does it bound its memory?" and "TIDEGRAPH" in follow.search_question
    assert "Question: How does “TIDEGRAPH: Streaming graph" in requests[-1]["messages"][1]["content"]
    # Retrieval saw the earlier question too: TIDEGRAPH is the best match.
    assert follow.retrieved()[0]["ids"][0].startswith("paper/tidegraph")


def test_a_follow_up_names_the_one_entry_the_last_answer_cited(mini_index_cfg, mini_retriever, scripted_endpoint):
    probe = Assistant(
        mini_index_cfg.replace(base_url="http://127.0.0.1:9/v1", context_mode="corpus"), retriever=mini_retriever
    )
    tidegraph = next(s for s in probe.corpus_context().sources if s.ids[0].startswith("paper/tidegraph"))
    url, requests = scripted_endpoint(
        [f"TIDEGRAPH places each arriving edge in one of four partitions [{tidegraph.n}]."]
    )
    session = ChatSession(
        Assistant(mini_index_cfg.replace(base_url=url, context_mode="corpus"), retriever=mini_retriever)
    )
    session.ask("What does TIDEGRAPH propose for graph partitioning?")
    follow = session.ask("Who is its last author?")
    assert follow.search_question == f"Who is “{tidegraph.nodes[0].metadata['title']}”’s last author?"
    assert follow.answered_by == "catalog" and follow.citations[0].n == tidegraph.n  # code knows the last author
    assert len(requests) == 1  # no rewriting call
    # An answer citing two entries leaves "it" to the model, beside the earlier question.
    session.history.append(
        ("Which papers are on graphs?", f"TIDEGRAPH [{tidegraph.n}] and WALKER [{tidegraph.n + 1}].")
    )
    assert "(asked after: " in session.standalone("Who wrote it?")


def test_a_follow_up_in_the_retrieved_mode_costs_no_rewriting_call(mini_index_cfg, mini_retriever, scripted_endpoint):
    url, requests = scripted_endpoint(["TIDEGRAPH places each arriving edge in one of four partitions [1]."])
    session = ChatSession(
        Assistant(mini_index_cfg.replace(base_url=url, context_mode="retrieved"), retriever=mini_retriever)
    )
    first = session.ask("What does TIDEGRAPH propose for graph partitioning?")
    cited = first.context.by_number()[1]
    assert cited.ids[0].startswith("paper/tidegraph")
    follow = session.ask("How does it bound memory?")
    assert len(requests) == 2  # two answers, no rewriting call
    assert not any("Rewrite the last question" in r["messages"][-1]["content"] for r in requests)
    # "it" is the one paper the last answer cited, by the number it had in that answer's context.
    assert follow.search_question == f"How does “{cited.nodes[0].metadata['title']}” bound memory?"
    assert follow.retrieved()[0]["ids"][0].startswith("paper/tidegraph")
    # Nothing to name (no entry cited): the model rewrites it from the conversation.
    session.history.append(("How do I set up the pier logbook?", "Use the logbook tool."))
    session.standalone("And what does it need?")
    assert len(requests) == 3 and "Rewrite the last question" in requests[-1]["messages"][-1]["content"]
    assert "How do I set up the pier logbook?" in requests[-1]["messages"][-1]["content"]


def test_a_rewrite_that_is_an_answer_is_not_searched_for(mini_index_cfg, mini_retriever, scripted_endpoint):
    url, _ = scripted_endpoint(["The authors of TIDEGRAPH are Mira Okafor and Tomas Lindqvist [3]."])
    cfg = mini_index_cfg.replace(base_url=url, context_mode="retrieved", disabled_rules="follow-up")
    session = ChatSession(Assistant(cfg, retriever=mini_retriever))
    session.history.append(("What does TIDEGRAPH propose for graph partitioning?", "Streaming graph partitioning [1]."))
    assert session.standalone("Who wrote it?") == "Who wrote it?"


@pytest.mark.parametrize("mode", ["retrieved", "corpus"])
def test_an_abstention_is_asked_again_and_kept_only_if_verified(
    mini_index_cfg, mini_retriever, scripted_endpoint, mode
):
    question = "What does TIDEGRAPH propose for graph partitioning?"
    n, other = _numbers_of(mini_index_cfg, mini_retriever, question, mode)
    sentence = "TIDEGRAPH places each arriving edge in one of four partitions [{n}]."
    unsupported = " It was the fastest partitioner at the 2019 world championship [{n}]."
    for second, kept, off in (
        (sentence.format(n=n), True, ""),
        # A neighbour's number, moved by code to the source that holds the sentence: no fault …
        (sentence.format(n=other), True, ""),
        # … unless rule "moved-citation" is off.
        (sentence.format(n=other), False, "moved-citation"),
        # A sentence no source holds: the second answer is not shown at all.
        (sentence.format(n=n) + unsupported.format(n=n), False, ""),
    ):
        url, requests = scripted_endpoint([], replies=[["The sources do not say."], [second]])
        cfg = mini_index_cfg.replace(base_url=url, context_mode=mode, disabled_rules=off)
        answer = Assistant(cfg, retriever=mini_retriever).ask(question)
        if kept:
            assert answer.answered_by == "model, asked again" and [c.n for c in answer.citations] == [n]
        else:
            assert answer.abstained and not answer.citations and answer.answered_by == "model"
        first, again = (r["messages"] for r in requests)
        assert "A source above holds the answer" in again[1]["content"]
        # With the whole corpus the system prompt (and so the prefix the server keeps) is the same.
        assert (first[0] == again[0]) == (mode == "corpus")


def _numbers_of(cfg, retriever, question: str, mode: str) -> tuple[int, int]:
    """The number TIDEGRAPH's paper has in the model's context for `question`, and another source's."""
    probe = Assistant(cfg.replace(context_mode=mode, base_url="http://127.0.0.1:9/v1"), retriever=retriever)
    retrieval = retriever.retrieve(question)
    read = probe.model_context(retrieval, build_context(retrieval, cfg.context_chars, 24))
    n = next(s.n for s in read.sources if s.ids[0].startswith("paper/tidegraph"))
    return n, next(s.n for s in read.sources if s.n != n)


def test_an_entry_has_one_number_in_code_written_and_model_written_answers(
    mini_index_cfg, mini_retriever, scripted_endpoint
):
    url, _ = scripted_endpoint(["unused"])
    assistant = Assistant(mini_index_cfg.replace(base_url=url, context_mode="corpus"), retriever=mini_retriever)
    kestrel = next(s for s in assistant.corpus_context().sources if s.ids[0].startswith("paper/kestrel"))
    answer = assistant.ask("Which research area is KESTREL listed under?")
    assert answer.answered_by == "catalog" and kestrel.n > 1  # not the first of what retrieval found
    assert [c.n for c in answer.citations] == [kestrel.n] and answer.answer.endswith(f"[{kestrel.n}].")
    assert answer.retrieved()[0]["n"] == kestrel.n  # the panel a person sees numbers it the same


def test_a_postings_first_sentence_is_text_not_a_title():
    text = "IN, KA, Bengaluru\nJoin the ML team for India. You will mentor."  # the location line, then the text
    posting = node("posting/g/bengaluru-1", text, kind="posting")
    whole = corpus_context([posting], budget_chars=10_000)
    retrieval = Retrieval("Which team is the posting for?", [NodeWithScore(node=posting, score=1.0)])
    assert focus(whole, retrieval, build_context(retrieval, 6000, 24), named=0, excerpt_chars=600).excerpt == (
        "Join the ML team for India."
    )
