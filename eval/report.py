"""Exam report: a Markdown file with the comparison table, a per-kind accuracy chart, and the misses."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from rag.errors import RagError


class SavedItem(BaseModel):
    """What comparing runs needs of an item; the rest of it is kept as it is."""

    model_config = ConfigDict(extra="allow")

    id: str
    correct: bool


class SavedRun(BaseModel):
    """The top-level fields of a `rag exam --json` result that `compare-saved` reads."""

    model_config = ConfigDict(extra="allow")

    accuracy: float
    n: int
    ci95: tuple[float, float]
    per_kind: dict[str, dict]
    config: dict
    items: list[SavedItem]
    hit_at_5: float | None
    mrr: float | None
    citation_precision: float | None
    abstention_accuracy: float | None
    latency_p50_s: float


RESULT_FIELDS = tuple(name for name, info in SavedRun.model_fields.items() if info.is_required())


def load_results(path: Path) -> list[dict]:
    """The runs in a file `rag exam --json` wrote: one run, or several under "runs"."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read exam results {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise RagError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from exc
    runs = payload.get("runs") if isinstance(payload, dict) and "runs" in payload else [payload]
    if not isinstance(runs, list) or not runs:
        raise RagError(f"{path} holds no exam runs")
    for run in runs:
        if not isinstance(run, dict):
            raise RagError(f"{path} is not a result of `rag exam --json` (a run is not a JSON object)")
        try:
            SavedRun.model_validate(run)
        except ValidationError as exc:
            errors = exc.errors()
            missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and len(e["loc"]) == 1]
            if missing:
                raise RagError(f"{path} is not a result of `rag exam --json` (missing {', '.join(missing)})") from exc
            if any(e["loc"][0] == "items" for e in errors):
                raise RagError(f"{path} has items without an 'id' or 'correct'") from exc
            where = ".".join(map(str, errors[0]["loc"])) or "run"
            raise RagError(f"{path}: {where!r} {errors[0]['msg']}") from exc
    return runs


def run_name(result: dict) -> str:
    """mode/retriever/prompt for a RAG run, mode/prompt otherwise; "-rule" for each rule switched off."""
    c = result["config"]
    off = "".join(f" -{rule}" for rule in c.get("disabled_rules", []))
    if c["mode"] == "rag":
        return f"{c['mode']}/{c['retriever']}/{c['prompt']}{off}"
    if c["mode"] == "chat":
        return f"chat/{c['retriever']}/{c['prompt']}{off}"
    return f"{c['mode']}/{c['prompt']}{off}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def exam_table(results: list[dict]) -> str:
    """One Markdown row per run: accuracy with its interval, retrieval, citations, latency, per kind."""
    kinds = sorted({k for r in results for k in r["per_kind"]})
    head = [
        "run",
        "accuracy (95% CI)",
        "hit@5",
        "MRR",
        "cite prec",
        "gold cited",
        "support P/R",
        "abstain",
        "false abst",
        "wrong verified",
        "p50 s",
        *kinds,
    ]
    rows = []
    for r in results:
        rows.append(
            [
                run_name(r),
                _interval(r),
                _fmt(r["hit_at_5"]),
                _fmt(r["mrr"]),
                _fmt(r["citation_precision"]),
                _fmt(r.get("gold_recall")),  # open-answer runs only
                "-"
                if r.get("support_precision") is None
                else f"{_fmt(r['support_precision'])}/{_fmt(r.get('support_recall'))}",
                _fmt(r["abstention_accuracy"]),
                _fmt(r.get("false_abstention")),  # runs saved before the metric existed have none
                _fmt(r.get("wrong_but_verified")),
                f"{r['latency_p50_s']:.1f}",
                *[_fmt(r["per_kind"].get(k, {}).get("accuracy")) for k in kinds],
            ]
        )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    halves = [(run_name(r), half, rate) for r in results for half, rate in r.get("per_split", {}).items()]
    if halves:
        lines += ["", "| run | half | accuracy (95% CI) |", "|---|---|---|"]
        lines += [f"| {name} | {half} | {_interval(rate)} |" for name, half, rate in halves]
    return "\n".join(lines)


def _interval(rate: dict) -> str:
    return f"{rate['accuracy']:.3f} ({rate['ci95'][0]:.2f}-{rate['ci95'][1]:.2f}) n={rate['n']}"


def per_kind_chart(results: list[dict], path: Path) -> Path:
    """Grouped bars: accuracy per question kind, one bar per run."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers and in CI
    import matplotlib.pyplot as plt

    kinds = sorted({k for r in results for k in r["per_kind"]})
    width = 0.8 / max(len(results), 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(kinds)), 3.6))
    for i, result in enumerate(results):
        values = [result["per_kind"].get(k, {}).get("accuracy", 0) for k in kinds]
        ax.bar([x + i * width for x in range(len(kinds))], values, width, label=run_name(result))
    ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(kinds))], kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _open_miss(item: dict, question: dict) -> list[str]:
    grade = item.get("grade") or {}
    why = "; ".join(
        part
        for part in (
            "abstained" if item.get("abstained") else "",
            f"missing {grade.get('missing')}" if grade.get("missing") else "",
            f"states wrong option {grade.get('wrong')}" if grade.get("wrong") else "",
        )
        if part
    )
    right = question.get("choices", {}).get(item["answer"], "")
    lines = [
        f"- **{item['id']}** ({item['kind']}) {question.get('question', '')} — expected: {right}; {why or 'wrong'}",
        f"  - chat answer: {item['reply']!r}",
        "  - cited: "
        + (", ".join(f"`{i}`" for i in dict.fromkeys(item["cited"])) or "nothing")
        + "; gold: "
        + (", ".join(f"`{i}`" for i in item["sources"]) or "none"),
    ]
    for source in item.get("sources_shown", []):
        passage = source["passage"].replace("\n", " ")
        lines.append(f"  - [{source['n']}] `{source['ids'][0]}`: {passage[:160]}")
    return lines


def write_report(results: list[dict], table: str, questions: dict[str, dict], directory: Path) -> Path:
    """report.md + per-kind.png in `directory`; lists each run's wrong answers with what was retrieved."""
    directory.mkdir(parents=True, exist_ok=True)
    per_kind_chart(results, directory / "per-kind.png")
    lines = [
        "# Exam report",
        "",
        f"Model: `{results[0]['config']['model']}`, {results[0]['timestamp']}",
        "",
        table,
        "",
        "![accuracy per kind](per-kind.png)",
        "",
    ]
    for result in results:
        wrong = [item for item in result["items"] if not item["correct"]]
        lines += [f"## {run_name(result)}: {len(wrong)} wrong of {result['n']}", ""]
        for item in wrong:
            q = questions.get(item["id"], {})
            if item.get("graded") is not None:  # an open answer: what the chat said, and why it is wrong
                lines += _open_miss(item, q)
                continue
            chosen = item["chosen"] or "?"
            lines.append(
                f"- **{item['id']}** ({item['kind']}) {q.get('question', '')} — answered {chosen} "
                f"({q.get('choices', {}).get(chosen, 'unparsed')}), correct {item['answer']} "
                f"({q.get('choices', {}).get(item['answer'], '')}). Retrieved: "
                + (", ".join(f"`{i}`" for i in item["retrieved"][:6]) or "nothing")
            )
        lines.append("")
    path = directory / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
