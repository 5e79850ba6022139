"""Prompt files render with their placeholders; the Config layers defaults, file, env and flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.assistant.prompts import placeholders, render, system_prompt
from rag.config import PROMPTS_DIR, load_config
from rag.errors import RagError

SAMPLES = {
    "context": "[1] Paper\nX",
    "sources": "[1] Paper\nX",
    "matches": "Sources that match this question best:\n[1] X",
    "passage": "Readings are kept for 90 days.",
    "question": "Who?",
    "history": "User: hi",
    "earlier": "What is X?",
    "citation_rules": "Cite.",
    "abstain_rule": "- Say so.",
    "worked_examples": "Question: x?\nAnswer: y [1].",
    "choices": "A. x\nB. y\nC. z\nD. w",
    "entry": "Paper: X",
    "n": "2",
}


@pytest.mark.parametrize("path", sorted(PROMPTS_DIR.glob("*.md")), ids=lambda p: p.name)
def test_every_prompt_renders(path: Path):
    fields = placeholders(path.read_text())
    assert fields <= set(SAMPLES), f"unexpected placeholder in {path.name}"
    text = render(PROMPTS_DIR, path.stem, **{k: SAMPLES[k] for k in fields})
    assert text and not re.search(r"\{[a-z_]+\}", text)  # no placeholder left unfilled


def test_missing_placeholder_value_fails_fast():
    with pytest.raises(RagError, match="missing values \\['question'\\]"):
        render(PROMPTS_DIR, "answer", context="x")


def test_system_prompt_includes_the_citation_rules():
    assert "square brackets" in system_prompt(PROMPTS_DIR)


def test_the_abstention_phrase_the_code_checks_is_the_one_the_prompt_asks_for():
    from rag.assistant.citations import ABSTAIN_RE, UNSUPPORTED

    rule = render(PROMPTS_DIR, "abstain_rule")
    assert UNSUPPORTED in rule and ABSTAIN_RE.search(rule)
    assert UNSUPPORTED in system_prompt(PROMPTS_DIR)
    strict = system_prompt(PROMPTS_DIR, abstain=False)
    assert UNSUPPORTED not in strict and "square brackets" in strict


def test_config_precedence(tmp_path: Path):
    config_file = tmp_path / "rag.toml"
    config_file.write_text('[rag]\ntop_k = 3\ncollection = "from-file"\nmodel = "file-model"\n')
    cfg = load_config(config_file, env={"RAG_COLLECTION": "from-env", "OPENAI_MODEL": "env-model"}, top_k=9)
    assert (cfg.top_k, cfg.collection, cfg.model) == (9, "from-env", "env-model")
    assert cfg.uses_local_server


def test_hosted_endpoint_from_environment():
    cfg = load_config(
        env={"OPENAI_BASE_URL": "https://example.invalid/v1", "OPENAI_API_KEY": "k", "RAG_MODEL": "gpt-x"}
    )
    assert not cfg.uses_local_server and cfg.endpoint == "https://example.invalid/v1" and cfg.model == "gpt-x"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RAG_TOP_K": "many"}, "top_k='many' is not a valid int"),
        ({"CHROMA_PORT": "http"}, "chroma_port='http' is not a valid int"),
        ({"RAG_LLM_TIMEOUT": "soon"}, "llm_timeout='soon' is not a valid float"),
        ({"RAG_SERVER_PARALLEL": "some"}, "server_parallel='some' is not a valid int"),
    ],
)
def test_bad_settings_are_named(env, message):
    with pytest.raises(RagError, match=message):
        load_config(env=env)


def test_unknown_setting_in_file(tmp_path: Path):
    config_file = tmp_path / "rag.toml"
    config_file.write_text("[rag]\ntopk = 3\n")
    with pytest.raises(RagError, match="Unknown setting\\(s\\) in .*: topk"):
        load_config(config_file, env={})


def test_an_unknown_rule_to_switch_off_is_an_error_that_lists_the_known_ones(cfg):
    from rag.assistant.answer import Assistant

    with pytest.raises(RagError, match=r"Unknown rule\(s\) in RAG_DISABLED_RULES: speling; known: .*spelling"):
        Assistant(cfg.replace(disabled_rules="speling"))
    assert load_config(env={"RAG_DISABLED_RULES": "spelling, superlative"}).disabled == {"spelling", "superlative"}
