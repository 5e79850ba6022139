"""The quote stage: after an abstention the second ask did not mend, the model judges the shown
document passages closest to the question one at a time, and the one it most likely says "Yes" to is
shown quoted and cited, or the abstention stands."""

from __future__ import annotations

import re

import pytest

from rag.assistant.answer import Assistant
from rag.assistant.context import build_context
from rag.assistant.quote import CANDIDATES, QUOTE

QUESTION = "How long does Logbook keep the readings before it deletes them?"
ABSTAIN = ["The sources do not say."]


def ask(cfg, retriever, scripted_endpoint, judged: str, mode: str, on: bool = True):
    url, requests = scripted_endpoint([], replies=[ABSTAIN, ABSTAIN, [judged]])
    assistant = Assistant(cfg.replace(base_url=url, context_mode=mode, quote_passages=on), retriever=retriever)
    return assistant.ask(QUESTION), requests


@pytest.mark.parametrize("mode", ["retrieved", "corpus"])
def test_a_passage_judged_to_answer_is_shown_quoted_from_the_document_it_cites(
    mini_index_cfg, mini_retriever, scripted_endpoint, mode
):
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "Yes", mode)
    assert answer.answered_by == "model, chose a passage" and answer.rule == QUOTE and not answer.abstained
    quoted = re.fullmatch(r"“(.+)” \[(\d+)\]", answer.answer)
    assert quoted, answer.answer
    source = answer.context.by_number()[int(quoted.group(2))]
    assert source.kind == "chunk" and [c.n for c in answer.citations] == [source.n]
    assert quoted.group(1) in " ".join(source.passage.split())
    retry, judged = requests[1], requests[2:]
    assert 1 <= len(judged) <= CANDIDATES
    assert all(r["max_tokens"] == 1 and r["logprobs"] and not r.get("stream") for r in judged)
    # Every passage "Yes" alike: the one closest to the question, judged first, is shown.
    assert f"Passage: {quoted.group(1)}\n" in judged[0]["messages"][1]["content"]
    # The system prompt and the sources are the second ask's, so the server has them cached.
    sources = retry["messages"][1]["content"].split("\n\nQuestion:")[0]
    assert judged[0]["messages"][0] == retry["messages"][0] and judged[0]["messages"][1]["content"].startswith(sources)


def test_a_no_to_every_passage_leaves_the_abstention_and_the_stage_is_off_by_default(
    mini_index_cfg, mini_retriever, scripted_endpoint
):
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "No", "retrieved")
    assert answer.abstained and answer.answered_by == "model" and len(requests) > 2
    assert not mini_index_cfg.quote_passages
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "Yes", "retrieved", on=False)
    assert answer.abstained and len(requests) == 2


def test_a_yes_its_source_denies_is_answered_no(mini_index_cfg, mini_retriever, scripted_endpoint):
    question = "Can Logbook export readings straight to a spreadsheet?"
    probe = Assistant(mini_index_cfg.replace(context_mode="retrieved", base_url="http://127.0.0.1:9/v1"))
    retrieval = mini_retriever.retrieve(question)
    read = probe.model_context(retrieval, build_context(retrieval, mini_index_cfg.context_chars, 24))
    n = next(s.n for s in read.sources if "spreadsheet" in s.passage)
    yes = [f"Yes, Logbook can export readings straight to a spreadsheet [{n}]."]
    url, requests = scripted_endpoint([], replies=[yes, yes])
    cfg = mini_index_cfg.replace(base_url=url, context_mode="retrieved")
    answer = Assistant(cfg, retriever=mini_retriever).ask(question)
    assert answer.answer == f"No: “Exporting straight to a spreadsheet is not supported.” [{n}]"
    assert answer.answered_by == "model, denied by its source" and len(requests) == 2
