"""Multiple-choice exams over the corpus: load, answer through the real pipeline, grade.

An exam is JSON lines: {"id", "question", "choices": {"A".."D"}, "answer", "kind"?, "sources"?}.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assistant.answer import Assistant
from assistant.citations import CITATION_RE, verify
from assistant.context import Context, Source, build_context
from assistant.llm import complete
from assistant.prompts import render, system_prompt
from eval.metrics import ItemResult, score
from rag.errors import RagError

GOLD_EXAM = Path(__file__).parent / "exams" / "gold.jsonl"
MODES = ("rag", "closed-book", "oracle")
LETTERS = ("A", "B", "C", "D")
ABSTAIN_CHOICE = re.compile(r"sources? do(es)? not say", re.I)


@dataclass(frozen=True)
class ExamQuestion:
    """One multiple-choice item."""

    id: str
    question: str
    choices: dict[str, str]
    answer: str
    kind: str = "other"
    sources: list[str] = field(default_factory=list)

    @property
    def unanswerable(self) -> bool:
        return bool(ABSTAIN_CHOICE.search(self.choices[self.answer]))

    def choices_text(self) -> str:
        return "\n".join(f"{letter}. {text}" for letter, text in self.choices.items())


def load_exam(path: Path) -> list[ExamQuestion]:
    """Parse and validate an exam file; errors name the file and line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"Cannot read exam {path}: {exc}") from exc
    questions: list[ExamQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise RagError(f"{where}: expected a JSON object")
        missing = [k for k in ("id", "question", "choices", "answer") if k not in row]
        if missing:
            raise RagError(f"{where}: missing {', '.join(repr(m) for m in missing)}")
        choices = row["choices"]
        if not isinstance(choices, dict) or sorted(choices) != list(LETTERS):
            raise RagError(f"{where}: 'choices' must have exactly the keys A, B, C, D")
        if not all(isinstance(v, str) and v.strip() for v in choices.values()):
            raise RagError(f"{where}: every choice must be non-empty text")
        if row["answer"] not in LETTERS:
            raise RagError(f"{where}: 'answer' must be one of A, B, C, D, not {row['answer']!r}")
        if str(row["id"]) in seen:
            raise RagError(f"{where}: duplicate id {row['id']!r}")
        sources = row.get("sources", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
            raise RagError(f"{where}: 'sources' must be a list of entry ids")
        seen.add(str(row["id"]))
        questions.append(
            ExamQuestion(
                str(row["id"]),
                str(row["question"]),
                {k: choices[k] for k in LETTERS},
                row["answer"],
                str(row.get("kind") or "other"),
                sources,
            )
        )
    if not questions:
        raise RagError(f"Exam {path} has no questions")
    return questions


def parse_choice(reply: str, choices: dict[str, str]) -> str | None:
    """The letter a reply chose: "Answer: B", a lone "B", "(B)", or the text of one choice."""
    patterns = [r"answer\s*(?:is)?\s*[:\-]?\s*\(?([ABCD])\b", r"^\s*\(?([ABCD])[\).:\s]", r"^\s*([ABCD])\s*$"]
    for pattern in patterns:
        match = re.search(pattern, reply, re.I | re.M)
        if match:
            return match.group(1).upper()
    lowered = reply.lower()
    named = [letter for letter, text in choices.items() if text.lower() in lowered]
    return named[0] if len(named) == 1 else None


@dataclass
class ExamRun:
    """Settings of one exam run: which context the model gets and which prompt."""

    mode: str = "rag"
    retriever: str | None = None
    prompt: str = "exam"


def _oracle_context(assistant: Assistant, question: ExamQuestion) -> Context:
    assistant.retriever.refresh()
    catalog = assistant.retriever.catalog
    assert catalog is not None
    nodes = [catalog.nodes[s] for s in question.sources if s in catalog.nodes]
    return Context([Source(n, [node], node.get_content()) for n, node in enumerate(nodes, start=1)])


def answer_question(assistant: Assistant, question: ExamQuestion, run: ExamRun) -> ItemResult:
    """Ask one item through the pipeline users get, and grade it."""
    cfg = assistant.cfg
    started = time.perf_counter()
    retrieved: list[str] = []
    if run.mode == "closed-book":
        context = Context()
        messages = [
            {
                "role": "user",
                "content": render(
                    cfg.prompts_dir, "exam_closed_book", question=question.question, choices=question.choices_text()
                ),
            }
        ]
    else:
        if run.mode == "oracle":
            context = _oracle_context(assistant, question)
        else:
            retrieval = assistant.retriever.retrieve(question.question, mode=run.retriever)
            context = build_context(retrieval, cfg.context_chars, cfg.max_context_entries)
        retrieved = [i for s in context.sources for i in s.ids]
        prompt = render(
            cfg.prompts_dir,
            run.prompt,
            context=context.text(),
            question=question.question,
            choices=question.choices_text(),
        )
        messages = [{"role": "system", "content": system_prompt(cfg.prompts_dir)}, {"role": "user", "content": prompt}]
    reply = complete(assistant.client, cfg, messages, max_tokens=24)
    chosen = parse_choice(reply, question.choices)
    cited: list[str] = []
    if context.sources and chosen:
        # Check the citation against the text of the chosen option, as for any answer sentence.
        claim = question.choices[chosen] + " " + " ".join(m.group(0) for m in CITATION_RE.finditer(reply))
        cited = [i for c in verify(claim, context).citations for i in c.ids]
    return ItemResult(
        question.id,
        question.kind,
        question.answer,
        chosen,
        question.sources,
        retrieved,
        cited,
        question.unanswerable,
        time.perf_counter() - started,
        reply.strip(),
    )


def run_exam(
    assistant: Assistant, questions: list[ExamQuestion], run: ExamRun, progress: Callable[[int], None] | None = None
) -> dict:
    """Answer every question and return the scored result with its settings."""
    if run.mode not in MODES:
        raise RagError(f"Unknown exam mode '{run.mode}'; use one of {', '.join(MODES)}")
    items = []
    for question in questions:
        items.append(answer_question(assistant, question, run))
        if progress:
            progress(1)
    result = score(items)
    result["config"] = {
        "mode": run.mode,
        "retriever": run.retriever or assistant.cfg.retriever,
        "prompt": run.prompt,
        "model": assistant.cfg.model,
        "endpoint": assistant.cfg.endpoint,
        "top_k": assistant.cfg.top_k,
        "context_chars": assistant.cfg.context_chars,
    }
    result["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["items"] = [item.__dict__ | {"correct": item.correct} for item in items]
    return result
