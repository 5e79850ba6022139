"""Atomic re-ingest: SIGKILL an ingest half-way; the previous index still answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from rag.assistant.retrieve import HybridRetriever
from rag.eval.synthetic import write_guide
from rag.ingest.store import connect, current_version, ingest_entries


def half_written_version(cfg) -> bool:
    for collection in connect(cfg).list_collections():
        ours = collection.name.startswith(f"{cfg.collection}--v")
        if ours and not (collection.metadata or {}).get("complete") and collection.count() > 0:
            return True
    return False


def test_sigkill_mid_ingest_keeps_the_previous_index(store_cfg, embedder, mini_entries, tmp_path):
    cfg = store_cfg
    ingest_entries(cfg, mini_entries, embedder=embedder)
    before = current_version(cfg).name
    big = write_guide(tmp_path / "big.txt", 3000, seed=1)
    env = os.environ | {"RAG_DATA_DIR": str(cfg.data_dir), "RAG_COLLECTION": cfg.collection}
    if cfg.chroma_host:
        env |= {"CHROMA_HOST": cfg.chroma_host, "CHROMA_PORT": str(cfg.chroma_port)}
    rag = [sys.executable, "-m", "rag.cli", "ingest", str(big)]
    process = subprocess.Popen(rag, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not half_written_version(cfg):
            assert process.poll() is None, "ingest finished before it could be killed"
            assert time.monotonic() < deadline, "ingest never started writing"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL

    assert current_version(cfg).name == before
    hits = HybridRetriever(cfg, embedder=embedder).retrieve("TIDEGRAPH streaming graph partitioning").hits
    assert hits[0].node.node_id.startswith("paper/tidegraph")

    # The next ingest removes the half-written version and succeeds.
    report = ingest_entries(cfg, mini_entries[:5], embedder=embedder)
    assert report.removed == 8
    assert not half_written_version(cfg)
