"""The Gradio chat: a thin layer over `assistant`; it formats, it does not retrieve."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import gradio as gr
from starlette.middleware import Middleware

from rag.assistant.answer import Answer, Assistant, Draft, Retrieved, retrieved
from rag.assistant.chat import ChatSession
from rag.assistant.citations import Citation
from rag.assistant.context import Context
from rag.assistant.present import answer_markdown, code, plain, unescape_answer
from rag.assistant.schema import AREA, AUTHORS, CITY, KIND
from rag.config import Config
from rag.errors import RagError
from rag.ui.headers import SecurityHeaders
from rag.ui.page import corpus_page
from rag.votes import VOTES, feedback_path, record_vote, vote_fields

ALL = "all"
SESSIONS_AT_ONCE = 8
SOURCES_TITLE = "Sources"
CONTEXT_TITLE = "Retrieved context"


def _history_pairs(history: list[dict]) -> list[tuple[str, str]]:
    """(question, answer) pairs from Gradio's messages, skipping the sources/context panels."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for message in history:
        content = message.get("content")
        text = content if isinstance(content, str) else ""
        if message.get("metadata") and (message["metadata"] or {}).get("title"):
            continue
        if message.get("role") == "user":
            question = text
        elif message.get("role") == "assistant" and question is not None:
            pairs.append((question, unescape_answer(text)))
            question = None
    return pairs


def sources_markdown(citations: list[Citation], answer: Answer, turn: str) -> str:
    lines = []
    for c in citations:
        source = answer.context.by_number()[c.n]
        meta = source.nodes[0].metadata
        details = []
        if meta.get(AUTHORS):
            details.append("Authors: " + plain(str(meta[AUTHORS]).replace("; ", ", ")))
        if meta.get(AREA):
            details.append("Area: " + plain(str(meta[AREA])))
        ids = plain(", ".join(c.ids))
        lines.append(
            f'<span id="src-{turn}-{c.n}"></span>**\\[{c.n}\\] {plain(c.label)}** ({plain(c.kind)}; {ids})  \n'
            + ("  \n".join(details) + "  \n" if details else "")
            + "> "
            + highlighted(source.passage, c.support).replace("  \n", "  \n> ")
        )
    return "\n\n".join(lines) or "No source was cited."


def highlighted(passage: str, support: tuple[tuple[int, int, str], ...], limit: int = 700) -> str:
    """The passage as plain text with the sentences that support the answer in bold, cut after `limit`
    characters (or after the last supporting sentence)."""
    end = max([limit, *(stop for _, stop, _ in support)])
    pieces, at = [], 0
    for start, stop, _ in support:
        pieces += [plain(passage[at:start]), f"**{plain(passage[start:stop])}**"]
        at = stop
    pieces.append(plain(passage[at:end]) + ("…" if len(passage) > end else ""))
    return "".join(pieces)


def context_markdown(context: Context) -> str:
    rows = ["| n | kind | entry | score |", "|---|---|---|---|"]
    for item in retrieved(context):
        score = "catalog match" if item["score"] is None else f"{item['score']:.3f}"
        rows.append(f"| {item['n']} | {plain(item['kind'])} | {plain(item['label'])} | {score} |")
    facts = "\n".join(plain(fact) for fact in context.facts)
    return "\n".join(rows) + (f"\n\n{facts}" if facts else "")


Records = dict[int, dict]  # a session's answers by their place in the chat: what a vote on one records


def make_chat_fn(assistant: Assistant):
    """The ChatInterface function: stream the answer, then add sources and context panels; every yield
    also returns the session's answer records, for votes."""

    def respond(
        message: str,
        history: list[dict],
        kind: str,
        area: str,
        city: str,
        records: Records | None,
        last: Context | None = None,
    ) -> Iterator[tuple[list, Records, Context | None]]:
        records = dict(records or {})
        session = ChatSession(assistant, _history_pairs(history), last_context=last)
        for messages in _turn(session, message, history, kind, area, city, records):
            yield messages, records, session.last_context

    def _turn(
        session: ChatSession, message: str, history: list[dict], kind: str, area: str, city: str, records: Records
    ) -> Iterator[list]:
        filters = {k: v for k, v in ((KIND, kind), (AREA, area), (CITY, city)) if v and v != ALL}
        turn = str(len(history))
        try:
            reading: list[gr.ChatMessage] = []
            for item in session.stream(message, filters=filters):
                if isinstance(item, Retrieved):  # the sources first, while the model reads them
                    count = len(item.context.shown())
                    title = f"Reading {count} source{'s' if count != 1 else ''}…"
                    if item.context.fixed:  # the whole corpus, read once; these are the best matches in it
                        title = f"Reading every source; {count} match best…"
                    reading = [
                        gr.ChatMessage(
                            content=context_markdown(item.context),
                            metadata={
                                "title": title,
                                "status": "pending",
                            },
                        )
                    ]
                    yield reading
                    continue
                if isinstance(item, Draft):  # verified whole sentences only; nothing unchecked is shown
                    yield [*reading, gr.ChatMessage(content=answer_markdown(item.text, turn))]
                    continue
                searched = []
                if item.search_question != item.question:
                    searched = [
                        gr.ChatMessage(
                            content=plain(item.search_question), metadata={"title": "Searched for", "status": "done"}
                        )
                    ]
                # The answer's place once the turn is in the chat: after the question and "Searched for".
                records[len(history) + 1 + len(searched)] = vote_fields(item, filters, assistant.cfg)
                yield [
                    *searched,
                    gr.ChatMessage(content=answer_markdown(item.answer, turn)),
                    gr.ChatMessage(
                        content=sources_markdown(item.citations, item, turn),
                        metadata={
                            "title": f"{SOURCES_TITLE} ({len(item.citations)})" + (" · cached" if item.cached else "")
                        },
                    ),
                    gr.ChatMessage(
                        content=context_markdown(item.context),
                        metadata={"title": f"{CONTEXT_TITLE} ({len(item.context.shown())})", "status": "done"},
                    ),
                ]
        except RagError as exc:
            yield [gr.ChatMessage(content=f"⚠️ {code(str(exc))}")]

    return respond


def make_vote_fns(cfg: Config):
    """Handlers for 👍/👎 in the chat (Gradio's like event) and for the `vote` API; both write to the data
    directory's feedback file at once."""
    path = feedback_path(cfg)

    def on_like(records: Records | None, comment: str, data: gr.LikeData) -> tuple[str, str]:
        records = records or {}
        index = data.index if isinstance(data.index, int) else data.index[0]
        answers = [i for i in records if i <= index]  # a vote on a panel counts for the answer above it
        if not answers or data.liked not in (True, False):
            return comment, "Votes count on answers."
        record_vote(path, records[max(answers)], "up" if data.liked else "down", comment or "")
        return "", "Vote recorded" + (" with your comment" if (comment or "").strip() else "") + ". Thank you."

    def vote_last(vote: str, comment: str, records: Records | None) -> tuple[str, str]:
        if vote not in VOTES:
            raise gr.Error(f"vote must be one of {', '.join(VOTES)}")
        if not records:
            raise gr.Error("There is no answer to vote on yet")
        record_vote(path, records[max(records)], vote, comment or "")
        return "", "Vote recorded. Thank you."

    return on_like, vote_last


def build_app(cfg: Config, assistant: Assistant) -> gr.Blocks:
    """The whole app; `assistant` is shared by all sessions (it is thread-safe)."""
    assistant.retriever.refresh()
    catalog = assistant.retriever.catalog
    assert catalog is not None
    page = corpus_page((node.metadata for node in catalog.nodes.values()), cfg.collection)
    with gr.Blocks(title=page.heading, analytics_enabled=False) as app:
        gr.Markdown(
            f"## {plain(page.heading)}\nAnswers cite the entries they come from; open **Sources** under an "
            f"answer to check them. Model: `{cfg.model}` at `{cfg.shown_endpoint}`."
        )
        # Only the controls this index has a use for: no area or city filter for a folder of documents.
        with gr.Row(visible=bool(page.kinds or page.areas or page.cities)):
            kind = gr.Radio([ALL, *page.kinds], value=ALL, label="Search in", visible=bool(page.kinds))
            area = gr.Dropdown([ALL, *page.areas], value=ALL, label="Research area", visible=bool(page.areas))
            city = gr.Dropdown([ALL, *page.cities], value=ALL, label="City", visible=bool(page.cities))
        records = gr.State({})
        last = gr.State(None)  # the last answer's sources, which a follow-up's "it" may name
        chatbot = gr.Chatbot(height=560, label="Chat", elem_id="chat", feedback_options=("Like", "Dislike"))
        gr.ChatInterface(
            make_chat_fn(assistant),
            chatbot=chatbot,
            additional_inputs=[kind, area, city, records, last],
            additional_outputs=[records, last],
            # Without filter values the examples show inside the chat, and a click keeps the filters as set.
            examples=[[q, None, None, None, None, None] for q in page.examples] or None,
            api_name="chat",
            # Several sessions retrieve and show sources at once; the model calls themselves wait in
            # one line shared with the API and every other caller (rag.assistant.llm.model_slot).
            concurrency_limit=SESSIONS_AT_ONCE,
        )
        with gr.Row():
            comment = gr.Textbox(
                label="Comment (optional): sent with your next thumbs up or down on an answer",
                max_length=2000,
                scale=4,
                elem_id="comment",
            )
            status = gr.Markdown(elem_id="vote-status")
        on_like, vote_last = make_vote_fns(cfg)
        chatbot.like(on_like, [records, comment], [comment, status], api_visibility="undocumented", queue=False)
        # For scripts and tests: a vote on the session's last answer (`vote` is "up" or "down").
        vote = gr.Radio(list(VOTES), visible=False)
        gr.Button(visible=False).click(vote_last, [vote, comment, records], [comment, status], api_name="vote")
    return app


def launch(
    cfg: Config,
    host: str,
    port: int,
    auth: list[tuple[str, str]] | None = None,
    prevent_thread_lock: bool = False,
) -> gr.Blocks:
    """Build and start the app; a non-loopback host needs `auth` (see `rag.ui.logins.chat_logins`)."""
    assistant = Assistant(cfg)
    # The corpus prefix (context mode "corpus") is read while the page loads, not on the first question.
    threading.Thread(target=_quietly, args=(assistant.warm_up,), daemon=True).start()
    return serve(build_app(cfg, assistant), host, port, auth, prevent_thread_lock)


def _quietly(task: Callable[[], None]) -> None:
    with contextlib.suppress(RagError):  # a head start only: the first question does the same work
        task()


def serve(
    app: gr.Blocks,
    host: str,
    port: int,
    auth: list[tuple[str, str]] | None = None,
    prevent_thread_lock: bool = False,
) -> gr.Blocks:
    """Start a built app with a bounded queue and the page's security headers."""
    app.queue(max_size=100)
    app.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=prevent_thread_lock,
        auth=auth or None,
        show_error=False,  # an unexpected exception stays in the server log, not in a client's page
        max_file_size="1kb",  # the chat takes no uploads
        app_kwargs={"middleware": [Middleware(SecurityHeaders)]},
    )
    return app
