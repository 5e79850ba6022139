"""Votes on chat answers: appended to a JSON-lines file as they are cast, read back, summarised,
and turned into exam candidates for a person to review (never merged into an exam automatically).
"""

from __future__ import annotations

import json
import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from llama_index.core.schema import TextNode
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.answer import Answer, Assistant
from assistant.llm import complete
from assistant.prompts import prompts_fingerprint, render
from assistant.text import terms
from eval.generate import parse_candidates, reject_reason, rejected_path, rejected_summary, shuffled, write_candidates
from rag.config import Config
from rag.errors import RagError
from rag.outcome import ProgressBar, Say

FEEDBACK_FILE = "feedback.jsonl"
VOTES = ("up", "down")
_APPEND = threading.Lock()


class Vote(BaseModel):
    """One 👍/👎 on one answer, with everything needed to replay or grade it later."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    time: datetime
    vote: Literal["up", "down"]
    comment: str = ""
    answer_id: str  # one per answer shown: a changed vote on the same answer replaces the earlier one
    question: str
    search_question: str  # the question as condensed with the conversation, what retrieval saw
    answer: str
    answered_by: str
    kind: str
    citations: list[dict]  # verified citations: n, ids, label
    retrieved: list[str]  # every entry id the answer's context held
    filters: dict[str, str]
    index_version: str
    prompt: str
    prompts_sha256: str
    model: str


def feedback_path(cfg: Config) -> Path:
    return cfg.data_dir / FEEDBACK_FILE


def question_kind(answer: Answer) -> str:
    """The kind of question an answer shows it was, in the exam's terms."""
    cited = {i for c in answer.citations for i in c.ids}
    if not cited:
        return "unanswered"
    if len(cited) > 1:
        return "multi-entry"
    return answer.citations[0].kind or "other"


def vote_fields(answer: Answer, filters: dict[str, str], cfg: Config) -> dict:
    """What a vote on `answer` records besides the vote itself (kept while the answer is on screen)."""
    return {
        "answer_id": uuid.uuid4().hex,
        "question": answer.question,
        "search_question": answer.search_question or answer.question,
        "answer": answer.answer,
        "answered_by": answer.answered_by,
        "kind": question_kind(answer),
        "citations": [{"n": c.n, "ids": list(c.ids), "label": c.label} for c in answer.citations],
        "retrieved": [i for s in answer.context.shown() for i in s.ids],
        "filters": dict(filters),
        "index_version": answer.retrieval.version,
        "prompt": cfg.answer_prompt,
        "prompts_sha256": prompts_fingerprint(cfg.prompts_dir),
        "model": answer.model,
    }


def record_vote(path: Path, fields: dict, vote: str, comment: str = "") -> Vote:
    """Append one vote and flush it to disk before returning: a vote written survives a killed app."""
    record = Vote(time=datetime.now(UTC), vote=vote, comment=comment.strip(), **fields)
    line = record.model_dump_json() + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _APPEND, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)  # one write of one whole line, so concurrent appends never interleave
        handle.flush()
        os.fsync(handle.fileno())
    return record


def read_votes(path: Path, since: datetime | None = None) -> tuple[list[Vote], list[str]]:
    """The votes (at or after `since`; the last one per answer), and a warning for each line that is
    not a vote."""
    if not path.exists():
        return [], []
    votes, warnings = [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                vote = Vote.model_validate_json(line)
            except ValidationError as exc:
                warnings.append(f"{path}:{number}: skipped, not a vote ({exc.errors()[0]['msg']})")
                continue
            if since is None or vote.time >= since:
                votes.append(vote)
    last = {v.answer_id: v for v in sorted(votes, key=lambda v: v.time)}
    return list(last.values()), warnings


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
        for key in ("title", "authors", "area", "city", "country", "kind")
    }
    return TextNode(text="\n\n".join(n.get_content() for n in nodes), metadata=metadata)
