"""The generic fallback: any text or Markdown file, split by llama-index into chunks."""

from __future__ import annotations

from pathlib import Path

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter

from ingest.entries import Entry, slugify

CHUNK_TOKENS = 256
CHUNK_OVERLAP = 32


def split_text(text: str, source: str, name: str | None = None) -> list[Entry]:
    """Chunk entries that cite their file and character span.

    `name` is the file's path below the ingested folder (default: the file name); ids
    derive from it, suffix included, so same-named files in different folders, and `LICENSE.txt`
    beside `license.md`, get different ids.
    """
    splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP)
    nodes = splitter.get_nodes_from_documents([Document(text=text)])
    name = name or Path(source).name
    stem = "/".join(slugify(part) for part in Path(name).parts)
    entries = []
    for n, node in enumerate(nodes, start=1):
        start, end = node.start_char_idx or 0, node.end_char_idx or 0
        entries.append(
            Entry(
                id=f"chunk/{stem}/{n}",
                kind="chunk",
                title=f"{name} (part {n})",
                text=node.get_content(),
                source=source,
                position=n,
                extra={"start_char": str(start), "end_char": str(end)},
            )
        )
    return entries
