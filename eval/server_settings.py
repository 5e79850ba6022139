"""`rag bench --server-settings`: the local server's CPU options, each measured on this machine.

Every candidate starts its own server on a free port, reads the same kind of never-seen 600-token
prompt three times (the median counts) and writes 64 tokens; the table gives each as a ratio to
the server as shipped, measured in the same run.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.llm import complete, make_client
from assistant.server import ensure_server, key_file, log_file, stop_server
from assistant.usage import server_usage
from eval.bench import reference_read
from rag.config import Config

# Options of llama-cpp-python's server that change prompt speed on a CPU.
CANDIDATES = {
    "as shipped": "",
    "logits of every token (as the exam's log-probability server)": "--logits_all True",
    "micro-batch 256": "--n_ubatch 256",
    "batch 1024, micro-batch 1024": "--n_batch 1024 --n_ubatch 1024",
    "flash attention": "--flash_attn True",
    "flash attention, KV cache q8_0": "--flash_attn True --type_k 8 --type_v 8",
    "prompt cache in RAM": "--cache True",
}
WRITE_PROMPT = "List twenty words about research papers, one per line."


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(cfg: Config, args: str, reads: int = 3) -> dict:
    """Start a server with `args`, time reading and writing, stop it."""
    with tempfile.TemporaryDirectory(prefix="rag-server-") as tmp:
        run = cfg.replace(data_dir=Path(tmp), server_port=_free_port(), server_args=args, base_url=None)
        started = time.perf_counter()
        ensure_server(run)
        start_s = time.perf_counter() - started
        try:
            read = [reference_read(run) for _ in range(reads)]
            with server_usage(run) as written:
                complete(make_client(run), run, [{"role": "user", "content": WRITE_PROMPT}], max_tokens=64)
        finally:
            stop_server(run)
            for leftover in (log_file(run), key_file(run)):
                leftover.unlink(missing_ok=True)
    write_rate = written[-1].generated_tokens / written[-1].generate_eval_s if written else None
    return {
        "server_args": args,
        "start_s": round(start_s, 1),
        "read_600_s": statistics.median(r["reference_read_s"] for r in read),
        "prompt_tokens_per_s": statistics.median(r["server_prompt_tokens_per_s"] for r in read),
        "completion_tokens_per_s": round(write_rate, 1) if write_rate else None,
    }


def sweep(cfg: Config, log: Callable[[str], None], candidates: dict[str, str] = CANDIDATES) -> list[dict]:
    rows = []
    for name, args in candidates.items():
        log(f"server settings: {name}")
        rows.append({"settings": name} | measure(cfg, args))
    return rows


def sweep_table(rows: list[dict]) -> str:
    base = rows[0]
    lines = [
        "| settings | read 600 tokens, s | × shipped | prompt tokens/s | write tokens/s | × shipped |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        write = row["completion_tokens_per_s"]
        write_ratio = (
            round(write / base["completion_tokens_per_s"], 2) if write and base["completion_tokens_per_s"] else "-"
        )
        lines.append(
            f"| {row['settings']} | {row['read_600_s']} | {row['read_600_s'] / base['read_600_s']:.2f} | "
            f"{row['prompt_tokens_per_s']} | {write or '-'} | {write_ratio} |"
        )
    return "\n".join(lines)
