"""The terminal: what the `rag` commands print, the progress bars they show, and the chat loop of `rag chat`."""

from __future__ import annotations

import json
import sys
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

import click

from rag.config import Config
from rag.errors import RagError
from rag.outcome import Outcome

if TYPE_CHECKING:  # the answering code loads only for the commands that answer: start-up stays fast
    from rag.assistant.answer import Answer


def say(message: str) -> None:
    click.echo(message)


def warn(message: str) -> None:
    click.echo(message, err=True)


def progress_bar(total: int, label: str, unit: str = "it") -> AbstractContextManager:
    """A bar on standard error (none when it is not a terminal); bytes are shown as kB, MB, GB."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit=unit, unit_scale=unit == "B", disable=None, file=sys.stderr)


def show(outcome: Outcome) -> None:
    for warning in outcome.warnings:
        warn(warning)
    for line in outcome.lines:
        say(line)


def print_answer(answer: Answer) -> None:
    """The verified text, each cited source with the sentences that support it, and (on standard error)
    the citations verification removed."""
    say(answer.answer)
    if answer.citations:
        say("\nSources:")
        for c in answer.citations:
            ids = c.ids[0] + (f" (+{len(c.ids) - 1} with the same text)" if len(c.ids) > 1 else "")
            say(f"  [{c.n}] {c.label} — {ids}")
            for _, _, sentence in c.support:
                say(f"      “{sentence}”")
    if answer.unsupported_citations:
        warn(f"\n(removed citations whose source does not support the sentence: {answer.unsupported_citations})")
    if answer.invalid_citations:
        warn(f"\n(removed citations to sources that were not in the context: {answer.invalid_citations})")


def ask_and_print(cfg: Config, question: str, filters: dict[str, str], as_json: bool, started: float) -> None:
    """`rag ask`: one answer printed, or as JSON with the timings (`started`: when the command began)."""
    from rag.assistant.answer import Assistant, check_question

    question = check_question(cfg, question)
    assistant = Assistant(cfg, notify=warn)
    startup = time.perf_counter() - started  # from the command's start to the start of retrieval
    # The verified text is printed, not the raw stream, so removed citations never show.
    answer = assistant.ask(question, filters=filters)
    if not as_json:
        print_answer(answer)
        return
    data = answer.as_json()
    data["timings"] |= {"startup_s": round(startup, 3), **assistant.prompt_tokens(answer)}
    say(json.dumps(data, indent=2, ensure_ascii=False))


class Conversation(Protocol):
    """What the chat loop asks: a ChatSession, which remembers the turns."""

    def ask(self, question: str, *, filters: dict[str, str]) -> Answer: ...


def chat_in_terminal(cfg: Config, filters: dict[str, str]) -> None:
    """`rag chat`: the prompt prefix given to the model server first, then questions until an empty line."""
    from rag.runtime.server import begin_server

    begin_server(cfg)  # the model loads while the answering code is imported
    from rag.assistant.answer import Assistant
    from rag.assistant.chat import ChatSession
    from rag.setup import warm_up

    assistant = Assistant(cfg)
    warm_up(assistant)
    say(f"Asking {cfg.model} at {cfg.shown_endpoint}. Empty line or Ctrl-D to quit.")
    chat_loop(ChatSession(assistant), filters)


def chat_loop(session: Conversation, filters: dict[str, str]) -> None:
    """Read a question, print its answer, until an empty line or end of input; an error ends the turn,
    not the conversation."""
    while True:
        try:
            question = click.prompt("\nYou", default="", show_default=False)
        except (EOFError, click.Abort):
            return
        if not question.strip():
            return
        try:
            answer = session.ask(question, filters=filters)
        except RagError as exc:
            warn(f"Error: {exc}")
            continue
        if answer.search_question != answer.question:  # a follow-up, searched as a whole question
            say(f"(searched for: {answer.search_question})")
        print_answer(answer)
