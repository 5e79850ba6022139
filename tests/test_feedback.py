"""Votes on chat answers: the file they are appended to, `rag feedback`, and export to exam candidates."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from rag.cli import cli
from rag.eval.feedback import summary
from rag.votes import Vote, read_votes, record_vote

KESTREL = "paper/kestrel-low-latency-speech-recognition-on-small-devices"


def fields(question: str, kind: str = "paper", answer_id: str | None = None, cited: list[str] | None = None) -> dict:
    cited = [KESTREL] if cited is None else cited
    return {
        "answer_id": answer_id or question,
        "question": question,
        "search_question": question,
        "answer": "KESTREL was written by Priya Raghunathan, Tomas Lindqvist and Jonas (Joe) Weber [1].",
        "answered_by": "model",
        "kind": kind,
        "citations": [{"n": 1, "ids": cited, "label": "KESTREL"}] if cited else [],
        "retrieved": cited,
        "filters": {},
        "index_version": "guides--v1",
        "prompt": "answer",
        "prompts_sha256": "0" * 64,
        "model": "m",
    }


def test_votes_are_appended_whole_and_read_back(tmp_path):
    path = tmp_path / "data" / "feedback.jsonl"
    record_vote(path, fields("Who wrote KESTREL?"), "up", "  right  ")
    record_vote(path, fields("How many postings are in Boston?", kind="multi-entry"), "down")
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["time"] for line in lines)
    votes, warnings = read_votes(path)
    assert warnings == [] and [v.vote for v in votes] == ["up", "down"] and votes[0].comment == "right"
    assert summary(votes) == {
        "votes": 2,
        "up": 1,
        "share_up": 0.5,
        "by_kind": {
            "multi-entry": {"votes": 1, "up": 0, "share_up": 0.0},
            "paper": {"votes": 1, "up": 1, "share_up": 1.0},
        },
    }


def test_a_corrupt_line_is_skipped_with_a_warning_and_later_votes_still_count(tmp_path):
    path = tmp_path / "feedback.jsonl"
    record_vote(path, fields("Who wrote KESTREL?"), "up")
    with open(path, "a") as handle:
        handle.write('{"time": "2026-12-01T10:00:00Z", "vote": "up", "quest')  # a write cut short by a crash
        handle.write("\n\x00\x00 garbage\n")
    record_vote(path, fields("What is WALKER?"), "down")
    votes, warnings = read_votes(path)
    assert [v.question for v in votes] == ["Who wrote KESTREL?", "What is WALKER?"]
    assert len(warnings) == 2 and all("skipped, not a vote" in w for w in warnings)


def test_a_changed_vote_on_the_same_answer_replaces_the_first(tmp_path):
    path = tmp_path / "feedback.jsonl"
    record_vote(path, fields("Who wrote KESTREL?", answer_id="a1"), "up")
    record_vote(path, fields("Who wrote KESTREL?", answer_id="a1"), "down", "wrong author")
    votes, _ = read_votes(path)
    assert [(v.vote, v.comment) for v in votes] == [("down", "wrong author")]


def test_rag_feedback_lists_votes_since_a_date_as_json_and_text(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    old = Vote(time=datetime.now(UTC) - timedelta(days=3), vote="down", **fields("Old question about WALKER?"))
    (data).mkdir()
    (data / "feedback.jsonl").write_text(old.model_dump_json() + "\n")
    record_vote(data / "feedback.jsonl", fields("Who wrote KESTREL?"), "up", "good")
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")

    result = CliRunner().invoke(cli, ["feedback", "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["votes"], report["up"]) == (1, 1)
    assert [v["question"] for v in report["items"]] == ["Who wrote KESTREL?"]

    text = CliRunner().invoke(cli, ["feedback"]).output
    assert text.startswith("2 votes: 1/2 👍 (50%)") and "👎 [paper] Old question about WALKER?" in text
    assert "👍 [paper] Who wrote KESTREL? — good" in text


def test_rag_feedback_with_no_votes_and_bad_dates(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "empty"))
    assert CliRunner().invoke(cli, ["feedback"]).output.strip() == "No votes yet."
    bad = CliRunner().invoke(cli, ["feedback", "--since", "yesterday"])
    assert bad.exit_code == 2 and "yesterday" in bad.output
    export = CliRunner().invoke(cli, ["feedback", "export", "--out", str(tmp_path / "c.jsonl")])
    assert export.exit_code == 1 and "No votes in" in export.output and "Traceback" not in export.output


OPTIONS = {
    "question": "ignored",
    "choices": {"A": "Tomas Lindqvist", "B": "Priya Raghunathan", "C": "Jonas (Joe) Weber", "D": "Hana Sato"},
    "answer": "B",
}


def test_export_writes_reviewable_exam_lines_downvotes_first(mini_index_cfg, scripted_endpoint, tmp_path, monkeypatch):
    from rag.eval.exam import load_exam
    from rag.votes import feedback_path

    url, requests = scripted_endpoint([json.dumps(OPTIONS)])
    data = tmp_path / "data"
    shutil.copytree(mini_index_cfg.data_dir, data)
    path = feedback_path(mini_index_cfg.replace(data_dir=data))
    up = fields("Who is the first author of KESTREL?", cited=[KESTREL])  # asked twice, by two people
    record_vote(path, up, "up")
    down = fields("Who is the first author of KESTREL?", cited=[KESTREL]) | {"answer_id": "d"}
    down["question"] = "And its first author?"  # a follow-up: the export keeps the condensed question
    record_vote(path, down, "down", "named the last author")
    record_vote(path, fields("What is the weather in Toronto?", kind="unanswered", cited=[]), "down")
    monkeypatch.setenv("RAG_DATA_DIR", str(data))
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    out = tmp_path / "candidates.jsonl"

    result = CliRunner().invoke(cli, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 candidates" in result.output and "near-duplicate: 1" in result.output
    assert "no cited entry: 1" in result.output
    items = load_exam(out)  # what `rag exam --exam` reads
    assert [i.question for i in items] == ["Who is the first author of KESTREL?"]  # 👎 first
    item = items[0]
    assert item.choices[item.answer] == "Priya Raghunathan" and item.sources == [KESTREL]
    raw = json.loads(out.read_text().splitlines()[0])
    assert raw["origin"] == "feedback" and raw["vote"] == "down" and raw["comment"] == "named the last author"
    assert "KESTREL" in requests[0]["messages"][0]["content"]  # the options were drafted from the entry


def test_an_unwritable_candidate_file_is_one_clear_error(tmp_path):
    import pytest

    from rag.errors import RagError
    from rag.eval.generate import write_candidates

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RagError, match="Cannot write the candidates to"):
        write_candidates(blocker / "candidates.jsonl", [{"id": "x"}], [])
