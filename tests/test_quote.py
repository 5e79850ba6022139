"""The quote stage: after an abstention the second ask did not mend, the model chooses among the
shown sources' passages, and the chosen one is shown quoted and cited, or the abstention stands."""

from __future__ import annotations

import re

import pytest

from rag.assistant.answer import Assistant
from rag.assistant.quote import NONE_OF_THESE, QUOTE

QUESTION = "How long does Logbook keep the readings before it deletes them?"
ABSTAIN = ["The sources do not say."]


def ask(cfg, retriever, scripted_endpoint, choice: str, mode: str, disabled: str = ""):
    url, requests = scripted_endpoint([], replies=[ABSTAIN, ABSTAIN, [choice]])
    assistant = Assistant(cfg.replace(base_url=url, context_mode=mode, disabled_rules=disabled), retriever=retriever)
    return assistant.ask(QUESTION), requests


@pytest.mark.parametrize("mode", ["retrieved", "corpus"])
def test_the_passage_the_model_chooses_is_shown_quoted_from_the_source_it_cites(
    mini_index_cfg, mini_retriever, scripted_endpoint, mode
):
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "A", mode)
    assert answer.answered_by == "model, chose a passage" and answer.rule == QUOTE and not answer.abstained
    quoted = re.fullmatch(r"“(.+)” \[(\d+)\]", answer.answer)
    assert quoted, answer.answer
    source = answer.context.by_number()[int(quoted.group(2))]
    assert quoted.group(1) in " ".join(source.passage.split()) and [c.n for c in answer.citations] == [source.n]
    retry, choose = requests[1], requests[2]
    assert choose["max_tokens"] == 1 and choose["logprobs"] and not choose.get("stream")
    options = choose["messages"][1]["content"]
    assert f"A. {quoted.group(1)}" in options and re.search(rf"\n[B-G]\. {NONE_OF_THESE}\n", options)
    # The system prompt is the second ask's, so the sources before the options are the server's cached prompt.
    assert choose["messages"][0] == retry["messages"][0]


def test_none_of_these_leaves_the_abstention(mini_index_cfg, mini_retriever, scripted_endpoint):
    _, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "A", "retrieved")
    none = re.search(rf"\n([A-G])\. {NONE_OF_THESE}\n", requests[2]["messages"][1]["content"]).group(1)
    answer, _ = ask(mini_index_cfg, mini_retriever, scripted_endpoint, none, "retrieved")
    assert answer.abstained and answer.answered_by == "model"


def test_no_likely_choice_leaves_the_abstention_and_the_switch_turns_the_stage_off(
    mini_index_cfg, mini_retriever, scripted_endpoint
):
    # A reply that is none of the letters: every option equally unlikely, none likely enough.
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "Z", "retrieved")
    assert answer.abstained and answer.answered_by == "model" and len(requests) == 3
    answer, requests = ask(mini_index_cfg, mini_retriever, scripted_endpoint, "A", "retrieved", QUOTE)
    assert answer.abstained and len(requests) == 2
