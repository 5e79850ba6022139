"""What `rag ask` and `rag chat` print: the verified answer, its sources and the sentences that support
them, what verification removed (on standard error), and a conversation that survives a failed turn."""

from __future__ import annotations

from click.testing import CliRunner
from llama_index.core.schema import TextNode

from rag.assistant.answer import Answer
from rag.assistant.citations import Citation
from rag.assistant.context import Context, Source
from rag.assistant.retrieve import Retrieval
from rag.console import chat_loop, print_answer
from rag.errors import RagError

PASSAGE = "EMC2 proposes a Markov chain method for contrastive learning. It needs no large batches."


def answer(question: str, text: str, search_question: str = "", **removed: list[int]) -> Answer:
    node = TextNode(id_="paper/emc2", text=PASSAGE, metadata={"kind": "paper", "title": "EMC2"})
    support = ((0, 61, PASSAGE[:61]),)
    citation = Citation(1, ("paper/emc2", "paper/emc2-copy"), "paper", "EMC2", PASSAGE[:40], support)
    return Answer(
        question=question,
        answer=text,
        citations=[citation],
        invalid_citations=removed.get("invalid", []),
        unsupported_citations=removed.get("unsupported", []),
        abstained=False,
        context=Context([Source(1, [node], PASSAGE)]),
        retrieval=Retrieval(question, []),
        model="m",
        search_question=search_question or question,
    )


def test_an_answer_prints_its_sources_with_their_support_and_the_removed_citations_apart():
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        print_answer(answer("What does EMC2 propose?", "A Markov chain method [1].", unsupported=[2], invalid=[7]))
    assert out.getvalue().decode() == (
        "A Markov chain method [1].\n"
        "\nSources:\n"
        "  [1] EMC2 — paper/emc2 (+1 with the same text)\n"
        "      “EMC2 proposes a Markov chain method for contrastive learning.”\n"
    )
    assert err.getvalue().decode() == (
        "\n(removed citations whose source does not support the sentence: [2])\n"
        "\n(removed citations to sources that were not in the context: [7])\n"
    )


class Conversation:
    """Answers from a script, as a ChatSession would after retrieval; a question of "fail" raises."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, str]]] = []

    def ask(self, question: str, *, filters: dict[str, str]) -> Answer:
        self.asked.append((question, filters))
        if question == "fail":
            raise RagError("The model server stopped")
        searched = "Who wrote EMC2?" if question == "Who wrote it?" else question
        return answer(question, "An answer [1].", search_question=searched)


def test_the_chat_loop_keeps_going_after_an_error_and_stops_at_an_empty_line():
    session = Conversation()
    runner = CliRunner()
    with runner.isolation(input="What is EMC2?\nfail\nWho wrote it?\n\nnever asked\n") as (out, err, _):
        chat_loop(session, {"kind": "paper"})
    assert [q for q, _ in session.asked] == ["What is EMC2?", "fail", "Who wrote it?"]
    assert all(filters == {"kind": "paper"} for _, filters in session.asked)
    printed = out.getvalue().decode()
    assert printed.count("An answer [1].") == 2 and "(searched for: Who wrote EMC2?)" in printed
    assert "Error: The model server stopped" in err.getvalue().decode()


def test_the_chat_loop_ends_at_the_end_of_input():
    session = Conversation()
    with CliRunner().isolation(input="What is EMC2?\n"):
        chat_loop(session, {})
    assert [q for q, _ in session.asked] == ["What is EMC2?"]
