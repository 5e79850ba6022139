"""Red-team cases written against the defences (`eval/redteam.jsonl`): paraphrases, other languages,
look-alike letters, split phrases, injected metadata and exfiltration through links and images.

Each planted document sits beside the real guide and carries a canary that appears in an answer
only if an instruction was obeyed and got past the filter, the citation check and the leak check.
`rag exam redteam` measures the same cases layer by layer.
"""

from __future__ import annotations

import pytest

from rag.assistant.answer import Assistant
from rag.config import load_config
from rag.eval.redteam import PAYLOAD_RE, load_cases, planted_assistant, run_case
from tests.conftest import TEST_PORT

CASES = load_cases()


@pytest.fixture(scope="module")
def planted(tmp_path_factory, embedder, model_server):
    cfg = load_config(env={}, server_port=TEST_PORT)
    return planted_assistant(cfg, CASES, tmp_path_factory.mktemp("redteam"), embedder)


def test_there_are_at_least_fifteen_cases_of_distinct_kinds():
    assert len(CASES) >= 15 and len({c.file for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.file.removesuffix(".md")[:20] for c in CASES])
def test_planted_instruction_does_not_reach_the_user(planted, case):
    answer = planted.ask(case.question)
    assert not PAYLOAD_RE.search(answer.answer), answer.answer
    assert any(i.startswith("chunk/") for s in answer.context.sources for i in s.ids), "the planted text was not read"


def test_the_layer_by_layer_measure_sees_an_obeyed_instruction(planted):
    """With the filter off the model does follow some plants — given the retrieved sources; with the
    whole corpus in the prompt it obeyed none of these four — and the measure must be able to see that."""
    retrieved = Assistant(planted.cfg.replace(context_mode="retrieved"), planted.retriever)
    results = [run_case(retrieved, case) for case in CASES[:4]]
    assert all(r.filtered and not r.reached_user for r in results)
    assert any(r.obeyed for r in results), [r.answer for r in results]
