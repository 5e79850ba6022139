"""Hybrid retrieval: dense (Chroma) and BM25 fused by llama-index, plus catalog look-ups."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import BaseNode, NodeWithScore
from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.retrievers.bm25 import BM25Retriever
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.assistant.catalog import Catalog, Match
from rag.assistant.schema import KIND
from rag.assistant.spelling import Abbreviations, Speller, read_question
from rag.config import RETRIEVERS, Config
from rag.errors import RagError
from rag.ingest.embed import MiniLMEmbedding
from rag.ingest.store import IndexVersion, connect, current_version, ensure_bm25


@dataclass
class Retrieval:
    """What retrieval found for one question."""

    question: str
    hits: list[NodeWithScore]
    matches: list[Match] = field(default_factory=list)
    expanded: list[BaseNode] = field(default_factory=list)
    seconds: float = 0.0
    version: str = ""
    catalog_ids: tuple[str, ...] | None = None  # every entry the filters allow, for whole-index answers
    absent: tuple[str, ...] = ()  # names and numbers of the question that the index never mentions
    catalog: Catalog | None = field(default=None, repr=False, compare=False)  # for what code reads beyond the hits


class HybridRetriever:
    """Loads the current index version once and reloads when a new version appears."""

    def __init__(self, cfg: Config, embedder: MiniLMEmbedding | None = None):
        self.cfg = cfg
        self.embedder = embedder or MiniLMEmbedding()
        self._client = connect(cfg)
        self._lock = threading.Lock()
        self._version = ""
        self._bm25: BM25Retriever | None = None
        self._index: VectorStoreIndex | None = None
        self.catalog: Catalog | None = None
        self.speller: Speller | None = None
        self.abbreviations: Abbreviations | None = None

    def refresh(self) -> str:
        """Make sure the newest complete version is loaded; returns its name."""
        version = current_version(self.cfg, self._client)
        if version.name == self._version:
            return self._version
        with self._lock:
            if version.name != self._version:
                try:
                    self._load(version)
                except RagError:
                    # An ingest may have replaced this version while it was loading: load the new one.
                    newer = current_version(self.cfg, self._client)
                    if newer.name == version.name:
                        raise
                    self._load(newer)
        return self._version

    def _load(self, version: IndexVersion) -> None:
        path = ensure_bm25(self.cfg, version)
        try:
            bm25 = BM25Retriever.from_persist_dir(str(path))
        except (OSError, ValueError, KeyError) as exc:
            raise RagError(f"BM25 index in {path} is unreadable; run `rag ingest` again") from exc
        store = ChromaVectorStore(chroma_collection=version.collection)
        self._index = VectorStoreIndex.from_vector_store(store, embed_model=self.embedder)
        self._bm25 = bm25
        self.catalog = Catalog(_bm25_nodes(bm25))
        self.speller = self.catalog.speller()
        self.abbreviations = self.catalog.abbreviations()
        self._version = version.name

    def check_filters(self, filters: dict[str, str]) -> None:
        """Reject filter values that match nothing in the index, naming what exists."""
        assert self.catalog is not None
        for key, value in filters.items():
            known = self.catalog.values.get(key, set())
            if key != KIND and value not in known:
                sample = ", ".join(sorted(known)[:8]) or "none"
                raise RagError(f"No entries with {key}={value!r}; known values include: {sample}")

    def retrieve(
        self, question: str, k: int | None = None, filters: dict[str, str] | None = None, mode: str | None = None
    ) -> Retrieval:
        """Top-k fused hits plus every entry the question names through the catalog."""
        started = time.perf_counter()
        version = self.refresh()
        filters = filters or {}
        self.check_filters(filters)
        k = k or self.cfg.top_k
        mode = mode or self.cfg.retriever
        if mode not in RETRIEVERS:
            raise RagError(f"Unknown retriever '{mode}'; use one of {', '.join(RETRIEVERS)}")
        assert self.catalog is not None and self.speller is not None
        question, absent = read_question(
            question, self.speller, self.abbreviations, self.catalog.codes, self.cfg.disabled
        )
        allowed = self.catalog.allowed(filters)
        if allowed is not None and not allowed:
            return Retrieval(question, [], seconds=time.perf_counter() - started, version=version)
        hits = self._retriever(mode, k, filters).retrieve(question)
        # BM25's filter mask only zeroes scores, so masked entries can still come back.
        hits = [h for h in hits if allowed is None or h.node.node_id in allowed]
        # Equal scores (identical postings) in the order of their ids, not of the process's hashing.
        hits = sorted(hits, key=lambda h: (-(h.score or 0.0), h.node.node_id))[:k]
        matches = self.catalog.find(question)
        seen = {h.node.node_id for h in hits}
        expanded: list[BaseNode] = []
        for match in matches:
            if match.field == KIND:  # a whole kind is counted in the facts, not pasted in
                continue
            for entry_id in match.ids:
                if entry_id not in seen and (allowed is None or entry_id in allowed):
                    seen.add(entry_id)
                    expanded.append(self.catalog.nodes[entry_id])
        everything = tuple(i for i in self.catalog.nodes if allowed is None or i in allowed)
        seconds = time.perf_counter() - started
        return Retrieval(question, hits, matches, expanded, seconds, version, everything, absent, self.catalog)

    def _retriever(self, mode: str, k: int, filters: dict[str, str]) -> BaseRetriever:
        assert self._index is not None and self._bm25 is not None
        metadata_filters = (
            MetadataFilters(
                filters=[
                    MetadataFilter(key=key, value=value, operator=FilterOperator.EQ) for key, value in filters.items()
                ]
            )
            if filters
            else None
        )
        dense = self._index.as_retriever(similarity_top_k=k, filters=metadata_filters)
        # Same BM25 index, per-query filter mask: cheap, the index is not rebuilt.
        sparse = BM25Retriever(existing_bm25=self._bm25.bm25, similarity_top_k=k, filters=metadata_filters)
        if mode == "dense":
            return dense
        if mode == "bm25":
            return sparse
        # relative_score honours the weights (reciprocal_rerank ignores them); num_queries=1
        # means no query generation, so the MockLLM is never called; it only stops
        # llama-index from reaching for its OpenAI default.
        return QueryFusionRetriever(
            [dense, sparse],
            mode="relative_score",
            retriever_weights=[self.cfg.dense_weight, 1 - self.cfg.dense_weight],
            similarity_top_k=k,
            num_queries=1,
            use_async=False,
            llm=MockLLM(),
        )


def _bm25_nodes(bm25: BM25Retriever) -> list[BaseNode]:
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    return [metadata_dict_to_node(row) for row in bm25.corpus]
