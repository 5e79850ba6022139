"""Load: 50 concurrent questions through the library and through the UI's queue.

Each question names a different paper, so a mixed-up answer is visible: its sources would
name another paper. Half ask who wrote it (code answers, citing exactly that paper), half what
it is about (the model answers, through the same queue and server). Answers are kept short
(small context, few tokens) so the run stays within CI's budget; the concurrency paths are the
same as with full-size answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from gradio_client import Client

from rag.assistant.answer import Assistant
from rag.assistant.present import plain
from rag.runtime.launch import MODULE
from rag.ui.app import build_app, serve
from tests.conftest import TEST_PORT, free_port

N = 50


@pytest.fixture(scope="module")
def light_cfg(index_cfg):
    # One retrieved source, whole (a paper entry is ~500 characters): code's answers need the author
    # line to verify. Light prompts: the test is about the queue, not about what the model reads; and
    # the wait in line is long on a slow machine (50 questions, ~10 s each, 2 slots), so no time limit.
    return index_cfg.replace(
        top_k=1, max_context_entries=1, context_chars=1000, max_tokens=12, context_mode="retrieved", llm_timeout=900
    )


@pytest.fixture(scope="module")
def questions(corpus_entries):
    papers = [e for e in corpus_entries if e.kind == "paper"]
    asked = ("Who wrote {}?", "What is the paper “{}” about?")
    return [
        (asked[i % 2].format(p.title), p.id, p.title) for i, p in enumerate(papers[i % len(papers)] for i in range(N))
    ]


def servers_on_port(port: int = TEST_PORT) -> int:
    found = subprocess.run(["pgrep", "-f", f"{MODULE}.*--port {port} .*--serve"], capture_output=True, text=True)
    return len(found.stdout.split())


def test_fifty_concurrent_questions_through_the_library(light_cfg, retriever, model_server, questions):
    assistant = Assistant(light_cfg, retriever=retriever)
    with ThreadPoolExecutor(max_workers=N) as pool:
        answers = list(pool.map(lambda q: assistant.ask(q[0]), questions))
    for (question, paper_id, _), answer in zip(questions, answers, strict=True):
        assert answer.question == question
        assert answer.answer
        assert answer.context.sources[0].ids == [paper_id]
        cited = {i for c in answer.citations for i in c.ids}
        if question.startswith("Who wrote"):
            assert answer.answered_by == "catalog" and cited == {paper_id}
        else:
            assert answer.answered_by.startswith("model") and cited <= {paper_id}
    assert servers_on_port() == 1


def test_fifty_concurrent_questions_through_the_ui_queue(light_cfg, retriever, model_server, questions):
    port = free_port()
    app = serve(
        build_app(light_cfg, Assistant(light_cfg, retriever=retriever)), "127.0.0.1", port, prevent_thread_lock=True
    )
    try:
        clients = [Client(f"http://127.0.0.1:{port}/", verbose=False) for _ in range(5)]
        jobs = [
            clients[i % 5].submit(q, "all", "all", "all", api_name="/chat") for i, (q, _, _) in enumerate(questions)
        ]
        results = [job.result(timeout=900) for job in jobs]
    finally:
        app.close()
    for (_, paper_id, title), result in zip(questions, results, strict=True):
        panels = {m["metadata"]["title"]: m["content"] for m in result if (m.get("metadata") or {}).get("title")}
        assert not result[0]["content"].startswith("⚠️"), result[0]["content"]
        context = next(v for k, v in panels.items() if k.startswith("Retrieved context"))
        assert context.count("| paper |") == 1
        assert context.splitlines()[2].startswith(f"| 1 | paper | {plain(title)}")
        # Each client's later questions are follow-ups, condensed by the model (in 12 tokens here), so
        # which path answers varies; the right paper must still be the one retrieved first, above.
        sources = next(v for k, v in panels.items() if k.startswith("Sources"))
        assert paper_id in sources or sources == "No source was cited."
    assert servers_on_port() == 1


@pytest.mark.model  # starts real model servers itself
def test_concurrent_starts_run_one_model_server(cfg, tmp_path):
    """Four commands that all need the model server at once share one server process."""
    port = free_port()
    env = os.environ | {"RAG_DATA_DIR": str(cfg.data_dir), "RAG_SERVER_PORT": str(port)}
    start = [sys.executable, "-m", "rag.cli", "server", "start"]
    try:
        starts = [subprocess.Popen(start, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
        outputs = [p.communicate(timeout=300)[0] for p in starts]
        assert [p.returncode for p in starts] == [0] * 4, outputs
        assert servers_on_port(port) == 1
    finally:
        subprocess.run([sys.executable, "-m", "rag.cli", "server", "stop"], env=env, capture_output=True)
