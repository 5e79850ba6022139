"""Re-ingest is idempotent and atomic, against a real embedded Chroma."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.retrieve import HybridRetriever
from ingest.embed import MiniLMEmbedding
from ingest.load import load_entries
from ingest.store import current_version, ingest_entries
from rag.config import Config
from rag.errors import RagError
from tests.conftest import FIXTURES


class BrokenEmbedding(MiniLMEmbedding):
    """A fault at the boundary: the embedding model fails part-way through an ingest."""

    def encode(self, texts):
        raise RuntimeError("embedding model crashed")


def test_reingest_embeds_only_what_changed(store_cfg: Config, embedder, corpus_entries):
    first = ingest_entries(store_cfg, corpus_entries, embedder=embedder)
    assert (first.added, first.embedded) == (35, 35)

    again = ingest_entries(store_cfg, corpus_entries, embedder=embedder)
    assert not again.changed and again.embedded == 0 and again.version == first.version

    edited = [
        replace(e, title=e.title + " (revised)") if e.kind == "paper" and e.area == "Privacy" else e
        for e in corpus_entries
    ]
    dropped = [e for e in edited if e.city != "Gurugram"]
    third = ingest_entries(store_cfg, dropped, embedder=embedder)
    assert (third.updated, third.removed, third.added, third.embedded) == (2, 1, 0, 2)
    version = current_version(store_cfg)
    assert version.entries == 34 and version.collection.count() == 34
    assert version.collection.get(ids=["posting/icml-2024/gurugram-1"])["ids"] == []


def test_failed_reingest_leaves_previous_index_queryable(store_cfg: Config, embedder, corpus_entries):
    ingest_entries(store_cfg, corpus_entries, embedder=embedder)
    before = current_version(store_cfg).name
    notes = load_entries([FIXTURES / "notes.md"])
    with pytest.raises(RuntimeError, match="embedding model crashed"):
        ingest_entries(store_cfg, corpus_entries + notes, embedder=BrokenEmbedding())
    assert current_version(store_cfg).name == before
    hits = HybridRetriever(store_cfg, embedder=embedder).retrieve("EMC2 contrastive learning").hits
    assert hits[0].node.node_id.startswith("paper/emc2")
    # The next good ingest cleans up the half-written version.
    ingest_entries(store_cfg, corpus_entries + notes, embedder=embedder)
    assert current_version(store_cfg).entries == 35 + len(notes)


def test_query_before_ingest_says_what_to_do(store_cfg: Config, embedder):
    with pytest.raises(RagError, match="run `rag ingest` first"):
        HybridRetriever(store_cfg, embedder=embedder).retrieve("anything")


def test_fallback_reader_splits_markdown_with_positions():
    entries = load_entries([FIXTURES / "notes.md"])
    assert entries and all(e.kind == "chunk" for e in entries)
    assert entries[0].id == "chunk/notes/1" and entries[0].source.endswith("notes.md")
    assert "on-call rotation" in " ".join(e.text for e in entries)
    assert int(entries[0].extra["end_char"]) > int(entries[0].extra["start_char"])
