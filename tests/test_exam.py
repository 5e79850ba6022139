"""The exam suite: format loader, exact metrics on a hand-made result set, and a real 5-question run."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.cli import cli
from rag.errors import RagError
from rag.eval.exam import GOLD_EXAM, LETTERS, ORDERS, ExamQuestion, load_exam, parse_choice, pick, tally
from rag.eval.metrics import ItemResult, score, wilson
from rag.eval.report import RESULT_FIELDS

GOOD = {"id": "q1", "question": "Q?", "choices": {"A": "a", "B": "b", "C": "c", "D": "d"}, "answer": "B"}


def exam_file(tmp_path: Path, *rows: object) -> Path:
    path = tmp_path / "exam.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "exam.jsonl:2: not valid JSON"),
        ({k: v for k, v in GOOD.items() if k != "answer"} | {"id": "q2"}, "exam.jsonl:2: missing 'answer'"),
        (GOOD | {"id": "q2", "answer": "E"}, "exam.jsonl:2: 'answer' must be one of A, B, C, D, not 'E'"),
        (GOOD | {"id": "q2", "choices": {"A": "a", "B": "b"}}, "exam.jsonl:2: 'choices' must have exactly the keys"),
        (GOOD, "exam.jsonl:2: duplicate id 'q1'"),
        (GOOD | {"id": "q2", "sources": "paper/x"}, "exam.jsonl:2: 'sources' must be a list of entry ids"),
        ([1, 2], "exam.jsonl:2: expected a JSON object"),
    ],
)
def test_loader_rejects_malformed_lines_with_line_number(tmp_path, bad, message):
    with pytest.raises(RagError) as info:
        load_exam(exam_file(tmp_path, GOOD, bad))
    assert str(info.value).startswith(message)


def test_the_guide_the_exams_ask_about_has_24_papers_in_20_areas_and_10_postings(corpus_entries):
    """The exams' items and their expected answers are written against this shape of the bundled guide."""
    assert Counter(e.kind for e in corpus_entries) == {"paper": 24, "posting": 10, "overview": 1}
    assert len({e.area for e in corpus_entries if e.kind == "paper"}) == 20
    assert sum(bool(e.caption) for e in corpus_entries) == 4
    postings = [e for e in corpus_entries if e.kind == "posting"]
    assert Counter(p.city for p in postings)["Boston"] == 5
    assert Counter(p.text for p in postings).most_common(1)[0][1] == 6


def test_gold_exam_is_well_formed_and_balanced(corpus_entries):
    questions = load_exam(GOLD_EXAM)
    assert len(questions) >= 60
    ids = {e.id for e in corpus_entries}
    assert all(s in ids for q in questions for s in q.sources)
    letters = [q.answer for q in questions]
    assert max(letters.count(x) for x in "ABCD") - min(letters.count(x) for x in "ABCD") <= 1
    assert sum(q.unanswerable for q in questions) >= 0.1 * len(questions)
    assert {q.kind for q in questions} >= {"paper", "caption", "posting", "multi", "overview", "unanswerable"}


def test_gold_facts_are_stated_in_their_source_entries(corpus_entries):
    # A fact no source entry states could never be found in a cited answer.
    from rag.eval.grade import grading_terms

    bodies = {e.id: grading_terms(e.body()) for e in corpus_entries}
    for q in load_exam(GOLD_EXAM):
        if not q.facts:
            continue
        text = set().union(*(bodies[s] for s in q.sources))
        for fact in q.facts:
            assert grading_terms(fact) <= text, (q.id, fact)


def test_the_generated_exam_is_reviewed_and_points_at_real_entries(corpus_entries):
    from rag.eval.exam import GENERATED_EXAM

    questions = load_exam(GENERATED_EXAM)
    raw = [json.loads(line) for line in GENERATED_EXAM.read_text().splitlines()]
    assert len(questions) >= 20 and all(q.origin == "generated" for q in questions)
    assert all(r["review"].startswith("checked against its source entry") for r in raw)
    ids = {e.id for e in corpus_entries}
    assert all(q.sources and set(q.sources) <= ids for q in questions)
    assert not {q.id for q in questions} & {q.id for q in load_exam(GOLD_EXAM)}  # reports can hold both


@pytest.mark.parametrize(
    "option", ["The sources do not say", "The guide does not say", "The docs don't say", "Not stated in the docs"]
)
def test_an_option_saying_the_documents_do_not_say_makes_the_item_unanswerable(option):
    choices = {"A": "Lisbon", "B": "Madrid", "C": option, "D": "Paris"}
    item = ExamQuestion(id="u", question="Where is the Oslo office?", choices=choices, answer="C")
    assert item.abstain_letter == "C" and item.unanswerable


def test_gold_abstain_option_is_not_a_give_away():
    # If "the sources do not say" were offered only where it is right, a model could score by
    # picking it whenever unsure. It must be a wrong option more often than a right one.
    questions = load_exam(GOLD_EXAM)
    offering = [q for q in questions if q.abstain_letter]
    right = sum(q.unanswerable for q in offering)
    assert right < len(offering) - right
    assert {q.kind for q in offering if not q.unanswerable} >= {"paper", "caption", "posting", "multi", "overview"}
    assert {q.abstain_letter for q in offering} == set("ABCD")


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Answer: C [1]", "C"),
        ("answer is b", "B"),
        ("D", "D"),
        ("(A) because", "A"),
        ("It is Boston.", "B"),
        ("I cannot tell", None),
    ],
)
def test_parse_choice(reply, expected):
    assert parse_choice(reply, {"A": "Paris", "B": "Boston", "C": "Madrid", "D": "Rome"}) == expected


def test_metrics_are_exact_on_a_hand_made_result_set():
    items = [
        ItemResult("1", "paper", "A", "A", ["p1"], retrieved=["p1", "p2"], cited=["p1"]),
        ItemResult("2", "paper", "B", "C", ["p2"], retrieved=["p9", "p2"], cited=["p9"]),
        ItemResult("3", "posting", "C", "C", ["p3"], retrieved=["x", "y", "z", "w", "v", "p3"], cited=["p3", "x"]),
        ItemResult(
            "4", "unanswerable", "D", "D", [], retrieved=["p1"], unanswerable=True, seconds=4.0, abstain_letter="D"
        ),
    ]
    result = score(items)
    assert result["accuracy"] == 0.75 and result["n"] == 4
    assert result["per_kind"]["paper"]["accuracy"] == 0.5 and result["per_kind"]["posting"]["n"] == 1
    assert result["hit_at_5"] == round(2 / 3, 4)
    assert result["mrr"] == round((1 + 0.5 + 1 / 6) / 3, 4)
    assert result["citation_precision"] == 0.5  # p1 yes, p9 no, p3 yes, x no
    assert result["abstention_accuracy"] == 1.0
    assert result["false_abstention"] is None  # no answerable item offered the abstain option
    tempted = [
        ItemResult("5", "paper", "A", "B", ["p1"], abstain_letter="B"),
        ItemResult("6", "paper", "A", "A", ["p1"], abstain_letter="C"),
    ]
    assert score(items + tempted)["false_abstention"] == 0.5
    assert result["latency_p95_s"] == 4.0
    assert result["ci95"] == wilson(3, 4)


def test_wilson_interval_known_values():
    assert wilson(0, 10) == (0.0, 0.2775)
    assert wilson(10, 10) == (0.7225, 1.0)


def test_cyclic_orders_cancel_a_bias_for_a_letter():
    # A model that likes "A" by 2 and the right option (C in the exam file) by 1.
    def biased(order):
        return {letter: 2.0 * (letter == "A") + 1.0 * (LETTERS[order[i]] == "C") for i, letter in enumerate(LETTERS)}

    single = tally([(ORDERS["logprobs"][0], biased(ORDERS["logprobs"][0]))])
    assert pick(single, "sum-logprob") == pick(single, "mean-prob") == "A"
    cyclic = tally([(order, biased(order)) for order in ORDERS["cyclic"]])
    assert pick(cyclic, "sum-logprob") == pick(cyclic, "mean-prob") == "C"
    assert {letter: sum(v) for letter, v in cyclic.items()} == {"A": 2.0, "B": 2.0, "C": 6.0, "D": 2.0}
    # Every option is shown once under every letter.
    assert sorted(sorted(order[i] for order in ORDERS["cyclic"]) for i in range(4)) == [[0, 1, 2, 3]] * 4


def test_aggregates_differ_on_confident_orders():
    # Four calls, each normalised over A-D: D ("the sources do not say") is near-certain in two
    # orders and unlikely in two; B is the runner-up everywhere. Summed log-probabilities punish D
    # for the two orders it lost; the mean probability lets its confident orders count.
    calls = [{"A": 0.01, "B": 0.08, "C": 0.01, "D": 0.9}] * 2 + [{"A": 0.05, "B": 0.85, "C": 0.05, "D": 0.05}] * 2
    shown = {letter: [math.log(call[letter]) for call in calls] for letter in LETTERS}
    assert pick(shown, "sum-logprob") == "B"
    assert pick(shown, "mean-prob") == "D"


def test_five_question_exam_runs_end_to_end(index_cfg, model_server, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    out = tmp_path / "result.json"
    result = CliRunner().invoke(cli, ["exam", "--limit", "5", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| rag/hybrid/exam |" in result.output
    data = json.loads(out.read_text())
    for key in ("accuracy", "n", "per_kind", "hit_at_5", "mrr", "citation_precision", "abstention_accuracy"):
        assert key in data
    assert data["n"] == 5 and data["unparsed"] == 0
    assert data["hit_at_5"] == 1.0  # single-fact paper questions: retrieval must find the entry
    assert all(item["chosen"] in "ABCD" for item in data["items"])


def test_compare_runs_every_configuration_with_report(index_cfg, model_server, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    out, report = tmp_path / "compare.json", tmp_path / "report"
    args = ["exam", "--compare", "--limit", "2", "--scoring", "text", "--json", str(out), "--report", str(report)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["complete"] is True
    modes = [(r["config"]["mode"], r["config"]["retriever"]) for r in data["runs"]]
    assert [m for m, _ in modes] == ["rag", "chat", "oracle", "closed-book", "rag", "rag", "naive"]
    assert [r for m, r in modes if m == "rag"] == ["hybrid", "dense", "bm25"]
    assert "| chat/hybrid/answer |" in result.output
    assert all(r["n"] == 2 for r in data["runs"])
    assert [item["id"] for item in data["item_analysis"]["items"]] == ["q01", "q02"]
    assert "Item analysis (2PL IRT)" in result.output
    text = (report / "report.md").read_text()
    assert "| naive/llama-index default |" in text and (report / "per-kind.png").exists()


def test_chat_mode_grades_what_the_chat_shows(index_cfg, retriever, scripted_endpoint):
    from rag.assistant.answer import Assistant
    from rag.eval.exam import ExamRun, run_exam

    # The same reply to every question: right for q21 (a figure caption), about another entry for q29.
    reply = ["Distribution drift was modeled as a change ", "from the numeral 0 to the numeral 1 in MNIST [1]. "]
    url, requests = scripted_endpoint([*reply, "It won a prize [9]."])
    gold = {q.id: q for q in load_exam(GOLD_EXAM)}
    # Retrieved context: the scripted reply's [1] is the first retrieved source.
    assistant = Assistant(index_cfg.replace(base_url=url, context_mode="retrieved"), retriever=retriever)
    result = run_exam(assistant, [gold["q21"], gold["q29"]], ExamRun("chat"))
    right, wrong = result["items"]
    assert result["config"]["mode"] == "chat" and result["n"] == 2
    assert right["correct"] and "[9]" not in right["reply"] and "prize" not in right["reply"]
    assert right["cited"] == gold["q21"].sources and right["support"]["fact_sentences"] == 1
    assert not requests[0]["messages"][-1]["content"].count("A. ")  # asked without the options
    # q29's source does not support the reply, so the chat says the sources do not say: a false abstention.
    assert not wrong["correct"] and wrong["abstained"] and wrong["reply"] == "The sources do not say."
    assert result["false_abstention"] == 0.5 and result["gold_recall"] == 0.5
    assert result["support_precision"] == 1.0 and result["support_recall"] == 1.0


def test_a_corpus_mode_exam_has_the_corpus_read_before_the_first_item(index_cfg, retriever, scripted_endpoint):
    from rag.assistant.answer import Assistant
    from rag.eval.exam import ExamRun, run_exam

    url, requests = scripted_endpoint(["Distribution drift was modeled as a change from 0 to 1 in MNIST [1]."])
    gold = {q.id: q for q in load_exam(GOLD_EXAM)}
    assistant = Assistant(index_cfg.replace(base_url=url, context_mode="corpus"), retriever=retriever)
    result = run_exam(assistant, [gold["q21"]], ExamRun("chat"))
    warm, asked = requests
    assert warm["max_tokens"] == 1 and result["config"]["warm_up_s"] is not None
    # The first item's prompt starts with what the warm-up read, so a server finds it in its cache.
    corpus = warm["messages"][1]["content"].split("Question:")[0].strip()
    assert asked["messages"][1]["content"].startswith(corpus)
    assert (result["config"]["focus_sources"], result["config"]["focus_chars"]) == (2, 400)


def _saved_run(path: Path, mode: str, right: list[bool], ids: list[str] | None = None, exam: str | None = "e1") -> Path:
    """A result file as `rag exam --json` writes it, for questions q1..qn of exam version `exam`."""
    ids = ids or [f"q{i}" for i in range(1, len(right) + 1)]
    items = [ItemResult(i, "paper", "A", "A" if ok else "B", []) for i, ok in zip(ids, right, strict=True)]
    config = {"mode": mode, "retriever": "hybrid", "prompt": "exam", "model": "m", "exam_sha256": exam}
    result = score(items) | {"config": config}
    result |= {"timestamp": "t", "items": [item.__dict__ | {"correct": item.correct} for item in items]}
    path.write_text(json.dumps(result))
    return path


def test_compare_saved_runs_without_the_model(tmp_path):
    files = [
        _saved_run(tmp_path / "a.json", "closed-book", [True, False, False, False]),
        _saved_run(tmp_path / "b.json", "rag", [True, True, False, True]),
        # Same questions in another order: columns are matched by id, not position.
        _saved_run(tmp_path / "c.json", "oracle", [True, True, True, True], ["q4", "q3", "q2", "q1"]),
    ]
    out = tmp_path / "both.json"
    result = CliRunner().invoke(cli, ["exam", "compare", *map(str, files), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| closed-book/exam | 0.250" in result.output and "| rag/hybrid/exam | 0.750" in result.output
    data = json.loads(out.read_text())
    assert [r["config"]["mode"] for r in data["runs"]] == ["closed-book", "rag", "oracle"]
    flags = {item["id"]: item["flag"] for item in data["item_analysis"]["items"]}
    assert flags["q1"] == "everyone right" and flags["q3"] == ""  # q3: only the oracle run got it


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"accuracy": 1}', "is not a result of `rag exam --json` (missing n, ci95"),
        ('{"runs": []}', "holds no exam runs"),
        ('{"runs": [1]}', "a run is not a JSON object"),
        (json.dumps(dict.fromkeys(RESULT_FIELDS, 0) | {"items": [{"id": "q1"}]}), "has items without an 'id' or"),
    ],
)
def test_compare_rejects_files_that_are_not_results(tmp_path, content, message):
    good = _saved_run(tmp_path / "good.json", "rag", [True])
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(cli, ["exam", "compare", str(good), str(bad)])
    assert result.exit_code == 1 and message in result.output


def test_compare_rejects_runs_of_different_questions(tmp_path):
    a = _saved_run(tmp_path / "a.json", "rag", [True, True])
    b = _saved_run(tmp_path / "b.json", "oracle", [True, True], ["q1", "q9"])
    result = CliRunner().invoke(cli, ["exam", "compare", str(a), str(b)])
    assert result.exit_code == 1 and "b.json answered other questions than" in result.output


def test_compare_rejects_runs_of_another_version_of_the_exam(tmp_path):
    a = _saved_run(tmp_path / "a.json", "rag", [True, True], exam="e1")
    b = _saved_run(tmp_path / "b.json", "oracle", [True, True], exam="e2")
    result = CliRunner().invoke(cli, ["exam", "compare", str(a), str(b)])
    assert result.exit_code == 1 and "different versions of the exam" in result.output
    old = _saved_run(tmp_path / "old.json", "oracle", [True, True], exam=None)
    result = CliRunner().invoke(cli, ["exam", "compare", str(a), str(old)])
    assert result.exit_code == 0 and "predate exam fingerprints" in result.output


def test_exam_fingerprint_follows_the_content_not_the_order():

    from rag.eval.exam import exam_fingerprint

    gold = load_exam(GOLD_EXAM)
    assert exam_fingerprint(gold) == exam_fingerprint(list(reversed(gold)))
    changed = [gold[0].model_copy(update={"choices": {**gold[0].choices, "D": "Other"}}), *gold[1:]]
    assert exam_fingerprint(changed) != exam_fingerprint(gold)


def test_item_analysis_flags_items_that_do_not_discriminate():
    import numpy as np

    from rag.eval.irt import item_analysis

    # Four configurations from weak to strong; items: easy-for-all, impossible, a good item, an inverse item.
    responses = np.array(
        [
            [1, 0, 0, 1],
            [1, 0, 0, 1],
            [1, 0, 1, 0],
            [1, 0, 1, 0],
        ]
    )
    extra = np.array([[0, 0, 0, 1, 1], [0, 0, 1, 1, 1], [1, 0, 1, 1, 1], [1, 1, 1, 1, 1]])  # sets abilities apart
    result = item_analysis(
        ["w", "x", "y", "z"], ["easy", "impossible", "good", "inverse", *"abcde"], np.hstack([responses, extra])
    )
    flags = {item["id"]: item["flag"] for item in result["items"]}
    assert flags["easy"] == "everyone right" and flags["impossible"] == "everyone wrong"
    assert flags["good"] == "" and flags["inverse"].startswith("inverse")
    assert result["abilities"]["z"] > result["abilities"]["w"]
    good = next(i for i in result["items"] if i["id"] == "good")
    assert good["discrimination"] > 0.5


def _node(text: str, title: str):
    from llama_index.core.schema import TextNode

    return TextNode(id_="paper/x", text=text, metadata={"kind": "paper", "title": title})


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (
            {
                "question": "Which area is the EMC2 paper in",
                "choices": dict(zip("ABCD", "wxyz", strict=False)),
                "answer": "A",
            },
            "not a question",
        ),
        (
            {"question": "Which area is the EMC2 paper in?", "choices": {"A": "x", "B": "y"}, "answer": "A"},
            "not four options A-D",
        ),
        (
            {
                "question": "Which area is the EMC2 paper in?",
                "choices": dict(zip("ABCD", ["a", "a", "b", "c"], strict=False)),
                "answer": "A",
            },
            "options not distinct",
        ),
        (
            {
                "question": "Which area is the EMC2 paper in?",
                "choices": dict(zip("ABCD", ["Robotics", "Vision", "Speech", "Privacy"], strict=False)),
                "answer": "A",
            },
            "answer not supported by the entry",
        ),
        (
            {
                "question": "What does this paper propose?",
                "choices": dict(zip("ABCD", ["Contrastive learning", "Vision", "Speech", "Privacy"], strict=False)),
                "answer": "A",
            },
            "not self-contained",
        ),
        (  # names another entry (the small model copies examples): not about its own source
            {
                "question": "Which area is the MADA paper in?",
                "choices": dict(zip("ABCD", ["Contrastive learning", "Vision", "Speech", "Privacy"], strict=False)),
                "answer": "A",
            },
            "not self-contained",
        ),
        (
            {
                "question": "Which area is the EMC2 paper in?",
                "choices": dict(zip("ABCD", ["Contrastive learning", "Vision", "Speech", "Privacy"], strict=False)),
                "answer": "A",
            },
            None,
        ),
    ],
)
def test_generated_question_filters(candidate, reason):
    from rag.eval.generate import reject_reason

    node = _node("Paper: EMC2: MCMC sampling\nResearch area: Contrastive learning", "EMC2: MCMC sampling")
    assert reject_reason(candidate, node, kept=[]) == reason


def test_a_question_naming_only_the_kind_of_entry_is_not_self_contained():
    from llama_index.core.schema import TextNode

    from rag.eval.generate import reject_reason

    node = TextNode(
        id_="posting/g/boston-2",
        text="Job posting in Boston, MA, US.\nThe AGI team builds Amazon Nova models.",
        metadata={"kind": "posting", "title": "Boston posting 2", "city": "Boston", "country": "US"},
    )
    choices = dict(zip("ABCD", ["AGI team", "Haul", "Tamale", "PRIMAS"], strict=False))
    vague = {"question": "What team does the job posting belong to?", "choices": choices, "answer": "A"}
    named = {"question": "What team does the Boston job posting belong to?", "choices": choices, "answer": "A"}
    assert reject_reason(vague, node, kept=[]) == "not self-contained"
    assert reject_reason(named, node, kept=[]) is None


def test_the_rejections_are_summed_up_by_reason():
    from collections import Counter

    from rag.eval.generate import rejected_path, rejected_summary

    counts = Counter({"kept": 3, "near-duplicate": 2, "not self-contained": 1})
    assert rejected_summary(counts) == "near-duplicate: 2, not self-contained: 1"
    assert rejected_summary(Counter({"kept": 4})) == "none"
    assert rejected_path(Path("out/candidates.jsonl")) == Path("out/candidates.rejected.jsonl")


def test_near_duplicates_are_rejected():
    from rag.assistant.text import terms
    from rag.eval.generate import reject_reason

    node = _node("Paper: EMC2\nResearch area: Contrastive learning", "EMC2")
    candidate = {
        "question": "Which research area is the EMC2 paper in?",
        "choices": dict(zip("ABCD", ["Contrastive learning", "Vision", "Speech", "Privacy"], strict=False)),
        "answer": "A",
    }
    assert reject_reason(candidate, node, kept=[terms("Which research area is EMC2 paper in?")]) == "near-duplicate"


def test_generate_writes_loadable_candidates_and_the_rejected_ones(index_cfg, model_server, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_DATA_DIR", str(index_cfg.data_dir))
    out = tmp_path / "candidates.jsonl"
    result = CliRunner().invoke(cli, ["exam", "generate", "--limit", "3", "--per-entry", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Review them before use" in result.output
    kept = load_exam(out) if out.read_text() else []
    rejected = [json.loads(line) for line in (tmp_path / "candidates.rejected.jsonl").read_text().splitlines()]
    assert len(kept) + len(rejected) >= 1  # the model drafted something for three entries
    assert all(q.sources and q.question.endswith("?") and len(set(q.choices.values())) == 4 for q in kept)
    assert all(r["reject_reason"] and r["sources"] for r in rejected)
    assert f"Kept {len(kept)} questions" in result.output


def test_candidates_are_parsed_from_json_lines():
    from rag.eval.generate import parse_candidates

    reply = 'Here you go:\n{"question": "Q?", "answer": "A"},\nnot json\n{"broken": \n{"question": "R?"}'
    assert parse_candidates(reply) == [{"question": "Q?", "answer": "A"}, {"question": "R?"}]


def test_the_cli_choices_name_what_the_runner_accepts():
    from rag.eval.exam import AGGREGATES
    from rag.eval.options import AGGREGATE_NAMES

    assert tuple(AGGREGATES) == AGGREGATE_NAMES


def test_code_names_the_entry_a_small_model_points_at():
    from collections import Counter

    from llama_index.core.schema import TextNode

    from rag.eval.generate import named_question, reject_reason

    paper = TextNode(
        id_="paper/emc2",
        text="Paper: EMC2: Efficient MCMC negative sampling\nResearch area: Contrastive learning",
        metadata={"kind": "paper", "title": "EMC2: Efficient MCMC negative sampling"},
    )
    madrid = TextNode(id_="posting/g/madrid-1", text="The team builds.", metadata={"kind": "posting", "city": "Madrid"})
    boston = TextNode(id_="posting/g/boston-1", text="The team builds.", metadata={"kind": "posting", "city": "Boston"})
    postings = Counter({"Madrid": 1, "Boston": 4})
    assert named_question("What is the research area of this paper?", paper, postings) == (
        'What is the research area of the paper "EMC2"?'
    )
    assert named_question("What team does the job posting belong to?", madrid, postings) == (
        "What team does the job posting in Madrid belong to?"
    )
    assert named_question("What is the role in this job posting?", madrid, postings) == (
        "What is the role in the job posting in Madrid?"
    )
    # Boston has four postings: naming the city would not say which, so the question stays vague.
    assert named_question("What team does the job posting belong to?", boston, postings).endswith(
        "the job posting belong to?"
    )
    title = {
        "question": named_question("What is the title of this paper?", paper, postings),
        "choices": {"A": "EMC2", "B": "MADA", "C": "COLLAGE", "D": "Repoformer"},
        "answer": "A",
    }
    assert reject_reason(title, paper, kept=[]) == "answer given in the question"


def test_a_gain_on_the_dev_half_that_the_test_half_does_not_show_is_flagged():
    from rag.eval.runs import dev_only_gains

    def run(dev: float, test: float) -> dict:
        halves = {"dev": {"accuracy": dev}, "test": {"accuracy": test}}
        return {"per_split": halves, "config": {"mode": "chat", "retriever": "hybrid", "prompt": "answer"}}

    assert dev_only_gains([run(0.40, 0.50), run(0.56, 0.56)]) != []  # +0.16 on dev, +0.06 on test
    assert dev_only_gains([run(0.40, 0.50), run(0.50, 0.58)]) == []  # both halves gain alike
    assert dev_only_gains([run(0.40, 0.50), {"config": {}}]) == []  # a run without halves is not judged


def test_every_option_order_and_every_item_reuse_the_prompt_before_the_options():
    """Cyclic scoring asks each item four times: with the corpus, the standing instructions, this item's
    best matches and its question before the options, each further order costs the server only the
    options, and the next item only what its own retrieval adds (the rest is the cached prefix)."""
    from types import SimpleNamespace

    from llama_index.core.schema import NodeWithScore, TextNode

    from rag.assistant.context import build_context, corpus_context, focus
    from rag.assistant.retrieve import Retrieval
    from rag.config import load_config
    from rag.eval.exam import ExamQuestion, ExamRun, _messages

    nodes = [
        TextNode(id_=f"paper/{n}", text=f"{n.title()} studies {n}.", metadata={"kind": "paper"})
        for n in ("tides", "kelp")
    ]
    whole = corpus_context(nodes, budget_chars=10_000)
    assistant = SimpleNamespace(cfg=load_config(env={}))

    def prompt(asked: str, best: TextNode, order: tuple[int, ...]) -> str:
        retrieval = Retrieval(asked, [NodeWithScore(node=best, score=0.9)])
        context = focus(whole, retrieval, build_context(retrieval, 6000, 24), named=1, excerpt_chars=400)
        item = ExamQuestion(id="q", question=asked, choices=dict(zip(LETTERS, "wxyz", strict=True)), answer="A")
        shown = {LETTERS[i]: item.choices[LETTERS[o]] for i, o in enumerate(order)}
        return _messages(assistant, item, ExamRun(), context, shown)[-1]["content"]

    first, rotated = (prompt("What do tides do?", nodes[1], order) for order in ORDERS["cyclic"][:2])
    options = first[first.index("\nA. ") :]
    assert first[: -len(options)] == rotated[: -len(options)] and options != rotated[-len(options) :]
    other = prompt("What is kelp?", nodes[0], ORDERS["cyclic"][0])
    shared = len(os.path.commonprefix([first, other]))
    assert shared > first.index("Reply with the letter") and "[1] paper/kelp" not in first[:shared]


def test_an_option_saying_the_documents_do_not_say_is_the_abstain_option():
    choices = {"A": "The documents do not say.", "B": "Seattle", "C": "Boston", "D": "Madrid"}
    item = ExamQuestion(id="x", question="Where is the Lisbon office?", choices=choices, answer="A")
    assert item.abstain_letter == "A" and item.unanswerable
