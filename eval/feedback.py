"""Votes on chat answers as the exam sees them: summarised by kind of question (`rag feedback`) and
turned into exam candidates for a person to review (never merged into an exam automatically).
The votes themselves are stored by `rag.votes`."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from llama_index.core.schema import TextNode

from rag.assistant.answer import Assistant
from rag.assistant.llm import complete
from rag.assistant.prompts import render
from rag.assistant.schema import AREA, AUTHORS, CITY, COUNTRY, KIND, TITLE
from rag.assistant.text import terms
from rag.config import Config
from rag.errors import RagError
from rag.eval.generate import (
    parse_candidates,
    reject_reason,
    rejected_path,
    rejected_summary,
    shuffled,
    write_candidates,
)
from rag.outcome import ProgressBar, Say
from rag.votes import Vote, feedback_path, read_votes


def votes_report(cfg: Config, since: datetime | None, as_json: bool, warn: Say) -> str:
    """`rag feedback`: the summary and every vote (cast at or after `since`, UTC when it names no zone),
    as text or as one JSON object; each line of the file that is not a vote is warned about."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    votes = _votes(cfg, since, warn)
    if as_json:
        return json.dumps(summary(votes) | {"items": [v.model_dump(mode="json") for v in votes]}, ensure_ascii=False)
    return "\n".join(summary_lines(votes))


def export_votes(cfg: Config, out: Path, warn: Say, progress_bar: ProgressBar) -> str:
    """`rag feedback export`: candidates from every vote written to `out`; says what was kept."""
    votes = _votes(cfg, None, warn)
    if not votes:
        raise RagError(f"No votes in {feedback_path(cfg)} yet; vote with 👍/👎 in `rag ui` first")
    with progress_bar(len(votes), "Drafting", "vote") as bar:
        counts = export_candidates(Assistant(cfg), votes, out, progress=bar.update)
    return (
        f"Wrote {counts['kept']} candidates to {out}; rejected {rejected_summary(counts)} "
        f"(see {rejected_path(out)}). Review them before adding any to an exam."
    )


def _votes(cfg: Config, since: datetime | None, warn: Say) -> list[Vote]:
    votes, warnings = read_votes(feedback_path(cfg), since)
    for warning in warnings:
        warn(f"Warning: {warning}")
    return votes


def summary(votes: list[Vote]) -> dict:
    """Votes and 👍 overall and by kind of question."""

    def tally(group: list[Vote]) -> dict:
        up = sum(v.vote == "up" for v in group)
        return {"votes": len(group), "up": up, "share_up": round(up / len(group), 3) if group else None}

    kinds = sorted({v.kind for v in votes})
    return tally(votes) | {"by_kind": {k: tally([v for v in votes if v.kind == k]) for k in kinds}}


def summary_lines(votes: list[Vote]) -> list[str]:
    """Share of 👍 overall and by kind of question, then one line per vote, newest first."""
    if not votes:
        return ["No votes yet."]
    totals = summary(votes)

    def share(t: dict) -> str:
        return f"{t['up']}/{t['votes']} 👍 ({t['share_up']:.0%})"

    lines = [f"{totals['votes']} votes: {share(totals)}", "", "| kind | votes | 👍 |", "|---|---|---|"]
    lines += [f"| {kind} | {t['votes']} | {share(t)} |" for kind, t in totals["by_kind"].items()]
    lines.append("")
    for v in sorted(votes, key=lambda v: v.time, reverse=True):
        mark = "👍" if v.vote == "up" else "👎"
        comment = f" — {v.comment}" if v.comment else ""
        lines.append(f"{v.time:%Y-%m-%d %H:%M} {mark} [{v.kind}] {v.question}{comment}")
    return lines


def export_candidates(
    assistant: Assistant, votes: list[Vote], out: Path, progress: Callable[[int], None] | None = None
) -> Counter:
    """Exam candidates from votes, 👎 first: the condensed question, its cited entries as `sources`, and
    four options the model drafts from those entries, kept only if they pass `rag exam generate`'s filters."""
    assistant.retriever.refresh()
    catalog = assistant.retriever.catalog
    assert catalog is not None
    counts: Counter = Counter()
    rng = random.Random(0)
    kept_terms: list[set[str]] = []
    rows, rejected = [], []
    for vote in sorted(votes, key=lambda v: (v.vote != "down", v.time)):
        question = vote.search_question.strip().rstrip("?.! ") + "?"
        ids = list(dict.fromkeys(i for c in vote.citations for i in c["ids"] if i in catalog.nodes))
        reason, candidate = "no cited entry", {"question": question}
        if ids:
            node = _joined([catalog.nodes[i] for i in ids])
            prompt = render(assistant.cfg.prompts_dir, "exam_options", question=question, entry=node.text[:2500])
            reply = complete(assistant.client, assistant.cfg, [{"role": "user", "content": prompt}], max_tokens=200)
            drafted = parse_candidates(reply)
            candidate = {**(drafted[0] if drafted else {}), "question": question}
            reason = reject_reason(candidate, node, kept_terms) if drafted else "no options drafted"
        origin = {"origin": "feedback", "vote": vote.vote, "comment": vote.comment, "voted_at": vote.time.isoformat()}
        if reason:
            counts[reason] += 1
            rejected.append({"reject_reason": reason, "sources": ids, **candidate, **origin})
        else:
            counts["kept"] += 1
            kept_terms.append(terms(question))
            row = shuffled(candidate, f"fb{len(rows) + 1:04d}", vote.kind, ids, rng)
            rows.append(row | origin)
        if progress:
            progress(1)
    write_candidates(out, rows, rejected)
    return counts


def _joined(nodes: list) -> TextNode:
    """Several cited entries as one, for drafting options and for the filters' support checks."""
    metadata = {
        key: " ".join(str(n.metadata.get(key, "")) for n in nodes)
        for key in (TITLE, AUTHORS, AREA, CITY, COUNTRY, KIND)
    }
    return TextNode(text="\n\n".join(n.get_content() for n in nodes), metadata=metadata)
