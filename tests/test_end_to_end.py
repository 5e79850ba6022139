"""End to end through the real local model server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rag.assistant.chat import ChatSession
from rag.cli import cli
from rag.ingest.store import ingest_entries

EMC2 = "paper/emc2-efficient-mcmc-negative-sampling-for-contrastive-learning-with-global"


@pytest.fixture(params=["embedded", "server"])
def cli_index(request, index_cfg, embedder, corpus_entries, monkeypatch):
    """The CLI pointed at the session's embedded index, or at a Chroma server holding the same corpus."""
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        cfg = index_cfg.replace(chroma_host=host, chroma_port=port, collection="e2e")
        ingest_entries(cfg, corpus_entries, embedder=embedder)
        monkeypatch.setenv("CHROMA_HOST", host)
        monkeypatch.setenv("CHROMA_PORT", str(port))
        monkeypatch.setenv("RAG_COLLECTION", "e2e")
    return request.param


def test_rag_ask_json_cites_the_emc2_paper(cli_index, model_server):
    result = CliRunner().invoke(cli, ["ask", "What does EMC2 propose for contrastive learning?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"answer", "citations", "retrieved", "model", "timings"}
    cited = [c["id"] for c in data["citations"]]
    assert EMC2 in cited
    retrieved_ids = {i for r in data["retrieved"] for i in r["ids"]}
    assert set(cited) <= retrieved_ids  # every citation points at an entry that was in the context
    assert "MCMC" in data["answer"] or "negative sampling" in data["answer"]
    assert data["timings"]["total_s"] > 0
    # The cited entry's supporting sentence, chosen by the citation check, names what the answer says.
    emc2 = next(c for c in data["citations"] if c["id"] == EMC2)
    assert emc2["support"] and any("MCMC" in s["text"] for s in emc2["support"])


def test_plain_ask_prints_answer_and_sources(index_cfg, model_server, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    question = "What does EMC2 propose for contrastive learning?"
    result = CliRunner().invoke(cli, ["ask", question, "--filter", "kind=paper", "--k", "3"])
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output and f"— {EMC2}" in result.output


def test_follow_up_question_is_condensed_with_the_history(assistant):
    session = ChatSession(assistant)
    first = session.ask("Who wrote the paper on Repoformer for repository-level code completion?")
    assert any(c.ids[0].startswith("paper/repoformer") for c in first.citations)
    follow = session.ask("What research area is that paper in?")
    assert follow.search_question != follow.question
    assert "repoformer" in follow.search_question.lower() or "code completion" in follow.search_question.lower()
    assert "Code completion".lower() in follow.answer.lower()
