"""The baseline peer: llama-index's default pipeline, as its getting-started guide builds it.

SimpleDirectoryReader → default SentenceSplitter chunks → in-memory VectorStoreIndex →
`as_query_engine()` with default top-k, on the same embedder and the same model endpoint.
No entries, no BM25, no catalog, no citation checks: what we compare our pipeline against.
"""

from __future__ import annotations

from pathlib import Path

from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.query_engine import BaseQueryEngine
from llama_index.llms.openai_like import OpenAILike

from rag.config import Config
from rag.ingest.embed import MiniLMEmbedding
from rag.runtime.server import endpoint_key, ensure_server


def build_naive_engine(cfg: Config, paths: list[Path], embedder: MiniLMEmbedding | None = None) -> BaseQueryEngine:
    """A default llama-index query engine over plain chunks of `paths`."""
    documents = SimpleDirectoryReader(input_files=[str(p) for p in paths]).load_data()
    index = VectorStoreIndex.from_documents(documents, embed_model=embedder or MiniLMEmbedding())
    llm = OpenAILike(
        model=cfg.model,
        api_base=ensure_server(cfg),
        api_key=endpoint_key(cfg),
        is_chat_model=True,
        timeout=cfg.llm_timeout,
        max_tokens=cfg.max_tokens,
        temperature=cfg.temperature,
    )
    return index.as_query_engine(llm=llm)
