"""Conversation: keep the history and condense follow-ups into standalone questions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.answer import Answer, Assistant, Draft, Retrieved, check_question, final_answer
from assistant.citations import ABSTAIN_RE
from assistant.context import CITATION_RE
from assistant.llm import complete
from assistant.prompts import render

MAX_TURNS = 4


@dataclass
class ChatSession:
    """One conversation; `history` holds (question, answer) pairs, oldest first."""

    assistant: Assistant
    history: list[tuple[str, str]] = field(default_factory=list)

    def standalone(self, question: str) -> str:
        """The question rewritten with the history, so retrieval sees names, not pronouns."""
        if not self.history:
            return question
        turns = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in self.history[-MAX_TURNS:])
        cfg = self.assistant.cfg
        prompt = render(cfg.prompts_dir, "condense", history=turns, question=question)
        rewritten = complete(self.assistant.client, cfg, self.assistant.condense_messages(prompt), max_tokens=80)
        rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten.strip() else ""
        if not rewritten.endswith("?") or CITATION_RE.search(rewritten) or ABSTAIN_RE.search(rewritten):
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
