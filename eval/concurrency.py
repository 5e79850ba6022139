"""`rag bench --users 1,4,8`: several people asking the chat page at once.

Starts `rag ui` in this process on a free loopback port, and for each crowd size has that many
`gradio_client` clients ask at the same moment, each a different question the model must answer
(so neither the answer cache nor code answers them; past eight users they repeat). Times, per user,
the first streamed update that shows answer text and the whole answer; a user whose question failed
is counted in `failed`.
"""

from __future__ import annotations

import threading
import time

from gradio_client import Client

from rag.assistant.answer import Assistant
from rag.config import Config
from rag.eval.metrics import percentile
from rag.runtime.server import free_port

# Questions only the model answers (free text about one entry), distinct so that none is a repeat.
QUESTIONS = (
    "What does the Madrid team build?",
    "What is the paper on membership inference attacks against diffusion models about?",
    "What problem does EMC2 address?",
    "What does the Barcelona posting say about the team?",
    "What is MemoryLLM designed to do?",
    "What does the REPOFORMER paper propose?",
    "What does the paper on anomaly thresholding adapt to?",
    "What does the Bengaluru posting's team work on?",
)


def _one_user(url: str, question: str, times: list[tuple[float | None, float]], failed: list[str]) -> None:
    try:
        _ask(url, question, times)
    except Exception as exc:  # noqa: BLE001 - a user whose question failed is counted, not lost
        failed.append(f"{type(exc).__name__}: {exc}"[:200])


def _ask(url: str, question: str, times: list[tuple[float | None, float]]) -> None:
    client = Client(url, verbose=False)
    started = time.perf_counter()
    first = None
    job = client.submit(question, "all", "all", "all", api_name="/chat")
    for update in job:
        texts = [m.get("content", "") for m in update or [] if not (m.get("metadata") or {}).get("title")]
        answer = next((t for t in texts if isinstance(t, str) and t.strip()), "")
        if first is None and answer and not answer.startswith("⚠️"):
            first = time.perf_counter() - started
    job.result(timeout=900)
    times.append((first, time.perf_counter() - started))


def crowd_rows(cfg: Config, users: list[int], assistant: Assistant) -> list[dict]:
    """One row per crowd size: p50/p95 of each user's first answer text and whole answer."""
    from rag.ui.app import build_app, serve

    port = free_port()
    app = serve(build_app(cfg, assistant), "127.0.0.1", port, prevent_thread_lock=True)
    rows = []
    try:
        url = f"http://127.0.0.1:{port}/"
        for round_number, n in enumerate(users):
            assistant._cache.clear()  # each round asks anew
            times: list[tuple[float | None, float]] = []
            failed: list[str] = []
            asked = [QUESTIONS[(round_number + i) % len(QUESTIONS)] for i in range(n)]  # repeats past 8 users
            threads = [threading.Thread(target=_one_user, args=(url, q, times, failed)) for q in asked]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            firsts = [f for f, _ in times if f is not None]
            wholes = [w for _, w in times]
            rows.append(
                {
                    "users": n,
                    "first_text_p50_s": round(percentile(firsts, 50), 2) if firsts else None,
                    "first_text_p95_s": round(percentile(firsts, 95), 2) if firsts else None,
                    "answer_p50_s": round(percentile(wholes, 50), 2) if wholes else None,
                    "answer_p95_s": round(percentile(wholes, 95), 2) if wholes else None,
                    "failed": len(failed),
                    "server_slots": cfg.server_parallel,
                    "model_calls": cfg.model_calls,
                }
            )
    finally:
        app.close()
    return rows
