"""Multiple-choice exams over the corpus: load, answer through the real pipeline, grade.

An exam is JSON lines: {"id", "question", "choices": {"A".."D"}, "answer", "kind"?, "sources"?, "facts"?}.
`facts` lists what an open answer must state when the right option's text is not enough to grade it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.assistant.answer import Assistant, final_answer
from rag.assistant.chat import ChatSession
from rag.assistant.citations import verify
from rag.assistant.context import Context, Source, build_context
from rag.assistant.llm import chat_once, endpoint_errors, letter_logprobs
from rag.assistant.prompts import fill, placeholders, read_template, render, system_prompt
from rag.assistant.text import CITATION_RE
from rag.errors import RagError
from rag.eval.grade import grade_answer
from rag.eval.metrics import ItemResult, score
from rag.eval.options import MODES, SCORINGS

GOLD_EXAM = Path(__file__).parent / "exams" / "gold.jsonl"

# An option saying the documents do not answer, as exam authors write it ("The sources do not say",
# "The guide does not say", "The docs don't say", "Not stated in the documentation"): the whole option,
# so a real answer that opens with "The documentation does not provide X, but …" is not taken for it.
ABSTAIN_OPTION_RE = re.compile(
    r"^\W*(?:the\s+)?(?:sources?|documents?|documentation|docs|guide|text)\s+(?:do|does)\s*n(?:o|[’'])?t\s+"
    r"(?:say|contain|mention|provide|specify|state|include)(?:\s+\w+){0,3}\W*$"
    r"|^\W*not\s+(?:mentioned|stated|given)\s+in\s+the\s+(?:sources|documents|documentation|docs|guide)\W*$",
    re.I,
)
# Drafted by `rag exam generate` over the bundled guide, each item checked by hand against its entry.
GENERATED_EXAM = Path(__file__).parent / "exams" / "generated.jsonl"
LETTERS = ("A", "B", "C", "D")


class ExamQuestion(BaseModel):
    """One multiple-choice item, as a line of an exam file (JSON lines) holds it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    question: str
    choices: dict[str, str]
    answer: str
    kind: str = "other"
    sources: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list)
    # Where the item came from: "written" by a person, "generated" (`rag exam generate`) or "feedback"
    # (`rag feedback export`), each reviewed by a person before it entered an exam file.
    origin: str = "written"
    # A conversation: the user's earlier messages, oldest first; `question` is the last one, graded.
    turns: list[str] = Field(default_factory=list)
    # Which half of a blind exam: "dev" (read item by item while building) or "test" (read as totals only).
    split: str = ""

    @model_validator(mode="before")
    @classmethod
    def _class_as_kind(cls, row: object) -> object:
        """A blind item labels the class of question it is ("count", "follow-up") as `class`: reported as its kind."""
        if isinstance(row, dict) and "kind" not in row and row.get("class"):
            return row | {"kind": row["class"]}
        return row

    @field_validator("turns", mode="before")
    @classmethod
    def _turns(cls, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
            raise ValueError("must be a list of non-empty messages")
        return value

    @field_validator("id", "question", mode="before")
    @classmethod
    def _text(cls, value: object) -> str:
        if not isinstance(value, str | int) or not str(value).strip():
            raise ValueError("must be non-empty text")
        return str(value)

    @field_validator("choices", mode="before")
    @classmethod
    def _four_choices(cls, value: object) -> dict[str, str]:
        if not isinstance(value, dict) or sorted(value) != list(LETTERS):
            raise ValueError("must have exactly the keys A, B, C, D")
        if not all(isinstance(v, str) and v.strip() for v in value.values()):
            raise ValueError("must all be non-empty text")
        return {letter: value[letter] for letter in LETTERS}

    @field_validator("answer", mode="before")
    @classmethod
    def _letter(cls, value: object) -> str:
        if value not in LETTERS:
            raise ValueError(f"must be one of A, B, C, D, not {value!r}")
        return str(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> str:
        return str(value or "other")

    @field_validator("sources", mode="before")
    @classmethod
    def _entry_ids(cls, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise ValueError("must be a list of entry ids")
        return value

    @field_validator("facts", mode="before")
    @classmethod
    def _facts(cls, value: object) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(f, str) and f.strip() for f in value):
            raise ValueError("must be a list of non-empty texts")
        return value

    @property
    def abstain_letter(self) -> str | None:
        """The letter of the "the sources do not say" option, if there is one."""
        return next((letter for letter, text in self.choices.items() if ABSTAIN_OPTION_RE.search(text)), None)

    @property
    def unanswerable(self) -> bool:
        return self.abstain_letter == self.answer

    @property
    def asked(self) -> str:
        """The question as one message, for modes that ask without a conversation (multiple choice)."""
        return f"{' '.join(self.turns)} {self.question}" if self.turns else self.question


def first_problem(exc: ValidationError) -> str:
    """A pydantic error as one line: "missing 'answer'" or "'answer' must be one of A, B, C, D, not 'E'"."""
    missing = [".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "missing"]
    if missing:
        return "missing " + ", ".join(repr(name) for name in missing)
    error = exc.errors()[0]
    return f"{'.'.join(map(str, error['loc']))!r} {error['msg'].removeprefix('Value error, ')}"


def exam_fingerprint(questions: list[ExamQuestion]) -> str:
    """Changes when any question, option or answer changes; the same for the same items in any order.

    `facts` only guide the open-answer grader and `origin` only labels an item, so they are left out:
    multiple-choice runs stay comparable.
    """
    rows = [
        q.model_dump(exclude={"facts", "origin", "split"} | ({"turns"} if not q.turns else set())) for q in questions
    ]
    canonical = json.dumps(sorted(rows, key=lambda q: q["id"]), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _facts_fingerprint(questions: list[ExamQuestion]) -> str:
    """What the open-answer grader reads besides the options: changes when any item's `facts` change."""
    canonical = json.dumps(sorted((q.id, q.facts) for q in questions))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


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
        try:
            question = ExamQuestion.model_validate(row)
        except ValidationError as exc:
            raise RagError(f"{where}: {first_problem(exc)}") from exc
        if question.id in seen:
            raise RagError(f"{where}: duplicate id {question.id!r}")
        seen.add(question.id)
        questions.append(question)
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


# Option orders each scoring asks in, as positions into A-D: the identity, the reverse, or all four
# rotations (every option once at every letter, so a bias for a letter cancels exactly).
ORDERS: dict[str, list[tuple[int, ...]]] = {
    "text": [(0, 1, 2, 3)],
    "logprobs": [(0, 1, 2, 3)],
    "permuted": [(0, 1, 2, 3), (3, 2, 1, 0)],
    "cyclic": [tuple((start + i) % 4 for i in range(4)) for start in range(4)],
}


@dataclass
class ExamRun:
    """Settings of one exam run: which context the model gets, which prompt, how the letter is read.

    Scoring: `text` parses the letter from the reply; `logprobs` takes the most likely of
    A-D at the first token (as lm-eval-harness does); `permuted` also asks with the options
    in reverse order and `cyclic` in all four rotations, combining each option's scores
    (normalised over A-D per call) by `aggregate`, which cancels a bias for letters.
    """

    mode: str = "rag"
    retriever: str | None = None
    prompt: str = "exam"
    scoring: str = "cyclic"
    aggregate: str = "mean-prob"


def tally(asked: list[tuple[tuple[int, ...], dict[str, float]]]) -> dict[str, list[float]]:
    """Each exam option's letter log-probabilities, one per order it was shown in.

    In an order, letter LETTERS[i] shows the option that is LETTERS[order[i]] in the exam file.
    """
    shown: dict[str, list[float]] = {letter: [] for letter in LETTERS}
    for order, scores in asked:
        for i, o in enumerate(order):
            shown[LETTERS[o]].append(scores[LETTERS[i]])
    return shown


# How an option's scores over the orders combine. Summing log-probabilities asks the model to
# like an option under every letter, so one order where it dislikes "the sources do not say"
# sinks that option; the mean probability lets one confident order count.
AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "mean-prob": lambda logprobs: sum(math.exp(v) for v in logprobs) / len(logprobs),
    "sum-logprob": sum,
}


def pick(shown: dict[str, list[float]], aggregate: str) -> str:
    """The option with the best combined score."""
    combine = AGGREGATES[aggregate]
    return max(LETTERS, key=lambda letter: combine(shown[letter]))


def _ask_letters(
    assistant: Assistant, messages: list[dict[str, str]], scoring: str, reply_wanted: bool = True
) -> tuple[str, dict | None]:
    """The reply and the letters' log-probabilities; a further order only needs the first token's."""
    cfg = assistant.cfg
    options: dict[str, Any] = {"max_tokens": 12 if reply_wanted or scoring == "text" else 1}
    if scoring != "text":
        options.update(logprobs=True, top_logprobs=20)
    choice = chat_once(assistant.client, cfg, messages, **options)
    return (choice.message.content or ""), (letter_logprobs(choice, LETTERS) if scoring != "text" else None)


def _oracle_context(assistant: Assistant, question: ExamQuestion) -> Context:
    assistant.retriever.refresh()
    catalog = assistant.retriever.catalog
    assert catalog is not None
    nodes = [catalog.nodes[s] for s in question.sources if s in catalog.nodes]
    return Context([Source(n, [node], node.get_content()) for n, node in enumerate(nodes, start=1)])


def _messages(
    assistant: Assistant, question: ExamQuestion, run: ExamRun, context: Context, choices: dict[str, str]
) -> list[dict[str, str]]:
    cfg = assistant.cfg
    listed = "\n".join(f"{letter}. {text}" for letter, text in choices.items())
    if run.mode == "closed-book":
        return [
            {
                "role": "user",
                "content": render(cfg.prompts_dir, "exam_closed_book", question=question.asked, choices=listed),
            }
        ]
    # A prompt may take the sources whole ({context}) or in two parts ({sources} … {matches}), so its
    # standing instructions can sit between them, in the prefix the server keeps from item to item.
    template = read_template(cfg.prompts_dir, run.prompt)
    if "context" in placeholders(template):
        sources = {"context": context.text()}
    else:
        sources = dict(zip(("sources", "matches"), context.parts(), strict=True))
    prompt = fill(template, run.prompt, **sources, question=question.asked, choices=listed)
    prompt = re.sub(r"\n{3,}", "\n\n", prompt)  # no matches (a retrieved context) leaves no gap
    return [{"role": "system", "content": system_prompt(cfg.prompts_dir)}, {"role": "user", "content": prompt}]


def answer_question(assistant: Assistant, question: ExamQuestion, run: ExamRun) -> ItemResult:
    """Ask one item through the pipeline users get, and grade it."""
    cfg = assistant.cfg
    started = time.perf_counter()
    context = Context()
    if run.mode == "oracle":
        context = _oracle_context(assistant, question)
    elif run.mode == "rag":
        retrieval = assistant.retriever.retrieve(question.asked, mode=run.retriever)
        context = assistant.model_context(
            retrieval, build_context(retrieval, cfg.context_chars, cfg.max_context_entries)
        )
    retrieved = [i for s in context.shown() for i in s.ids]

    # The options come last in the prompt, so the server's prompt cache makes every further order
    # cost only the options.
    reply, chosen, asked, shown_scores = "", None, [], {}
    for order in ORDERS[run.scoring]:
        shown = {LETTERS[i]: question.choices[LETTERS[o]] for i, o in enumerate(order)}
        messages = _messages(assistant, question, run, context, shown)
        text, scores = _ask_letters(assistant, messages, run.scoring, reply_wanted=not reply)
        reply = reply or text
        if scores is None:  # text scoring, or the endpoint gives no log-probabilities
            chosen = parse_choice(reply, question.choices)
            break
        asked.append((order, scores))
    else:
        shown_scores = tally(asked)
        chosen = pick(shown_scores, run.aggregate)

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
        {letter: [round(v, 4) for v in values] for letter, values in shown_scores.items()},
        question.abstain_letter,
        split=question.split,
    )


def shown_sources(context: Context) -> list[dict]:
    """The numbered context as saved with an item, so a reader (or a later grader) sees what the model saw."""
    return [{"n": s.n, "ids": s.ids, "kind": s.kind, "passage": s.passage} for s in context.sources]


def context_from_saved(sources: list[dict]) -> Context:
    """The inverse of `shown_sources`: enough of the context to re-check an answer's citations."""
    from llama_index.core.schema import TextNode

    return Context(
        [
            Source(s["n"], [TextNode(id_=i, text="", metadata={"kind": s["kind"]}) for i in s["ids"]], s["passage"])
            for s in sources
        ]
    )


def support_counts(answer_text: str, context: Context) -> dict[str, int]:
    """ALCE-style counts on the answer as shown: its citations the verifier's check holds, and its
    sentences that state a fact with a citation that supports them."""
    checked = verify(answer_text, context)  # support only: a sentence of the question's own words still counts
    return {
        "model_citations": checked.model_citations,
        "held_citations": checked.model_citations - len(checked.invalid) - len(checked.unsupported),
        "supported_sentences": checked.supported_sentences,
        "fact_sentences": checked.fact_sentences,
    }


def answer_open(assistant: Assistant, question: ExamQuestion, run: ExamRun) -> ItemResult:
    """Ask the question as a person would in the chat (after the item's earlier turns, in one
    conversation), and grade what the chat shows for the last one."""
    started = time.perf_counter()
    if question.turns:
        session = ChatSession(assistant)
        for turn in question.turns:
            final_answer(session.stream(turn, mode=run.retriever))
        answer = final_answer(session.stream(question.question, mode=run.retriever))
    else:
        answer = assistant.ask(question.question, mode=run.retriever)
    grade = grade_answer(
        question.question,
        question.choices,
        question.answer,
        answer.answer,
        facts=question.facts,
        unanswerable=question.unanswerable,
        abstain_letter=question.abstain_letter,
    )
    return ItemResult(
        question.id,
        question.kind,
        question.answer,
        None,
        question.sources,
        [i for s in answer.context.shown() for i in s.ids],
        [i for c in answer.citations for i in c.ids],
        question.unanswerable,
        time.perf_counter() - started,
        answer.answer,
        abstain_letter=question.abstain_letter,
        graded=grade.correct,
        abstained=grade.abstained,
        grade=grade.as_json(),
        support=support_counts(answer.answer, answer.context),
        sources_shown=shown_sources(answer.context),
        answered_by=answer.answered_by,
        rule=answer.rule,
        highlights={c.ids[0]: [text for _, _, text in c.support] for c in answer.citations},
        timings=answer.timings,
        split=question.split,
    )


def _naive_answerer(assistant: Assistant) -> Callable[[ExamQuestion], ItemResult]:
    """The peer: llama-index's default query engine over plain chunks, same model; letter read from text."""
    from rag.eval.naive import build_naive_engine

    with endpoint_errors(assistant.cfg):
        engine = build_naive_engine(assistant.cfg, list(assistant.cfg.corpus), assistant.retriever.embedder)

    def ask(question: ExamQuestion) -> ItemResult:
        started = time.perf_counter()
        listed = "\n".join(f"{letter}. {text}" for letter, text in question.choices.items())
        with endpoint_errors(assistant.cfg):
            reply = str(engine.query(f"{question.asked}\n{listed}\nReply with the letter of the correct option."))
        return ItemResult(
            question.id,
            question.kind,
            question.answer,
            parse_choice(reply, question.choices),
            question.sources,
            [],
            [],
            question.unanswerable,
            time.perf_counter() - started,
            reply,
            abstain_letter=question.abstain_letter,
        )

    return ask


def run_exam(
    assistant: Assistant, questions: list[ExamQuestion], run: ExamRun, progress: Callable[[int], None] | None = None
) -> dict:
    """Answer every question and return the scored result with its settings."""
    if run.mode not in MODES:
        raise RagError(f"Unknown exam mode '{run.mode}'; use one of {', '.join(MODES)}")
    if run.scoring not in SCORINGS:
        raise RagError(f"Unknown scoring '{run.scoring}'; use one of {', '.join(SCORINGS)}")
    if run.aggregate not in AGGREGATES:
        raise RagError(f"Unknown aggregate '{run.aggregate}'; use one of {', '.join(AGGREGATES)}")
    if run.mode == "naive":  # the peer brings its own retrieval and prompt; its letter is read from text
        run = replace(run, retriever="llama-index default", prompt="llama-index default", scoring="text")
    if run.mode == "chat":  # open answers: no options, no letter; the chat's own prompt, or a variant of it
        prompt = assistant.cfg.answer_prompt if run.prompt == ExamRun.prompt else run.prompt
        run = replace(run, prompt=prompt, scoring="open")
        assistant = Assistant(assistant.cfg.replace(answer_prompt=prompt), assistant.retriever, assistant._client)
    if run.mode == "naive":
        ask = _naive_answerer(assistant)
    elif run.mode == "chat":
        ask = lambda q: answer_open(assistant, q, run)  # noqa: E731
    else:
        ask = lambda q: answer_question(assistant, q, run)  # noqa: E731
    warm_up_s = None
    if run.mode in ("chat", "rag"):  # as `rag chat` and `rag ui` do at start: no item pays for the corpus read
        started = time.perf_counter()
        assistant.warm_up()
        warm_up_s = round(time.perf_counter() - started, 2)
    items = []
    for question in questions:
        items.append(ask(question))
        if progress:
            progress(1)
    result = score(items)
    result["config"] = {
        "mode": run.mode,
        "retriever": run.retriever or assistant.cfg.retriever,
        "prompt": run.prompt,
        "scoring": run.scoring,
        "aggregate": run.aggregate if run.scoring in ("permuted", "cyclic") else None,
        "model": assistant.cfg.model,
        "endpoint": assistant.cfg.shown_endpoint,
        "top_k": assistant.cfg.top_k,
        "context_chars": assistant.cfg.context_chars,
        "context_mode": assistant.cfg.context_mode,
        "focus_sources": assistant.cfg.focus_sources,
        "focus_chars": assistant.cfg.focus_chars,
        "disabled_rules": sorted(assistant.cfg.disabled),
        "quote_passages": assistant.cfg.quote_passages,
        "warm_up_s": warm_up_s,
        "exam_sha256": exam_fingerprint(questions),
    }
    if run.mode == "chat":
        result["config"]["facts_sha256"] = _facts_fingerprint(questions)
    result["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["items"] = [item.__dict__ | {"correct": item.correct} for item in items]
    return result
