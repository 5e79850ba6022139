"""The retrieved mode's excerpts: the parts of the sources closest to the question, code blocks whole."""

from __future__ import annotations

import re

from llama_index.core.schema import TextNode

from rag.assistant.context import Context, Source
from rag.assistant.excerpts import excerpt_context

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
        node = TextNode(id_=f"chunk/{n}", text=text, metadata={"kind": "chunk", "title": name})
        sources.append(Source(n, [node], text))
    return Context(sources)


def test_the_parts_closest_to_the_question_fill_the_budget_and_other_sources_drop_out():
    context = excerpt_context(_context(), "How do I count a verbose option flag?", WordCounts(), budget_chars=230)
    assert [s.ids for s in context.sources] == [["chunk/1"]]
    assert context.sources[0].n == 1
    passage = context.sources[0].passage
    assert "set `count=True`" in passage and "the count is 0" in passage
    assert "Repeats" not in passage  # the heading path is the source's title already


def test_a_code_block_is_kept_whole_or_not_at_all():
    wide = excerpt_context(_context(), "How do I count a verbose option flag?", WordCounts(), budget_chars=400)
    code = wide.sources[0].passage
    assert '```python\n@click.option("-v", "--verbose", count=True)' in code and code.count("```") == 2
    narrow = excerpt_context(_context(), "How do I count a verbose option flag?", WordCounts(), budget_chars=100)
    assert all(s.passage.count("```") in (0, 2) for s in narrow.sources)
    assert "click.option" not in narrow.text()  # 130 characters of code do not fit in 100


def test_sources_keep_retrieval_order_and_are_numbered_again():
    context = excerpt_context(
        _context(), "install a plugin with pipx, and zsh completion", WordCounts(), budget_chars=105
    )
    assert [s.ids[0] for s in context.sources] == ["chunk/2", "chunk/3"]
    assert [s.n for s in context.sources] == [1, 2]
    assert context.text().startswith("Sources:\n\n[1] Document extras.md")


def test_a_gap_between_kept_parts_is_marked():
    context = excerpt_context(_context(), "How do I count a verbose option flag?", WordCounts(), budget_chars=230)
    assert context.sources[0].passage.endswith("```\n…\nIf the option is not passed, the count is 0.")
