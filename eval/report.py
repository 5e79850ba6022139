"""Exam report: a Markdown file with the comparison table, a per-kind accuracy chart, and the misses."""

from __future__ import annotations

from pathlib import Path


def _name(result: dict) -> str:
    c = result["config"]
    return f"{c['mode']}/{c['retriever']}/{c['prompt']}" if c["mode"] == "rag" else f"{c['mode']}/{c['prompt']}"


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
        ax.bar([x + i * width for x in range(len(kinds))], values, width, label=_name(result))
    ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(kinds))], kinds)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


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
        lines += [f"## {_name(result)}: {len(wrong)} wrong of {result['n']}", ""]
        for item in wrong:
            q = questions.get(item["id"], {})
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
