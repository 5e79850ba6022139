"""`rag bench` runs end to end on a small synthetic corpus and reports every figure (never judges speed)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from rag.errors import RagError
from rag.eval.bench import _docs_corpus, bench_table, docs_folder, run_bench


def test_bench_reports_every_figure(cfg, model_server):
    messages: list[str] = []
    counted: dict[str, int] = {}

    @contextmanager
    def progress_bar(total: int, label: str, unit: str = "it"):
        counted[label] = 0

        class Bar:
            def update(self, n: int) -> None:
                counted[label] += n

        yield Bar()
        assert counted[label] == total  # the bar reaches its end

    result = run_bench(cfg, sizes=[200], n_questions=3, n_answers=1, log=messages.append, progress_bar=progress_bar)
    assert counted == {"Indexing bundled": 35, "Indexing synthetic-200": 200}
    bundled, synthetic = result["corpora"]
    assert (bundled["entries"], synthetic["entries"]) == (35, 200)
    for row in result["corpora"]:
        assert 0 < row["embed_share"] < 1
        assert row["entries_per_s_without_embedding"] > row["entries_per_s"] > 0
        assert 0 < row["retrieval_p50_ms"] <= row["retrieval_p95_ms"]
    answers = result["answers"]
    assert answers["questions"] == 1
    # The first gold questions are answered by code; they and a repeated question are timed apart.
    assert answers["code_answers"] >= 1 and answers["code_answer_p50_s"] is not None
    assert answers["repeated_question_p50_s"] is not None
    assert 0 < answers["first_token_p50_s"] <= answers["answer_p50_s"]
    assert answers["answer_latency_ratio_ours_to_naive"] > 0
    # The reference (a 600-token prompt never seen) and the token accounting from the server's own log.
    assert 590 <= answers["reference_prompt_tokens"] <= 700 and answers["reference_read_s"] > 0
    assert answers["server_prompt_tokens_per_s"] > 1 and answers["first_token_p50_over_reference"] > 0
    assert answers["prompt_tokens_p50"] == answers["cached_tokens_p50"] + answers["evaluated_tokens_p50"]
    assert answers["context_tokens_p50"] > answers["question_tokens_p50"] > 0 and answers["system_tokens_p50"] > 50
    assert answers["first_token_over_prompt_read_p50"] > 0
    assert result["model_server_peak_memory_mb"] > 0
    table = bench_table(result)
    assert "| synthetic-200 | 200 |" in table and "answer_latency_ratio_ours_to_naive" in table


def test_bench_figures_are_saved_by_time_under_the_data_directory_or_where_asked(cfg, tmp_path):
    import json

    from rag.eval.bench import results_path, write_results

    default = results_path(cfg, "2026-12-01T10:20:30+00:00")
    assert default == cfg.data_dir / "results" / "bench-2026-12-01T102030+0000.json"
    write_results({"corpora": []}, default)
    assert json.loads(default.read_text()) == {"corpora": []}
    (tmp_path / "file").write_text("")
    with pytest.raises(RagError, match="Cannot write .*bench.json"):
        write_results({}, tmp_path / "file" / "bench.json")


def test_a_documents_folder_is_asked_about_its_subsections(tmp_path):
    (tmp_path / "usage.md").write_text(
        "# Usage\n\n## Options\n\n### Counting\n\nSet count=True.\n\n### Flags\n\nUse is_flag.\n"
    )
    files, questions = _docs_corpus(tmp_path)
    assert files == [tmp_path / "usage.md"]
    assert questions == [
        "What does the documentation say about Counting?",
        "What does the documentation say about Flags?",
    ]
    assert docs_folder("none") is None and docs_folder(str(tmp_path)) == tmp_path
    with pytest.raises(RagError, match="no such folder"):
        docs_folder(str(tmp_path / "missing"))
