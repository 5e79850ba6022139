"""One question → retrieved context → model → verified, cited answer."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace

import openai

from rag.assistant.aggregates import RULES, catalog_answer
from rag.assistant.best_match import RULE as BEST_MATCH
from rag.assistant.best_match import answers_nothing, best_match_answer
from rag.assistant.citations import ABSTAIN_RE, INLINE_CODE_RE, UNCITED, UNSUPPORTED, Citation, Verified, verify
from rag.assistant.citations import RULES as VERIFY_RULES
from rag.assistant.context import Context, build_context, corpus_context, focus
from rag.assistant.doc_lists import DOC_LIST, INLINE_LIST
from rag.assistant.excerpts import excerpt_context
from rag.assistant.listing import FIELD_CHECK, NARROWING, YES_TO_A_LIST
from rag.assistant.llm import complete, make_client, stream_chat
from rag.assistant.names import label_of
from rag.assistant.prompts import answer_messages, example_answers, prompts_fingerprint, system_prompt, worked_examples
from rag.assistant.questions import FOLLOW_UP
from rag.assistant.quote import DENIED_YES, QUOTE, denial_answer, quoted_answer
from rag.assistant.retrieve import HybridRetriever, Retrieval
from rag.assistant.sections import SECTIONS
from rag.assistant.spelling import ABBREVIATIONS, ABSENT, SPELLING
from rag.assistant.text import SENTENCE_BREAK_RE, words
from rag.config import Config
from rag.errors import RagError
from rag.runtime.prefix import restore_prefix, save_prefix
from rag.runtime.server import is_healthy
from rag.runtime.usage import ServerUsage, add_usage, prompt_split

MOVED_CITATION = "moved-citation"  # its name in RAG_DISABLED_RULES: see `retry_accepted`
WORKED_EXAMPLE = "worked-example"  # see `check_reply`
RETRY_CODE = "retry-code"  # see `retry_states_only_held_code`
# The rules of the answer path `rag exam` can switch off for an ablation (RAG_DISABLED_RULES).
SWITCHABLE_RULES = (
    frozenset(RULES)
    | {
        SPELLING,
        ABSENT,
        ABBREVIATIONS,
        BEST_MATCH,
        FOLLOW_UP,
        DENIED_YES,
        MOVED_CITATION,
        WORKED_EXAMPLE,
        RETRY_CODE,
        SECTIONS,
        FIELD_CHECK,
        NARROWING,
        YES_TO_A_LIST,
        DOC_LIST,
        INLINE_LIST,
    }
    | frozenset(VERIFY_RULES)
)
# For fitting the whole corpus in the local server's window: tokens for the system prompt, question and
# template, and a cautious count of characters per token (the bundled guide has ~4.8).
PROMPT_ROOM_TOKENS = 400
CHARS_PER_TOKEN = 3.5


@dataclass
class Answer:
    """The structured result every front end (CLI, chat, UI, exam) consumes."""

    question: str
    answer: str
    citations: list[Citation]
    invalid_citations: list[int]
    unsupported_citations: list[int]
    abstained: bool
    context: Context
    retrieval: Retrieval
    model: str
    timings: dict[str, float] = field(default_factory=dict)
    search_question: str = ""
    # "model", "model, asked again", "model, then closest match", "model, denied by its source" (a "Yes"
    # its source says the other way, written as "No"), "model, chose a passage" (quoted) or "catalog"
    # (a list or count written by code)
    answered_by: str = "model"
    dropped_sentences: list[str] = field(default_factory=list)
    auto_cited: list[int] = field(default_factory=list)
    model_citations: int = 0
    cached: bool = False  # served from the answer cache: same question, filters, index, prompts and model
    rule: str = ""  # the rule of code that wrote the answer ("list", "negation", "best-match", …), if one did

    def retrieved(self) -> list[dict]:
        return retrieved(self.context)

    def as_json(self) -> dict:
        return {
            "question": self.question,
            "search_question": self.search_question or self.question,
            "answer": self.answer,
            "citations": [c.as_json() for c in self.citations],
            "invalid_citations": self.invalid_citations,
            "unsupported_citations": self.unsupported_citations,
            "dropped_sentences": self.dropped_sentences,
            "auto_cited": self.auto_cited,
            "abstained": self.abstained,
            "answered_by": self.answered_by,
            "rule": self.rule,
            "cached": self.cached,
            "retrieved": self.retrieved(),
            "model": self.model,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def retrieved(context: Context) -> list[dict]:
    """The numbered sources, one row each: number, entries, kind, label, retrieval score."""
    return [
        {
            "n": s.n,
            "ids": s.ids,
            "kind": s.kind,
            "label": label_of(s),
            "score": None if s.score is None else round(float(s.score), 4),
        }
        for s in context.shown()
    ]


@dataclass(frozen=True)
class Retrieved:
    """What the model is about to read, yielded as soon as retrieval is done, so it can be shown first."""

    context: Context


@dataclass(frozen=True)
class Draft:
    """The part of an answer being written that is safe to show: whole sentences that passed the
    citation check and the prompt-leak check. Each Draft replaces the one before."""

    text: str


PROMPT_WITHHELD = "I can't share my instructions; ask me about the documents."


def repeats(answer: str, text: str, span: int = 5) -> bool:
    """True when the answer repeats any `span` consecutive words of `text` (the abstention phrase aside)."""

    def said(text: str) -> list[str]:
        return words(ABSTAIN_RE.sub(" | ", text))

    text_words = said(text)
    spans = {tuple(text_words[i : i + span]) for i in range(len(text_words) - span + 1)}
    answer_words = said(answer)
    return any(tuple(answer_words[i : i + span]) in spans for i in range(len(answer_words) - span + 1))


def leaks_prompt(answer: str, system: str, examples: str = "") -> bool:
    """True when the answer repeats the system prompt's instructions: its worked `examples` (answers
    about made-up sources, see `check_reply`) and the format example are meant to be imitated, so
    repeating them is no leak."""
    instructions = system.replace(examples, "") if examples else system
    return repeats(answer, "\n".join(line for line in instructions.splitlines() if not line.startswith("Example")))


def check_question(cfg: Config, question: str) -> str:
    """Strip and bound the question before it costs anything."""
    question = (question or "").strip()
    if not question:
        raise RagError("The question is empty")
    if len(question) > cfg.max_question_chars:
        raise RagError(f"The question is {len(question)} characters long; the limit is {cfg.max_question_chars}")
    return question


class AnswerCache:
    """The last answers, by what they depend on; an identical question is answered again at once."""

    def __init__(self, size: int = 256):
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
            return self._answers.get(key)

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()

    def put(self, key: tuple, answer: Answer) -> None:
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)


class Assistant:
    """Holds the retriever and the model client; safe to share between threads."""

    def __init__(
        self,
        cfg: Config,
        retriever: HybridRetriever | None = None,
        client: openai.OpenAI | None = None,
        notify: Callable[[str], None] | None = None,
    ):
        unknown = cfg.disabled - SWITCHABLE_RULES
        if unknown:
            raise RagError(
                f"Unknown rule(s) in RAG_DISABLED_RULES: {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(SWITCHABLE_RULES))}"
            )
        self.cfg = cfg
        self.retriever = retriever or HybridRetriever(cfg)
        self._client = client
        self._notify = notify  # told what a first model call waits for (a server start, the corpus read)
        self._cache = AnswerCache()
        self._lock = threading.Lock()
        self._corpus: tuple[str, Context | None] | None = None
        self._started_server = False  # set when the last make_client started the local server

    @property
    def client(self) -> openai.OpenAI:
        """The endpoint's client; a local server that has died since (a crash) is started again, and
        gets its prefix back, before the next model call."""
        if self._client is not None and (not self.cfg.uses_local_server or is_healthy(self.cfg)):
            return self._client
        self._client = make_client(self.cfg, self._notify_start)
        if self._started_server:
            self._started_server = False
            self.warm_up()
        return self._client

    def _notify_start(self, message: str) -> None:
        self._started_server = True
        if self._notify is None:
            return
        if self.corpus_context() is not None:
            message += " It restores the saved corpus prefix, or reads every source once (context mode 'corpus')."
        self._notify(message)

    def stream(
        self,
        question: str,
        *,
        filters: dict[str, str] | None = None,
        k: int | None = None,
        mode: str | None = None,
        search_question: str | None = None,
    ) -> Iterator[Retrieved | Draft | Answer]:
        """Yield the Retrieved sources, then Drafts (verified text so far) as the model writes, then the
        verified Answer last.

        What the index metadata answers exactly (a list, a count, one field of a named paper, the
        authors two papers share) is written by code. When the model says the sources do not say
        although it was given sources, it is asked once more without that way out, silently, and the
        second answer is kept only if every sentence of it is verified (`retry_accepted`); failing that (with
        `quote_passages`), a document passage it judges to state the answer is quoted. An identical
        question against the same index, prompts and model is answered from the cache.
        """
        question = check_question(self.cfg, question)
        asked = search_question or question
        started = time.perf_counter()
        retrieval = self.retriever.retrieve(asked, k=k, filters=filters, mode=mode)
        retrieved = build_context(retrieval, self.cfg.context_chars, self.cfg.max_context_entries)
        # What the model reads, and what every answer numbers its sources by: in the corpus mode the
        # whole corpus, so an entry has one number in every answer of a conversation, code's or model's.
        context = self.model_context(retrieval, retrieved, filters)
        yield Retrieved(context)
        timings = {"retrieve_s": retrieval.seconds}
        key = self._cache_key(asked, filters, k, mode, retrieval.version)
        hit = self._cache.get(key)
        if hit is not None:
            timings["total_s"] = time.perf_counter() - started
            yield replace(hit, question=question, timings=timings, cached=True)
            return
        answered_by, rule = "model", ""
        listing = None if filters else catalog_answer(retrieval, context, self.cfg.disabled)
        cited_in = listing.context if listing and listing.context else context  # the sources it cites, as it read them
        # Code wrote it from the metadata: its citations are checked, but its words may all be the question's.
        verified = verify(listing.cited, cited_in) if listing and listing.cited else None
        if listing and (verified is None or verified.clean):
            # Any doubt hands the question to the model, which reads the context retrieval gave.
            verified = replace(verified or Verified("", [], [], False), text=listing.text)
            answered_by, rule, context = "catalog", listing.rule, cited_in
        else:
            verified = yield from self._generate(True, self.cfg.answer_prompt, context, question, asked, timings)
            closest = self._closest_match(asked, context, retrieval) if answers_nothing(verified, asked) else None
            if closest is not None:
                verified, answered_by, rule = closest, "model, then closest match", BEST_MATCH
            elif verified.abstained and not verified.citations and context.sources:
                # Without the way out; the model's "the sources do not say" is a weak signal, the check is strong.
                # With the whole corpus the system prompt stays (another would make the server read it all
                # again) and the retry prompt alone says that a source holds the answer.
                keep = context.fixed  # the corpus mode keeps the system prompt, abstain rule and all
                retry = yield from self._generate(keep, "answer_retry", context, question, asked, timings, show=False)
                if retry_accepted(retry, self.cfg.disabled) and retry_states_only_held_code(
                    retry, context, asked, self.cfg.disabled
                ):
                    verified, answered_by = retry, "model, asked again"
                elif (denied := denial_answer([verified, retry], context, asked, self.cfg.disabled)) is not None:
                    verified, answered_by, rule = denied, "model, denied by its source", DENIED_YES
                elif (quoted := self._quoted(question, asked, context, keep, timings)) is not None:
                    verified, answered_by, rule = quoted, "model, chose a passage", QUOTE
        timings["total_s"] = time.perf_counter() - started
        answer = Answer(
            question=question,
            answer=verified.text,
            citations=verified.citations,
            invalid_citations=verified.invalid,
            unsupported_citations=verified.unsupported,
            abstained=verified.abstained,
            context=context,
            retrieval=retrieval,
            model=self.cfg.model,
            timings=timings,
            search_question=asked,
            answered_by=answered_by,
            rule=rule,
            dropped_sentences=verified.dropped,
            auto_cited=verified.auto_cited,
            model_citations=verified.model_citations,
        )
        self._cache.put(key, answer)
        yield answer

    def _closest_match(self, asked: str, context: Context, retrieval: Retrieval) -> Verified | None:
        """After an abstention, the entry a "which paper is about …" question describes, named by code."""
        if BEST_MATCH in self.cfg.disabled:
            return None
        ranked = [hit.node.node_id for hit in retrieval.hits]
        written = best_match_answer(asked, context, self.retriever.embedder, ranked)
        checked = verify(written, context) if written else None
        return checked if checked is not None and checked.clean else None

    def _quoted(
        self, question: str, asked: str, context: Context, abstain: bool, timings: dict[str, float]
    ) -> Verified | None:
        """After an abstention the second ask did not mend, the passage the model chooses as the answer."""
        if not self.cfg.quote_passages:
            return None
        started = time.perf_counter()
        quoted = quoted_answer(self.client, self.cfg, question, asked, context, self.retriever.embedder, abstain)
        timings["quote_s"] = time.perf_counter() - started
        return quoted

    def model_context(self, retrieval: Retrieval, retrieved: Context, filters: dict[str, str] | None = None) -> Context:
        """What the model reads for a question: in the "corpus" mode (no filters) every entry, followed by
        what retrieval found for this question; with filters, the retrieved sources; for a corpus larger
        than the window, the parts of the retrieved sources closest to the question (`excerpt_chars`)."""
        corpus = self.corpus_context(retrieval.version or None)
        if corpus is None and self.cfg.excerpt_chars:
            return excerpt_context(retrieval, retrieved, self.retriever.embedder, self.cfg.excerpt_chars)
        whole = None if filters else corpus
        if whole is None:
            return retrieved
        return focus(whole, retrieval, retrieved, named=self.cfg.focus_sources, excerpt_chars=self.cfg.focus_chars)

    def corpus_context(self, version: str | None = None) -> Context | None:
        """In the "corpus" context mode, every entry as one fixed context, made once per index version;
        None in the "retrieved" mode or when the corpus does not fit `corpus_context_chars`."""
        if self.cfg.context_mode != "corpus":
            return None
        version = version or self.retriever.refresh()  # a question's retrieval has just refreshed it
        with self._lock:
            if self._corpus is None or self._corpus[0] != version:
                catalog = self.retriever.catalog
                nodes = list(catalog.nodes.values()) if catalog else []
                budget = self.cfg.corpus_context_chars
                if self.cfg.uses_local_server:  # and what the local server's window holds beside the rest
                    room = self.cfg.server_ctx - self.cfg.max_tokens - PROMPT_ROOM_TOKENS
                    budget = min(budget, int(room * CHARS_PER_TOKEN))
                self._corpus = (version, corpus_context(nodes, budget))
            return self._corpus[1]

    def warm_up(self) -> str:
        """Give the model server the prefix every prompt starts with, so a question costs only its own
        tokens: restored from its saved KV cache when there is one, else read now (one token written)
        and saved. In the corpus mode the prefix holds the whole corpus. Another endpoint gets the
        corpus once as a plain request (for its own prompt cache, if it has one) and nothing otherwise:
        slots and saved prefixes are the local server's."""
        context = self.corpus_context()
        if context is None:
            messages = [
                {"role": "system", "content": system_prompt(self.cfg.prompts_dir)},
                {"role": "user", "content": ""},
            ]
        else:
            _, messages = answer_messages(self.cfg.prompts_dir, self.cfg.answer_prompt, context.text(), "")
        if not self.cfg.uses_local_server:
            if context is None:
                return "not needed for another endpoint"
            complete(self.client, self.cfg, messages, max_tokens=1)
            return "read"
        client = self.client
        if restore_prefix(self.cfg, messages):
            return "restored"
        complete(client, self.cfg, messages, max_tokens=1, extra_body={"id_slot": 0})
        return "read and saved" if save_prefix(self.cfg, messages, slot=0) else "read"

    def _cache_key(self, asked: str, filters: dict | None, k: int | None, mode: str | None, version: str) -> tuple:
        """What an answer depends on: the (normalised) question, filters, index version, prompts and model."""
        normal = re.sub(r"\s+", " ", asked.lower()).strip().rstrip("?.! ")
        prompts = prompts_fingerprint(self.cfg.prompts_dir)
        settings = (
            k or self.cfg.top_k,
            mode or self.cfg.retriever,
            self.cfg.answer_prompt,
            self.cfg.context_chars,
            self.cfg.excerpt_chars,
            self.cfg.context_mode,
            self.cfg.quote_passages,
        )
        return (
            normal,
            tuple(sorted((filters or {}).items())),
            version,
            prompts,
            self.cfg.model,
            self.cfg.endpoint,
            settings,
        )

    def _generate(
        self,
        abstain: bool,
        prompt: str,
        context: Context,
        question: str,
        asked: str,
        timings: dict[str, float],
        show: bool = True,
    ) -> Generator[Draft, None, Verified]:
        """Stream one model answer, yielding Drafts of its verified whole sentences (when `show`: an
        answer that may still be rejected as a whole is not shown while it is written); return it verified.
        Without `abstain`, the system prompt leaves out the rule that lets the model say the sources do not say."""
        system, messages = answer_messages(self.cfg.prompts_dir, prompt, context.text(), question, abstain)
        examples = "" if WORKED_EXAMPLE in self.cfg.disabled else worked_examples(self.cfg.prompts_dir)
        copied = example_answers(examples)  # what a reply with no answer of its own copies
        raw, checked, shown, leaked = "", "", "", False
        client = self.client  # (a server started for it here reads its warm-up before this answer's block)
        llm_started = time.perf_counter()
        requests: list[ServerUsage] = []  # what the server read and wrote, as its replies say
        for delta in stream_chat(client, self.cfg, messages, requests):
            timings.setdefault("first_token_s", time.perf_counter() - llm_started)
            timings["output_chunks"] = timings.get("output_chunks", 0) + 1
            raw += delta
            if leaked or not show:
                continue
            complete = _whole_sentences(raw)
            if complete == checked:  # no new whole sentence since the last check
                continue
            checked = complete
            if leaks_prompt(complete, system, examples):
                leaked = True
                continue
            if copied and repeats(complete, copied):
                show = False  # an abstention, as `check_reply` reads it: no more of it is shown
                continue
            draft = verify(complete, context, asked, self.cfg.disabled).text.replace(UNSUPPORTED, "").strip()
            if draft != shown:
                shown = draft
                yield Draft(draft)
        timings["generate_s"] = timings.get("generate_s", 0.0) + time.perf_counter() - llm_started
        for used in requests:
            add_usage(timings, used)
        if not raw.strip():
            raise RagError(f"The model at {self.cfg.shown_endpoint} returned an empty answer")
        return check_reply(raw, system, context, asked, leaked, self.cfg.disabled, examples)

    def ask(self, question: str, **options) -> Answer:
        """The whole answer at once."""
        return final_answer(self.stream(question, **options))

    def prompt_tokens(self, answer: Answer) -> dict[str, int]:
        """The model's prompt for `answer` in tokens by part (system, context, question); empty when code
        wrote the answer or the endpoint cannot count."""
        if not answer.answered_by.startswith("model") or answer.cached:
            return {}
        system = system_prompt(self.cfg.prompts_dir)
        return prompt_split(self.cfg, system, answer.context.text(), answer.question)


def retry_accepted(retry: Verified, disabled: frozenset[str] = frozenset()) -> bool:
    """The second ask's answer is shown only when every sentence of it holds a verified citation.
    Rule "moved-citation" serves second answers that cite a source that does not hold a sentence while
    another does ("… three exceptions … [3]" where [2] says so): a citation code moved to the source
    that holds its sentence is no fault. Switched off (or with "uncited" off, when a sentence that fails
    stays unchecked), any citation that failed rejects the answer."""
    if MOVED_CITATION in disabled or UNCITED in disabled:
        return bool(retry.citations) and retry.clean and not retry.abstained
    return bool(retry.citations) and not (retry.abstained or retry.dropped or retry.invalid)


def retry_states_only_held_code(
    retry: Verified, context: Context, question: str = "", disabled: frozenset[str] = frozenset()
) -> bool:
    """Rule "retry-code" guards against a second ask that invents a value to obey "a source above holds
    the answer" ("use the `timeout` parameter [3]", "the character `#`", for questions the documents
    do not answer): each inline code span of its answer must stand, as written, in a source it cites —
    or be the question's own code, restated ("No, `nargs=-1` is not allowed" for "can I use nargs=-1?"):
    spelt as the question spells it, with a character no plain word has."""
    if RETRY_CODE in disabled:
        return True
    sources = context.by_number()
    cited = [" ".join(sources[c.n].passage.split()) for c in retry.citations if c.n in sources]
    spans = (" ".join(m.group(0).strip("`").split()) for m in INLINE_CODE_RE.finditer(retry.text))
    return all(any(_stands_in(span, text) for text in cited) or _restated(span, question) for span in spans)


def _restated(span: str, question: str) -> bool:
    return re.search(r"[^\w\s]|_|\d", span) is not None and _stands_in(span, question)


def _stands_in(span: str, passage: str) -> bool:
    """Does the passage hold the code span as a whole token: `run` not inside "rerun", and a symbol alone
    (`#`) only as inline code of its own, not as a heading mark or a comment?"""
    if not any(ch.isalnum() for ch in span):
        return f"`{span}`" in passage
    return re.search(rf"(?<!\w){re.escape(span)}(?!\w)", passage) is not None


def check_reply(
    raw: str,
    system: str,
    context: Context,
    asked: str,
    leaked: bool = False,
    disabled: frozenset[str] = frozenset(),
    examples: str = "",
) -> Verified:
    """What may be shown of a model's reply: the prompt withheld if it leaks, else the verified sentences.
    Rule "worked-example" serves replies that copy one of the system prompt's worked `examples` ("No:
    widgets are never recycled [2].") where the model found no answer: such a reply is an abstention,
    so the model is asked again, not told it leaked its instructions. Switched off, a copy counts as a leak."""
    raw = raw.strip()
    if examples and WORKED_EXAMPLE in disabled:
        examples = ""
    if leaked or leaks_prompt(raw, system, examples):
        return Verified(PROMPT_WITHHELD, [], [], abstained=False)
    if examples and repeats(raw, example_answers(examples)):
        return verify(UNSUPPORTED, context, asked, disabled)
    verified = verify(raw, context, asked, disabled)
    if not verified.text.strip():  # every sentence was unsupported; what sources denied still counts
        verified = replace(verify(UNSUPPORTED, context, asked, disabled), denials=verified.denials)
    return verified


def _whole_sentences(text: str) -> str:
    """The text up to its last sentence or line end: what can be checked before the rest is written."""
    ends = [m.start() for m in SENTENCE_BREAK_RE.finditer(text)]
    return text[: ends[-1]] if ends else ""


def final_answer(stream: Iterator[Retrieved | Draft | Answer]) -> Answer:
    """Drain a stream of Drafts and return the Answer it ends with."""
    result = None
    for item in stream:
        if isinstance(item, Answer):
            result = item
    if result is None:
        raise RagError("The answer stream ended without an answer")
    return result
