"""Re-ingest is idempotent and atomic, against a real embedded Chroma."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from rag.assistant.retrieve import HybridRetriever
from rag.config import Config, load_config
from rag.errors import RagError
from rag.ingest.embed import MiniLMEmbedding
from rag.ingest.load import load_entries
from rag.ingest.store import bm25_dir, current_version, ingest_entries, ingest_lock
from tests.conftest import FIXTURES


class BrokenEmbedding(MiniLMEmbedding):
    """A fault at the boundary: the embedding model fails part-way through an ingest."""

    def encode(self, texts):
        raise RuntimeError("embedding model crashed")


def test_reingest_embeds_only_what_changed(store_cfg: Config, embedder, mini_entries):
    first = ingest_entries(store_cfg, mini_entries, embedder=embedder)
    assert (first.added, first.embedded) == (13, 13)

    again = ingest_entries(store_cfg, mini_entries, embedder=embedder)
    assert not again.changed and again.embedded == 0 and again.version == first.version

    edited = [  # Priya Raghunathan's two papers are retitled, the Amsterdam posting is dropped
        replace(e, title=e.title + " (revised)") if "Priya Raghunathan" in e.authors else e for e in mini_entries
    ]
    dropped = [e for e in edited if e.city != "Amsterdam"]
    third = ingest_entries(store_cfg, dropped, embedder=embedder)
    assert (third.updated, third.removed, third.added, third.embedded) == (2, 1, 0, 2)
    version = current_version(store_cfg)
    assert version.entries == 12 and version.collection.count() == 12
    assert version.collection.get(ids=["posting/sigmetrics-2031/amsterdam-1"])["ids"] == []


def test_failed_reingest_leaves_previous_index_queryable(store_cfg: Config, embedder, mini_entries):
    ingest_entries(store_cfg, mini_entries, embedder=embedder)
    before = current_version(store_cfg).name
    notes = load_entries([FIXTURES / "notes.md"])
    with pytest.raises(RuntimeError, match="embedding model crashed"):
        ingest_entries(store_cfg, mini_entries + notes, embedder=BrokenEmbedding())
    assert current_version(store_cfg).name == before
    hits = HybridRetriever(store_cfg, embedder=embedder).retrieve("TIDEGRAPH streaming graph partitioning").hits
    assert hits[0].node.node_id.startswith("paper/tidegraph")
    # The next good ingest cleans up the half-written version.
    ingest_entries(store_cfg, mini_entries + notes, embedder=embedder)
    assert current_version(store_cfg).entries == 13 + len(notes)


def test_query_before_ingest_says_what_to_do(store_cfg: Config, embedder):
    with pytest.raises(RagError, match="run `rag ingest` first"):
        HybridRetriever(store_cfg, embedder=embedder).retrieve("anything")


def test_fallback_reader_splits_plain_text_with_positions(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text((FIXTURES / "notes.md").read_text())
    entries = load_entries([notes])
    assert entries and all(e.kind == "chunk" for e in entries)
    assert entries[0].id == "chunk/notes-txt/1" and entries[0].source.endswith("notes.txt")
    assert "on-call rotation" in " ".join(e.text for e in entries)
    assert int(entries[0].extra["end_char"]) > int(entries[0].extra["start_char"])


def test_markdown_chunks_are_titled_by_file_and_heading():
    entries = load_entries([FIXTURES / "notes.md"])
    assert entries[0].id == "chunk/notes-md/1"
    assert all(e.title.startswith("notes.md") for e in entries)
    assert "on-call rotation" in " ".join(e.text for e in entries)


# A reader process: open the newest version's BM25 index (building it if missing), print its size.
OPEN_BM25 = """
import sys
from pathlib import Path
from llama_index.retrievers.bm25 import BM25Retriever
from rag.ingest.store import current_version, ensure_bm25
from rag.config import load_config
cfg = load_config(env={}, data_dir=Path(sys.argv[1]))
print(len(BM25Retriever.from_persist_dir(str(ensure_bm25(cfg, current_version(cfg)))).corpus))
"""


def _open_bm25(data_dir: Path) -> subprocess.Popen:
    root = Path(__file__).parents[1]
    return subprocess.Popen(
        [sys.executable, "-c", OPEN_BM25, str(data_dir)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_readers_build_a_missing_bm25_index_under_the_ingest_lock(tmp_path, embedder, mini_entries):
    cfg = load_config(env={}, data_dir=tmp_path / "data")
    ingest_entries(cfg, mini_entries, embedder=embedder)
    folder = bm25_dir(cfg, current_version(cfg).name)
    shutil.rmtree(folder)  # as when the Chroma server was filled from another machine

    with ingest_lock(cfg):  # an ingest is running: readers wait instead of building beside it
        waiting = _open_bm25(cfg.data_dir)
        time.sleep(3)
        assert waiting.poll() is None and not folder.exists()
    assert waiting.communicate(timeout=120)[0].strip() == "13"

    shutil.rmtree(folder)
    readers = [_open_bm25(cfg.data_dir) for _ in range(2)]  # two processes open the new version at once
    results = [reader.communicate(timeout=120) for reader in readers]
    assert [r.returncode for r in readers] == [0, 0], [err for _, err in results]
    assert [out.strip() for out, _ in results] == ["13", "13"]
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no private build folder left
