"""Conversation: keep the history and make follow-ups searchable (rewritten, or with the earlier questions)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.answer import Answer, Assistant, Draft, Retrieved, check_question, final_answer
from assistant.citations import ABSTAIN_RE
from assistant.context import CITATION_RE
from assistant.llm import complete
from assistant.prompts import render

MAX_TURNS = 4
MAX_EARLIER_CHARS = 600


@dataclass
class ChatSession:
    """One conversation; `history` holds (question, answer) pairs, oldest first."""

    assistant: Assistant
    history: list[tuple[str, str]] = field(default_factory=list)

    def standalone(self, question: str) -> str:
        """What a follow-up is searched and asked as, so retrieval sees names, not pronouns: rewritten
        by the model with the history, or in the corpus mode the question with the earlier ones beside it."""
        if not self.history:
            return question
        cfg = self.assistant.cfg
        if self.assistant.corpus_context() is not None:
            # With the corpus in its cache a rewriting call would evict it (the server keeps one prompt),
            # and asked after the corpus the model answers instead of rewriting; so the follow-up goes
            # to retrieval and to the model with the earlier questions beside it.
            earlier = " ".join(q for q, _ in self.history[-2:])[-MAX_EARLIER_CHARS:]
            return render(cfg.prompts_dir, "follow_up", question=question, earlier=earlier)
        turns = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in self.history[-MAX_TURNS:])
        prompt = render(cfg.prompts_dir, "condense", history=turns, question=question)
        rewritten = complete(self.assistant.client, cfg, [{"role": "user", "content": prompt}], max_tokens=80)
        rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten.strip() else ""
        if CITATION_RE.search(rewritten) or ABSTAIN_RE.search(rewritten):
            return question  # an answer, not a question: searching for it would find what it claims
        return rewritten

    def stream(self, question: str, **options) -> Iterator[Retrieved | Draft | Answer]:
        """Like Assistant.stream, but follow-ups are condensed first and the turn is remembered."""
        question = check_question(self.assistant.cfg, question)
        search = self.standalone(question)
        for item in self.assistant.stream(search, search_question=search, **options):
            if isinstance(item, Answer):
                item.question = question
                self.history.append((question, item.answer))
            yield item

    def ask(self, question: str, **options) -> Answer:
        """The whole answer at once, remembered in the history."""
        return final_answer(self.stream(question, **options))
