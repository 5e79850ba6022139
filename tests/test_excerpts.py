"""The retrieved mode's excerpts: the parts of the sources closest to the question, code blocks whole."""

from __future__ import annotations

import re

from llama_index.core.schema import TextNode

from rag.assistant.catalog import Match
from rag.assistant.context import Context, Source
from rag.assistant.excerpts import Part, excerpt_context, similarities
from rag.assistant.questions import clauses
from rag.assistant.retrieve import Retrieval

VOCABULARY = "count option verbose flag plugin install pipx shell completion zsh bash group command".split()


class WordCounts:
    """A stand-in embedder whose vectors count the vocabulary's words: cosine is word overlap."""

    def _vector(self, text: str) -> list[float]:
        words = re.findall(r"[a-z]+", text.lower())
        return [float(sum(w.startswith(v) for w in words)) for v in VOCABULARY]

    def get_text_embedding_batch(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def get_query_embedding(self, text: str) -> list[float]:
        return self._vector(text)


COUNTING = """Repeats
Some tools print more with every repeated flag.
To count the occurrence of an option, set `count=True`:

```python
@click.option("-v", "--verbose", count=True)
def log(verbose):
    click.echo(f"Verbosity: {verbose}")
```

Any name works for the parameter.
If the option is not passed, the count is 0."""
PLUGINS = """Add-ons
Plugins are packages on PyPI. Install them with pipx inject.
Nothing else in this section is about options."""
SHELL = """Terminal
Completion works in bash, zsh and fish. Add the eval line to your shell's startup file."""


def _context() -> Context:
    sources = []
    for n, (name, text) in enumerate(
        [
            ("guide.md › Repeats", COUNTING),
            ("extras.md › Add-ons", PLUGINS),
            ("setup.md › Terminal", SHELL),
        ],
        start=1,
    ):
        node = TextNode(
            id_=f"chunk/{n}", text=text, metadata={"kind": "chunk", "title": name, "section": name.split(" › ")[-1]}
        )
        sources.append(Source(n, [node], text))
    return Context(sources)


def _asked(question: str) -> Retrieval:
    return Retrieval(question, [])


def test_the_parts_closest_to_the_question_fill_the_budget_and_other_sources_drop_out():
    context = excerpt_context(
        _asked("How do I count a verbose option flag?"), _context(), WordCounts(), budget_chars=230
    )
    assert [s.ids for s in context.sources] == [["chunk/1"]]
    assert context.sources[0].n == 1
    passage = context.sources[0].passage
    assert "set `count=True`" in passage and "the count is 0" in passage
    assert "Repeats" not in passage  # the heading path is the source's title already


def test_a_code_block_is_kept_whole_or_not_at_all():
    wide = excerpt_context(_asked("How do I count a verbose option flag?"), _context(), WordCounts(), budget_chars=400)
    code = wide.sources[0].passage
    assert '```python\n@click.option("-v", "--verbose", count=True)' in code and code.count("```") == 2
    narrow = excerpt_context(
        _asked("How do I count a verbose option flag?"), _context(), WordCounts(), budget_chars=100
    )
    assert all(s.passage.count("```") in (0, 2) for s in narrow.sources)
    assert "click.option" not in narrow.text()  # 130 characters of code do not fit in 100


def test_sources_keep_retrieval_order_and_are_numbered_again():
    context = excerpt_context(
        _asked("install a plugin with pipx, and zsh completion"), _context(), WordCounts(), budget_chars=105
    )
    assert [s.ids[0] for s in context.sources] == ["chunk/2", "chunk/3"]
    assert [s.n for s in context.sources] == [1, 2]
    assert context.text().startswith("Sources:\n\n[1] Document extras.md")


def test_a_gap_between_kept_parts_is_marked():
    context = excerpt_context(
        _asked("How do I count a verbose option flag?"), _context(), WordCounts(), budget_chars=230
    )
    assert context.sources[0].passage.endswith("```\n…\nIf the option is not passed, the count is 0.")


def test_guide_entries_stay_whole_and_the_index_facts_follow_the_new_numbers():
    paper_text = "Paper: Counting sketches\nAuthors: Ana Ruiz, Bo Li\nA study of approximate counts."
    paper = TextNode(id_="paper/9", text=paper_text, metadata={"kind": "paper", "title": "Counting sketches"})
    context = _context()
    context = Context([context.sources[1], Source(2, [paper], paper_text)])  # the plugins section, then a paper
    asked = Retrieval("Which papers did Bo Li write about counting?", [], [Match("author", "Bo Li", ("paper/9",))])
    excerpted = excerpt_context(asked, context, WordCounts(), budget_chars=100)
    assert [s.ids for s in excerpted.sources] == [["paper/9"]]  # no part of the plugins section is about it
    assert excerpted.sources[0].passage == paper_text and excerpted.sources[0].n == 1
    assert excerpted.facts == ["- Entries by author Bo Li: 1 paper: Counting sketches [1]"]


def test_a_hard_wrapped_sentence_is_one_part_and_list_items_keep_their_lines():
    """Docs wrapped at a fixed width (most Markdown and reST): a sentence split over lines is kept or
    dropped as a whole, so the model never reads "any positive integer, but not -1." without its subject."""
    wrapped = (
        "Options\nA zsh option can take `nargs` values, and nargs can be\nany positive integer, but not -1.\n"
        "Plugins are unrelated.\n- install with pipx\n- or with pip"
    )
    node = TextNode(
        id_="chunk/1", text=wrapped, metadata={"kind": "chunk", "title": "options.md › Options", "section": "Options"}
    )
    context = Context([Source(1, [node], wrapped)])
    excerpted = excerpt_context(_asked("zsh option nargs"), context, WordCounts(), budget_chars=100)
    assert excerpted.sources[0].passage == (
        "A zsh option can take `nargs` values, and nargs can be any positive integer, but not -1."
    )
    listed = excerpt_context(_asked("install with pipx"), context, WordCounts(), budget_chars=20)
    assert listed.sources[0].passage == "- install with pipx"


def test_a_question_asking_two_things_is_read_as_its_clauses():
    assert clauses("how do I count -vvv flags and what's the value when it isn't passed?") == [
        "how do I count -vvv flags",
        "what's the value when it isn't passed?",
    ]
    assert clauses("can an option read an env var, and what if I give it several?")[1] == "what if I give it several?"
    assert clauses("What is a group? How do I add a command to it?") == [
        "What is a group",
        "How do I add a command to it?",
    ]
    # "and" between names, kinds or a short tail is not a second question
    assert clauses("Who wrote MADA and COLLAGE?") == ["Who wrote MADA and COLLAGE?"]
    assert clauses("which papers and postings are about speech?") == ["which papers and postings are about speech?"]
    assert clauses("how many shells? and which?") == ["how many shells and which?"]


def test_a_part_that_answers_the_second_clause_scores_by_that_clause():
    part = Part(0, 0, "Completion works in bash, zsh and fish.", False)
    asked = "how do I count a verbose option, and which shell has completion?"
    # WordCounts: the part shares "completion" with the clause (1 of 2 words) and with the whole question (1 of 5)
    by_clause = similarities(asked, [part], [""], WordCounts())[0]
    whole = similarities("how do I count a verbose option which shell has completion?", [part], [""], WordCounts())[0]
    assert by_clause > whole
    assert round(float(by_clause), 3) == round(1 / (3**0.5 * 2**0.5), 3)


def test_a_sentence_pointing_back_scores_as_the_one_before_it():
    # "To change this, pass …" holds the answer but none of the question's words.
    text = "Groups\nBy default a group with no command shows its help. To change this, pass `run_bare=True`. Unrelated."
    parts = [Part(0, k, s, False) for k, s in enumerate(text.split("\n")[1].split(". "))]
    scores = similarities("what does a group with no command show?", parts, ["docs.md › Groups"], WordCounts())
    assert scores[1] == scores[0] > scores[2]
    alone = similarities("what does a group with no command show?", parts[1:], ["docs.md › Groups"], WordCounts())
    assert alone[0] < scores[1]
