"""What `rag exam` runs: one configuration, prompt variants or the whole comparison, and saved runs compared.

The CLI parses flags and prints; everything else about running, comparing and saving exams is here.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

from rag.config import Config
from rag.errors import RagError
from rag.eval.exam import GOLD_EXAM, ExamQuestion, ExamRun, load_exam, run_exam
from rag.eval.report import exam_table, load_results, run_name, write_report
from rag.outcome import Outcome, ProgressBar


def planned_runs(
    retriever: str | None, mode: str, prompts: tuple[str, ...], scoring: str, aggregate: str, compare: bool
) -> list[ExamRun]:
    """The runs `rag exam` asks for: the whole comparison, or one run per prompt variant (default "exam")."""
    if compare:
        return comparison_runs(scoring, aggregate)
    return [ExamRun(mode, retriever, prompt, scoring, aggregate) for prompt in prompts or ("exam",)]


def comparison_runs(scoring: str, aggregate: str) -> list[ExamRun]:
    """Every configuration `--compare` runs: most telling first, slowest last (each finished run is kept if stopped)."""
    return [
        ExamRun("rag", "hybrid", scoring=scoring, aggregate=aggregate),
        ExamRun("chat", "hybrid"),
        ExamRun("oracle", scoring=scoring, aggregate=aggregate),
        ExamRun("closed-book", scoring=scoring, aggregate=aggregate),
        *(ExamRun("rag", r, scoring=scoring, aggregate=aggregate) for r in ("dense", "bm25")),
        ExamRun("naive"),
    ]


def run_label(run: ExamRun) -> str:
    if run.mode == "rag":
        return f"rag/{run.retriever or '-'}/{run.prompt}"
    if run.mode == "chat":
        return f"chat/{run.retriever or '-'}/{run.prompt}"
    return "naive llama-index peer" if run.mode == "naive" else f"{run.mode}/{run.prompt}"


def exam(
    cfg: Config,
    exam_file: Path | None,
    runs: list[ExamRun],
    limit: int | None = None,
    report_dir: Path | None = None,
    json_out: Path | None = None,
    progress_bar: ProgressBar | None = None,
) -> Outcome:
    """Answer the exam in every run, then the table, the item analysis, the report and the JSON."""
    from rag.assistant.answer import Assistant

    questions = load_exam(exam_file or GOLD_EXAM)[:limit]
    assistant = Assistant(cfg)
    results = []
    for run in runs:
        with progress_bar(len(questions), run_label(run), "q") if progress_bar else nullcontext() as bar:
            results.append(run_exam(assistant, questions, run, progress=bar.update if bar else None))
        if json_out and len(runs) > 1:  # a long comparison keeps the runs it finished if stopped
            write_exam_json(json_out, results, None, several=True, complete=False)
    return finish(results, questions, report_dir, json_out, several=len(runs) > 1)


def compare_saved(
    files: list[Path], exam_file: Path | None = None, report_dir: Path | None = None, json_out: Path | None = None
) -> Outcome:
    """Saved runs side by side, without asking the model; they must have answered the same exam version."""
    runs = [(path, run) for path in files for run in load_results(path)]
    ids = [item["id"] for item in runs[0][1]["items"]]
    order = {item_id: position for position, item_id in enumerate(ids)}
    for path, run in runs:
        if sorted(item["id"] for item in run["items"]) != sorted(ids):
            raise RagError(f"{path} answered other questions than {files[0]}; compare runs of the same exam")
        run["items"].sort(key=lambda item: order[item["id"]])  # the item analysis needs one column order
    versions = {run["config"].get("exam_sha256") for _, run in runs}
    if len(versions - {None}) > 1:
        raise RagError("These runs answered different versions of the exam (same ids, other questions or options)")
    questions = load_exam(exam_file or GOLD_EXAM) if report_dir else []
    outcome = finish([run for _, run in runs], questions, report_dir, json_out, several=True)
    if None in versions:
        outcome.warnings.append("Warning: some runs predate exam fingerprints; check they used the same exam file.")
    return outcome


def finish(
    results: list[dict], questions: list[ExamQuestion], report_dir: Path | None, json_out: Path | None, several: bool
) -> Outcome:
    """The table and, for three runs or more, the item analysis; the report and the JSON written."""
    table = exam_table(results)
    outcome = Outcome([table])
    outcome.warnings += dev_only_gains(results)
    analysis = None
    if len(results) > 2:
        import numpy as np

        from rag.eval.irt import item_analysis

        ids = [item["id"] for item in results[0]["items"]]
        matrix = np.array([[int(item["correct"]) for item in r["items"]] for r in results])
        analysis = item_analysis([run_name(r) for r in results], ids, matrix)
        outcome.lines.append(
            f"Item analysis (2PL IRT): {len(analysis['flagged'])} of {len(ids)} items discriminate "
            f"poorly: {', '.join(analysis['flagged']) or 'none'}"
        )
    if report_dir:
        by_id = {q.id: {"question": q.question, "choices": q.choices} for q in questions}
        outcome.lines.append(f"Wrote {write_report(results, table, by_id, report_dir)}")
    if json_out:
        write_exam_json(json_out, results, analysis, several=several, complete=True)
        outcome.lines.append(f"Wrote {json_out}")
    return outcome


# A change whose dev gain exceeds its test gain by more than this (in accuracy) is flagged as tuning.
DEV_ONLY_MARGIN = 0.05


def dev_only_gains(results: list[dict]) -> list[str]:
    """Each later run against the first: a gain on the dev half that the test half does not show."""
    first = results[0].get("per_split", {})
    if not {"dev", "test"} <= set(first):
        return []
    flagged = []
    for run in results[1:]:
        halves = run.get("per_split", {})
        if not {"dev", "test"} <= set(halves):
            continue
        dev = halves["dev"]["accuracy"] - first["dev"]["accuracy"]
        test = halves["test"]["accuracy"] - first["test"]["accuracy"]
        if dev > 0 and dev - test > DEV_ONLY_MARGIN:
            flagged.append(
                f"Warning: {run_name(run)} gains {dev:+.3f} on dev but {test:+.3f} on test against "
                f"{run_name(results[0])}: tuned to the dev half?"
            )
    return flagged


def write_exam_json(path: Path, results: list[dict], analysis: dict | None, several: bool, complete: bool) -> None:
    """One run's result as it is; several runs (finished so far, or all) under "runs"."""
    payload = {"runs": results, "item_analysis": analysis, "complete": complete} if several else results[0]
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
