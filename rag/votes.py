"""Votes on chat answers: the JSON-lines file in the data directory they are appended to as they are
cast, and reading them back. The chat page writes votes here and `rag feedback` reads them, so
neither loads the other's code."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from rag.assistant.prompts import prompts_fingerprint
from rag.config import Config

if TYPE_CHECKING:
    from rag.assistant.answer import Answer

FEEDBACK_FILE = "feedback.jsonl"
VoteValue = Literal["up", "down"]
VOTES: tuple[str, ...] = get_args(VoteValue)
_APPEND = threading.Lock()


class Vote(BaseModel):
    """One 👍/👎 on one answer, with everything needed to replay or grade it later."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    time: datetime
    vote: VoteValue
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
