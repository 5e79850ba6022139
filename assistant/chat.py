"""Conversation: keep the history and make follow-ups searchable (rewritten, or with the earlier questions)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.assistant.answer import Answer, Assistant, Draft, Retrieved, check_question, final_answer
from rag.assistant.citations import ABSTAIN_RE, names_source
from rag.assistant.context import Context, Source
from rag.assistant.llm import complete
from rag.assistant.names import short_name
from rag.assistant.prompts import render
from rag.assistant.questions import name_entries, name_one_of, name_references
from rag.assistant.text import CITATION_RE, cited_numbers

MAX_TURNS = 4
MAX_EARLIER_CHARS = 600


@dataclass
class ChatSession:
    """One conversation; `history` holds (question, answer) pairs, oldest first."""

    assistant: Assistant
    history: list[tuple[str, str]] = field(default_factory=list)

    def standalone(self, question: str) -> str:
        """What a follow-up is searched and asked as, so retrieval sees names, not pronouns: rewritten
        by the model with the history; in the corpus mode "it" becomes the name of the entry the last
        answer cited, or else the question goes with the earlier ones beside it."""
        if not self.history:
            return question
        cfg = self.assistant.cfg
        whole = self.assistant.corpus_context()
        if whole is not None:
            # Asked after the corpus the model answers instead of rewriting, and a rewriting call would cost
            # a second model call. Code names the entry
            # the last answer cited ("Who wrote it?" → "Who wrote “EMC2: …”?"; an entry has one number
            # in every answer of the corpus mode), or else the earlier questions go beside it.
            subject = _only_cited(*self.history[-1], whole)
            people = subject is not None and subject.kind == "paper"
            named = name_references(question, short_name(subject), people) if subject else question
            several = [short_name(s) for s in _cited(self.history[-1][1], whole)]
            if subject is None and len(several) > 1:  # "the second one", "the Gurugram one", "those"
                named = name_one_of(question, several)
                named = name_entries(named, several) if named == question else named
            if named != question:
                return named
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


def _cited(answer: str, context: Context) -> list[Source]:
    """The context's sources an answer cites, in the order it first cites them."""
    sources = context.by_number()
    numbers = dict.fromkeys(n for m in CITATION_RE.finditer(answer) for n in cited_numbers(m))
    return [sources[n] for n in numbers if n in sources]


def _only_cited(question: str, answer: str, context: Context) -> Source | None:
    """The one source an answer cites, if it cites exactly one of the context's and the question or
    answer names it (an answer given under filters numbered what retrieval found, not the corpus)."""
    sources = context.by_number()
    cited = {n for m in CITATION_RE.finditer(answer) for n in cited_numbers(m)}
    source = sources.get(cited.pop()) if len(cited) == 1 else None
    return source if source is not None and names_source(f"{question} {answer}", source) else None
