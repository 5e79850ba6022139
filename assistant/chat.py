"""Conversation: keep the history and make follow-ups searchable: entries named by code, or the earlier
questions beside (the corpus mode), or rewritten by the model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.assistant.answer import Answer, Assistant, Draft, Retrieved, check_question, final_answer
from rag.assistant.citations import ABSTAIN_RE, names_source
from rag.assistant.context import Context, Source
from rag.assistant.llm import complete
from rag.assistant.names import short_name
from rag.assistant.prompts import render
from rag.assistant.questions import FOLLOW_UP, name_entries, name_one_of, name_references
from rag.assistant.schema import KIND_NOUNS, PAPER
from rag.assistant.text import CITATION_RE, cited_numbers

MAX_TURNS = 4
MAX_EARLIER_CHARS = 600


@dataclass
class ChatSession:
    """One conversation; `history` holds (question, answer) pairs, oldest first."""

    assistant: Assistant
    history: list[tuple[str, str]] = field(default_factory=list)
    last_context: Context | None = None  # what the last answer's citation numbers refer to

    def standalone(self, question: str) -> str:
        """What a follow-up is searched and asked as, so retrieval sees names, not pronouns. Code does it
        where it can, without a second model call: "it" becomes the entry the last answer cited, "the
        second one" or "those" the entries it cited; else, in the corpus mode, the question goes with
        the earlier ones beside it (a rewriting call would cost the cached corpus), and over retrieved
        excerpts the model rewrites it from the history. With the `follow-up` rule switched off, the
        model rewrites every follow-up."""
        if not self.history:
            return question
        cfg = self.assistant.cfg
        if FOLLOW_UP in cfg.disabled:
            return self._rewritten(question)
        # The numbers of the last answer are those of the context it was given (the corpus, in the corpus
        # mode without filters); a history without it (written by hand) numbers the corpus.
        whole = self.assistant.corpus_context()
        context = self.last_context or whole
        named = _named(question, *self.history[-1], context) if context is not None else question
        if named != question:
            return named
        if whole is None:
            # Over retrieved excerpts, with the earlier questions beside it a small model tends to answer
            # the earlier question again; a rewritten question stands alone (eval/README.md).
            return self._rewritten(question)
        earlier = " ".join(q for q, _ in self.history[-2:])[-MAX_EARLIER_CHARS:]
        return render(cfg.prompts_dir, "follow_up", question=question, earlier=earlier)

    def _rewritten(self, question: str) -> str:
        """The follow-up as the model rewrites it from the conversation (the condense prompt)."""
        cfg = self.assistant.cfg
        turns = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in self.history[-MAX_TURNS:])
        prompt = render(cfg.prompts_dir, "condense", history=turns, question=question)
        rewritten = complete(self.assistant.client, cfg, [{"role": "user", "content": prompt}], max_tokens=80)
        rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten.strip() else ""
        if CITATION_RE.search(rewritten) or ABSTAIN_RE.search(rewritten):
            return question  # an answer, not a question: searching for it would find what it claims
        return rewritten or question

    def stream(self, question: str, **options) -> Iterator[Retrieved | Draft | Answer]:
        """Like Assistant.stream, but follow-ups are made searchable first and the turn is remembered."""
        question = check_question(self.assistant.cfg, question)
        search = self.standalone(question)
        for item in self.assistant.stream(search, search_question=search, **options):
            if isinstance(item, Answer):
                item.question = question
                self.history.append((question, item.answer))
                self.last_context = item.context
            yield item

    def ask(self, question: str, **options) -> Answer:
        """The whole answer at once, remembered in the history."""
        return final_answer(self.stream(question, **options))


def _named(question: str, last_question: str, last_answer: str, context: Context) -> str:
    """The follow-up with the entries of the last answer named in it: "Who wrote it?" → "Who wrote
    “EMC2: …”?", "the Gurugram one" → "the Gurugram posting"; as it is when it refers to none. Only
    entries people name (papers, postings): "it" after a documentation section is rarely the section."""
    subject = _only_cited(last_question, last_answer, context)
    if subject is not None and subject.kind in KIND_NOUNS:
        return name_references(question, short_name(subject), people=subject.kind == PAPER)
    several = [short_name(s) for s in _cited(last_answer, context) if s.kind in KIND_NOUNS]
    if subject is None and len(several) > 1:  # "the second one", "the Gurugram one", "those"
        named = name_one_of(question, several)
        return name_entries(named, several) if named == question else named
    return question


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
