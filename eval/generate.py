"""`rag exam generate`: the model drafts questions from each entry; filters keep the usable ones.

The output is a file for a person to review, never merged into the gold exam automatically.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from llama_index.core.schema import BaseNode

from rag.assistant.answer import Assistant
from rag.assistant.llm import complete
from rag.assistant.prompts import render
from rag.assistant.schema import AREA, AUTHORS, CITY, COUNTRY, KIND, OVERVIEW, PAPER, POSTING, TITLE
from rag.assistant.text import terms
from rag.config import Config
from rag.errors import RagError
from rag.eval.exam import LETTERS
from rag.outcome import ProgressBar

GENERIC = {"paper", "posting", "job", "entry", "guide", "figure", "overview"}
VAGUE = re.compile(r"\b(this|the above|the following|the entry|the given|mentioned above)\b", re.I)


def parse_candidates(reply: str) -> list[dict]:
    """Every JSON object in the reply, one per line; junk lines are skipped."""
    found = []
    for line in reply.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


# "this paper", "the job posting": how a small model points at the entry it was shown, whatever the prompt says.
POINTERS = {
    PAPER: re.compile(
        r"\b(?:this (?:research paper|paper|study|work|research)|the (?:research )?paper|the study)\b",
        re.I,
    ),
    # Not "the role" or "the position": those are what a question about a posting asks for.
    POSTING: re.compile(r"\b(?:this|the) (?:job posting|posting)\b|\bthis job\b", re.I),
    OVERVIEW: re.compile(r"\b(?:this|the) (?:entry|guide|overview|document)\b", re.I),
}


def named_question(question: str, node: BaseNode, postings_in: Counter) -> str:
    """The question with its first "this paper" / "the job posting" replaced by the entry's name, so it
    stands on its own; a posting is named by its city only where the city has no other posting."""
    kind = str(node.metadata.get(KIND, ""))
    title = str(node.metadata.get(TITLE, ""))
    if kind == PAPER:
        short = title.split(":")[0].strip()
        name = f'the paper "{short if len(short) >= 4 else title}"'
    elif kind == POSTING and postings_in[node.metadata.get(CITY)] == 1:
        name = f"the job posting in {node.metadata.get(CITY)}"
    elif kind == OVERVIEW:
        name = f'the guide "{title}"'
    else:
        return question
    return POINTERS[kind].sub(name, question, count=1)


def reject_reason(candidate: dict, node: BaseNode, kept: list[set[str]]) -> str | None:
    """Why a candidate is unusable, or None when it passes every filter."""
    question = str(candidate.get("question", "")).strip()
    choices = candidate.get("choices")
    answer = candidate.get("answer")
    if not question.endswith("?"):
        return "not a question"
    if not isinstance(choices, dict) or sorted(choices) != list(LETTERS):
        return "not four options A-D"
    texts = [str(v).strip().lower() for v in choices.values()]
    if len(set(texts)) != 4 or not all(texts):
        return "options not distinct"
    if answer not in LETTERS:
        return "no valid answer letter"
    entry_terms = terms(node.get_content())
    correct = terms(str(choices[answer]))
    if not correct or len(correct & entry_terms) / len(correct) < 0.6:
        return "answer not supported by the entry"
    q_terms = terms(question)
    if correct <= q_terms:
        return "answer given in the question"
    # Self-contained: the question names its own entry (a word of its title, authors, area or
    # place). This also drops questions about another entry, e.g. one copied from the prompt.
    named = terms(" ".join(str(node.metadata.get(k, "")) for k in (TITLE, AUTHORS, AREA, CITY, COUNTRY)))
    # Stemmed like the rest. A posting's title is "Boston posting 2": "the job posting" names nothing.
    named -= terms(" ".join(GENERIC))
    if not q_terms & named or (VAGUE.search(question) and not q_terms & terms(str(node.metadata.get(TITLE, "")))):
        return "not self-contained"
    if any(len(q_terms & other) / max(len(q_terms | other), 1) >= 0.8 for other in kept):
        return "near-duplicate"
    return None


def draft_exam(cfg: Config, per_entry: int, limit: int | None, out: Path, progress_bar: ProgressBar) -> str:
    """`rag exam generate`: candidates from the first `limit` indexed entries written to `out`; says what was kept."""
    from rag.ingest.store import current_version

    total = limit or current_version(cfg).entries
    with progress_bar(total, "Generating", "entry") as bar:
        counts = generate_exam(Assistant(cfg), per_entry, out, limit, progress=bar.update)
    return (
        f"Kept {counts['kept']} questions in {out}; rejected {rejected_summary(counts)} (see {rejected_path(out)}). "
        "Review them before use."
    )


def generate_exam(
    assistant: Assistant,
    per_entry: int,
    out: Path,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Counter:
    """Draft, filter and write candidate questions; returns counts of kept and of each rejection reason."""
    assistant.retriever.refresh()
    catalog = assistant.retriever.catalog
    assert catalog is not None
    nodes = list(catalog.nodes.values())[:limit]
    postings_in = Counter(n.metadata.get(CITY) for n in catalog.nodes.values() if n.metadata.get(KIND) == POSTING)
    rng = random.Random(0)
    counts: Counter = Counter()
    kept_terms: list[set[str]] = []
    rows, rejected = [], []
    for node in nodes:
        prompt = render(assistant.cfg.prompts_dir, "generate", n=str(per_entry), entry=node.get_content()[:2500])
        reply = complete(
            assistant.client, assistant.cfg, [{"role": "user", "content": prompt}], max_tokens=160 * per_entry
        )
        for candidate in parse_candidates(reply)[:per_entry]:
            candidate["question"] = named_question(str(candidate.get("question", "")), node, postings_in)
            reason = reject_reason(candidate, node, kept_terms)
            if reason:
                counts[reason] += 1
                rejected.append({"reject_reason": reason, "sources": [node.node_id], **candidate})
                continue
            counts["kept"] += 1
            kept_terms.append(terms(candidate["question"]))
            kind = str(node.metadata.get(KIND, "other"))
            rows.append(shuffled(candidate, f"gen{len(rows) + 1:04d}", kind, [node.node_id], rng))
        if progress:
            progress(1)
    write_candidates(out, rows, rejected)
    return counts


def write_candidates(out: Path, kept: list[dict], rejected: list[dict]) -> None:
    """The kept candidates in `out`; beside them what the filters dropped and why, for the reviewer."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        for path, rows in ((out, kept), (rejected_path(out), rejected)):
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    except OSError as exc:
        raise RagError(f"Cannot write the candidates to {out}: {exc.strerror}") from exc


def rejected_summary(counts: Counter) -> str:
    """Each reason the filters gave with how many candidates it dropped, or "none"."""
    return ", ".join(f"{reason}: {n}" for reason, n in counts.items() if reason != "kept") or "none"


def rejected_path(out: Path) -> Path:
    """candidates.jsonl -> candidates.rejected.jsonl"""
    return out.with_name(out.stem + ".rejected" + out.suffix)


def shuffled(candidate: dict, item_id: str, kind: str, sources: list[str], rng: random.Random) -> dict:
    """An exam row with the right option moved to a random letter, so exams are not biased to one letter."""
    right = candidate["choices"][candidate["answer"]]
    wrong = [v for k, v in candidate["choices"].items() if k != candidate["answer"]]
    position = rng.choice(LETTERS)
    choices = {}
    for letter in LETTERS:
        choices[letter] = right if letter == position else wrong.pop()
    return {
        "id": item_id,
        "question": candidate["question"].strip(),
        "choices": choices,
        "answer": position,
        "kind": kind,
        "sources": sources,
    }
