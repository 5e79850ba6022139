"""Exam metrics: accuracy with a Wilson 95% interval, retrieval hit@k and MRR, citations, latency."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class ItemResult:
    """One graded question."""

    id: str
    kind: str
    answer: str
    chosen: str | None
    sources: list[str]
    retrieved: list[str] = field(default_factory=list)  # entry ids in context order
    cited: list[str] = field(default_factory=list)
    unanswerable: bool = False
    seconds: float = 0.0
    reply: str = ""
    # Exam letter -> its normalised log-probability in each option order asked (empty for text scoring).
    option_logprobs: dict[str, list[float]] = field(default_factory=dict)
    # The letter of a "the sources do not say" option, if the item offers one.
    abstain_letter: str | None = None
    # Open answers (chat mode): the grader's verdict, whether the answer abstained, its evidence,
    # and the citation-support counts of the shown answer.
    graded: bool | None = None
    abstained: bool | None = None
    grade: dict = field(default_factory=dict)
    sources_shown: list[dict] = field(default_factory=list)  # the numbered context: n, ids, kind, passage
    answered_by: str = ""  # open answers: how `Answer.answered_by` says it was written
    rule: str = ""  # the rule of code that wrote it, if one did
    support: dict = field(default_factory=dict)  # ALCE-style counts of the shown answer
    highlights: dict[str, list[str]] = field(default_factory=dict)  # cited entry -> its supporting sentences
    timings: dict[str, float] = field(default_factory=dict)  # open answers: the answer's timings and token counts
    split: str = ""  # a blind exam's half: "dev" or "test"

    @property
    def correct(self) -> bool:
        return self.graded if self.graded is not None else self.chosen == self.answer


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion (sane at 0 and n, unlike the normal one)."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _rate(items: list[ItemResult]) -> dict:
    right = sum(i.correct for i in items)
    return {
        "accuracy": round(right / len(items), 4) if items else 0.0,
        "n": len(items),
        "ci95": wilson(right, len(items)),
    }


def score(items: list[ItemResult], k: int = 5) -> dict:
    """All exam metrics; the fields named in the exam spec sit at the top level."""
    with_sources = [i for i in items if i.sources and i.retrieved]
    hits = [any(s in i.retrieved[:k] for s in i.sources) for i in with_sources]
    reciprocal = []
    for item in with_sources:
        ranks = [item.retrieved.index(s) + 1 for s in item.sources if s in item.retrieved]
        reciprocal.append(1 / min(ranks) if ranks else 0.0)
    cited = [c for i in items if i.sources for c in i.cited]
    cited_ok = [c for i in items if i.sources for c in i.cited if c in i.sources]
    unanswerable = [i for i in items if i.unanswerable]
    # Answerable items that tempt the model to abstain: abstaining there is a wrong answer.
    tempted = [i for i in items if not i.unanswerable and i.abstain_letter]
    per_kind: dict[str, list[ItemResult]] = defaultdict(list)
    for item in items:
        per_kind[item.kind].append(item)
    latencies = [i.seconds for i in items]
    overall = _rate(items)
    open_metrics = _open_answer_metrics(items) if any(i.graded is not None for i in items) else {}
    return open_metrics | {
        "accuracy": overall["accuracy"],
        "n": overall["n"],
        "ci95": overall["ci95"],
        "per_kind": {kind: _rate(group) for kind, group in sorted(per_kind.items())},
        # A blind exam's halves, each with its own interval: a change that gains on dev only is tuning.
        "per_split": {
            half: _rate([i for i in items if i.split == half]) for half in sorted({i.split for i in items if i.split})
        },
        f"hit_at_{k}": round(sum(hits) / len(hits), 4) if hits else None,
        "mrr": round(sum(reciprocal) / len(reciprocal), 4) if reciprocal else None,
        "citation_precision": round(len(cited_ok) / len(cited), 4) if cited else None,
        "abstention_accuracy": round(sum(i.correct for i in unanswerable) / len(unanswerable), 4)
        if unanswerable
        else None,
        "false_abstention": open_metrics.get("false_abstention")
        if open_metrics
        else (round(sum(i.chosen == i.abstain_letter for i in tempted) / len(tempted), 4) if tempted else None),
        "unparsed": sum(i.chosen is None for i in items),
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p95_s": round(percentile(latencies, 95), 3),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _open_answer_metrics(items: list[ItemResult]) -> dict:
    """Open answers: abstention on answerable items, gold entries cited, and ALCE-style citation support.

    `support_precision`: share of the answer's citations whose source supports their sentence (the
    verifier's check, before it removes the others); `support_recall`: share of the shown sentences
    that state a fact and carry a citation that supports them.
    """
    answerable = [i for i in items if not i.unanswerable]
    with_sources = [i for i in answerable if i.sources]
    total = lambda key: sum(int(i.support.get(key, 0)) for i in items)  # noqa: E731
    asked_model = [i.timings for i in items if i.answered_by.startswith("model") and "first_token_s" in i.timings]

    def p50(key: str) -> float | None:
        values = [t[key] for t in asked_model if key in t]
        return round(percentile(values, 50), 3) if values else None

    return {
        # The answers the model wrote (code-written ones have no first token).
        "first_token_p50_s": p50("first_token_s"),
        "prompt_tokens_p50": p50("prompt_tokens"),
        "evaluated_tokens_p50": p50("evaluated_tokens"),
        "first_token_over_prompt_read_p50": p50("first_token_over_prompt_read"),
        "answered_by_code": _share(sum(i.answered_by == "catalog" for i in items), len(items)),
        "closest_match": _share(sum(i.answered_by == "model, then closest match" for i in items), len(items)),
        "asked_again": _share(sum(i.answered_by == "model, asked again" for i in items), len(items)),
        "chose_a_passage": _share(sum(i.answered_by == "model, chose a passage" for i in items), len(items)),
        "false_abstention": _share(sum(bool(i.abstained) and not i.correct for i in answerable), len(answerable)),
        # Shown with verified citations and still wrong: what the citation check let through.
        "wrong_but_verified": _share(
            sum(not i.correct and not i.abstained and bool(i.cited) for i in items), len(items)
        ),
        # Each rule of code that wrote answers: [right, answered], for the ablation table.
        "by_rule": {
            rule: [sum(i.correct for i in items if i.rule == rule), sum(i.rule == rule for i in items)]
            for rule in sorted({i.rule for i in items if i.rule})
        },
        "gold_recall": _share(sum(set(i.sources) <= set(i.cited) for i in with_sources), len(with_sources)),
        "support_precision": _share(total("held_citations"), total("model_citations")),
        "support_recall": _share(total("supported_sentences"), total("fact_sentences")),
    }
