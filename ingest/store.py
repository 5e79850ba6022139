"""Entries → a versioned Chroma collection plus its BM25 index, swapped in atomically.

Every ingest that changes something writes a new physical collection
(`<name>--v<ms>`), copying the vectors of unchanged entries and embedding only new or
changed ones. The new version becomes current only when its metadata is marked
complete, as the very last write; readers always open the newest complete version. A
failed or killed ingest therefore leaves the previous version untouched and queryable.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.config import Config
from rag.errors import NOT_INGESTED, RagError
from rag.ingest.embed import BATCH, MiniLMEmbedding
from rag.ingest.entries import Entry
from rag.locks import file_lock

PAGE = 1000
Progress = Callable[[int], None]


@dataclass(frozen=True)
class IndexVersion:
    """One complete, queryable version of a logical collection."""

    collection: Collection
    name: str
    entries: int

    @property
    def version(self) -> str:
        return self.name.rsplit("--", 1)[-1]


@dataclass
class IngestReport:
    """What one ingest did, for the CLI and the benchmark."""

    version: str
    entries: int
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int
    embed_seconds: float
    total_seconds: float

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _wait_until_unlocked(database: Path, timeout: float, for_writing: bool) -> None:
    """Fail with a clear error instead of hanging when another process holds the database locked.

    Chroma blocks without a word while a lock is held, so probe with SQLite first: a read
    for readers (a running ingest does not block questions), a write lock for writers.
    """
    if not database.exists():
        return
    try:
        probe = sqlite3.connect(
            f"{database.as_uri()}?mode=ro" if not for_writing else str(database),
            uri=True,
            timeout=timeout,
            isolation_level=None,
        )
    except sqlite3.Error:
        return  # unreadable: PersistentClient reports it below
    try:
        if for_writing:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        else:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):
            raise RagError(
                f"The Chroma index in {database.parent} is locked by another process (waited {timeout:g} s); "
                "stop that process or try again"
            ) from exc
    except sqlite3.DatabaseError:
        pass  # corrupt: PersistentClient reports it below
    finally:
        probe.close()


def connect(cfg: Config, for_writing: bool = False) -> ClientAPI:
    """An embedded PersistentClient, or an HttpClient when a Chroma host is configured."""
    settings = Settings(anonymized_telemetry=False)
    if cfg.chroma_host:
        try:
            client = chromadb.HttpClient(host=cfg.chroma_host, port=cfg.chroma_port, settings=settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises plain ValueError/httpx errors here
            raise RagError(
                f"Cannot reach the Chroma server at {cfg.chroma_host}:{cfg.chroma_port}: {_first_line(exc)}"
            ) from exc
        return client
    path = cfg.data_dir / "chroma"
    _wait_until_unlocked(path / "chroma.sqlite3", cfg.lock_timeout, for_writing)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        raise RagError(
            f"Cannot open the Chroma index in {path} (corrupt or locked?): {_first_line(exc)}; "
            "move the folder away and run `rag ingest` again"
        ) from exc


def where(cfg: Config) -> str:
    return f"{cfg.chroma_host}:{cfg.chroma_port}" if cfg.chroma_host else str(cfg.data_dir / "chroma")


def _versions(client: ClientAPI, name: str) -> list[Collection]:
    prefix = f"{name}--v"
    try:
        found = [c for c in client.list_collections() if c.name.startswith(prefix)]
    except Exception as exc:
        raise RagError(f"Cannot list Chroma collections (corrupt index?): {_first_line(exc)}") from exc
    return sorted(found, key=lambda c: int(c.name[len(prefix) :] or 0))


def _is_complete(collection: Collection) -> bool:
    return bool((collection.metadata or {}).get("complete"))


def current_version(cfg: Config, client: ClientAPI | None = None) -> IndexVersion:
    """The newest complete version; RagError if nothing was ingested yet."""
    client = client or connect(cfg)
    complete = [c for c in _versions(client, cfg.collection) if _is_complete(c)]
    if not complete:
        raise RagError(NOT_INGESTED.format(collection=cfg.collection, where=where(cfg)))
    newest = complete[-1]
    return IndexVersion(newest, newest.name, int((newest.metadata or {}).get("entries", 0)))


def entry_nodes(version: IndexVersion) -> list[TextNode]:
    """All nodes of a version (text and metadata), page by page."""
    store = ChromaVectorStore(chroma_collection=version.collection)
    nodes: list[TextNode] = []
    for page in _pages(version):
        nodes.extend(store.get_nodes(node_ids=page["ids"]) if page["ids"] else [])
    return nodes


def _pages(version: IndexVersion, include: list[str] | None = None) -> Iterator[dict]:
    """The version's records, PAGE at a time (a large collection is never read in one call)."""
    for offset in range(0, version.collection.count(), PAGE):
        yield version.collection.get(limit=PAGE, offset=offset, **({"include": include} if include else {}))


def bm25_dir(cfg: Config, version_name: str) -> Path:
    return cfg.data_dir / "bm25" / version_name


@contextmanager
def ingest_lock(cfg: Config, wait: bool = False) -> Iterator[None]:
    """One writer at a time per data directory: an ingest, or a reader building a missing BM25 index.

    An ingest fails at once when the lock is held; a reader (`wait`) waits for it.
    """
    busy = None if wait else f"Another `rag ingest` is running on {cfg.data_dir}; wait for it to finish"
    with file_lock(cfg.data_dir / "ingest.lock", busy=busy):
        yield


def ensure_bm25(cfg: Config, version: IndexVersion) -> Path:
    """The version's BM25 folder; a reader builds it when missing (e.g. a Chroma server ingested elsewhere).

    Under the ingest lock, so two processes opening a new version never build it at once and an
    ingest never cleans up a folder a reader is writing.
    """
    path = bm25_dir(cfg, version.name)
    if not path.exists():
        with ingest_lock(cfg, wait=True):
            if not path.exists():
                build_bm25(cfg, version.name, entry_nodes(version))
    return path


def to_node(entry: Entry, embedding: list[float] | None = None) -> TextNode:
    """The llama-index node for an entry: its id, body text and flat metadata."""
    metadata = entry.metadata()
    return TextNode(
        id_=entry.id,
        text=entry.body(),
        metadata=metadata,
        embedding=embedding,
        # The body already says what matters; don't prepend metadata to text or prompts.
        excluded_embed_metadata_keys=list(metadata),
        excluded_llm_metadata_keys=list(metadata),
    )


def ingest_entries(
    cfg: Config,
    entries: list[Entry],
    embedder: MiniLMEmbedding | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Make `entries` the content of the index, re-embedding only what changed."""
    if not entries:
        raise RagError("Nothing to ingest: the input has no entries")
    started = time.perf_counter()
    embedder = embedder or MiniLMEmbedding()
    client = connect(cfg, for_writing=True)
    with ingest_lock(cfg):
        _drop_incomplete(cfg, client)
        try:
            old: IndexVersion | None = current_version(cfg, client)
        except RagError:
            old = None
        old_vectors = _vectors_by_hash(old) if old else {}
        old_ids = set(old_vectors)
        new_ids = {e.id for e in entries}
        reuse = {e.id: old_vectors[e.id][1] for e in entries if old_vectors.get(e.id, ("", None))[0] == e.content_hash}
        report = IngestReport(
            version=old.version if old else "",
            entries=len(entries),
            added=len(new_ids - old_ids),
            updated=len((new_ids & old_ids) - set(reuse)),
            removed=len(old_ids - new_ids),
            unchanged=len(reuse),
            embedded=0,
            embed_seconds=0.0,
            total_seconds=0.0,
        )
        if old is not None and not report.changed:
            if not bm25_dir(cfg, old.name).exists():
                build_bm25(cfg, old.name, entry_nodes(old))
            report.total_seconds = time.perf_counter() - started
            return report

        name = f"{cfg.collection}--v{time.time_ns() // 1_000_000}"
        collection = client.create_collection(
            name,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"complete": False, "entries": len(entries)},
            embedding_function=None,
        )
        nodes = _write_nodes(collection, entries, reuse, embedder, report, progress)
        build_bm25(cfg, name, nodes)
        # The flip: from here on readers see the new version.
        collection.modify(metadata={"complete": True, "entries": len(entries)})
        report.version = name.rsplit("--", 1)[-1]
        if old is not None:
            _drop(cfg, client, old.name)
        report.total_seconds = time.perf_counter() - started
        return report


def _write_nodes(
    collection: Collection,
    entries: list[Entry],
    reuse: dict[str, list[float]],
    embedder: MiniLMEmbedding,
    report: IngestReport,
    progress: Progress | None,
) -> list[TextNode]:
    store = ChromaVectorStore(chroma_collection=collection)
    vectors = dict(reuse)
    nodes: list[TextNode] = []
    for start in range(0, len(entries), BATCH):
        batch = entries[start : start + BATCH]
        fresh = [e for e in batch if e.id not in vectors]
        if fresh:
            t0 = time.perf_counter()
            embedded = embedder.encode([e.body() for e in fresh]).tolist()
            report.embed_seconds += time.perf_counter() - t0
            report.embedded += len(fresh)
            vectors.update(zip((e.id for e in fresh), embedded, strict=True))
        batch_nodes = [to_node(e, vectors[e.id]) for e in batch]
        store.add(batch_nodes)
        nodes.extend(batch_nodes)
        if progress:
            progress(len(batch))
    return nodes


def build_bm25(cfg: Config, version_name: str, nodes: list[TextNode]) -> Path:
    """Build the BM25 index once per version and persist it next to the Chroma data."""
    from llama_index.retrievers.bm25 import BM25Retriever

    target = bm25_dir(cfg, version_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A private folder, renamed into place whole: nobody ever reads or deletes a half-written index.
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        BM25Retriever(nodes=nodes, similarity_top_k=min(10, len(nodes))).persist(str(partial), show_progress=False)
        partial.rename(target)
    except OSError:
        if not target.exists():  # else another builder finished first: theirs is the same index
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target


def _vectors_by_hash(version: IndexVersion) -> dict[str, tuple[str, list[float]]]:
    out: dict[str, tuple[str, list[float]]] = {}
    for got in _pages(version, include=["metadatas", "embeddings"]):
        for entry_id, meta, vector in zip(got["ids"], got["metadatas"], got["embeddings"], strict=True):
            out[entry_id] = (str((meta or {}).get("content_hash", "")), list(vector))
    return out


def _drop_incomplete(cfg: Config, client: ClientAPI) -> None:
    """Remove what a killed ingest or BM25 build left behind; it was never visible to readers."""
    for collection in _versions(client, cfg.collection):
        if not _is_complete(collection):
            _drop(cfg, client, collection.name)
    for partial in (cfg.data_dir / "bm25").glob(".*"):  # builders hold the lock we hold: these are dead
        shutil.rmtree(partial, ignore_errors=True)


def _drop(cfg: Config, client: ClientAPI, name: str) -> None:
    client.delete_collection(name)
    shutil.rmtree(bm25_dir(cfg, name), ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
