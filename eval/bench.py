"""`rag bench`: ingest throughput, retrieval latency, model speed, end-to-end latency, memory.

Corpora: the bundled guide plus synthetic guides of the requested sizes (written to a
temporary folder, never committed). Our pipeline and llama-index's default pipeline answer
the same questions in the same run, so the ratios compare like with like. It prints figures;
it never fails on speed.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import tempfile
import time
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from rag.assistant.answer import Assistant
from rag.assistant.llm import make_client, read_prompt
from rag.assistant.retrieve import HybridRetriever
from rag.assistant.schema import PAPER, POSTING
from rag.assistant.text import STOPWORDS
from rag.config import BUNDLED_CORPUS, Config
from rag.errors import RagError
from rag.eval.exam import GOLD_EXAM, load_exam
from rag.eval.metrics import percentile
from rag.eval.naive import build_naive_engine
from rag.eval.synthetic import write_guide
from rag.ingest.embed import MiniLMEmbedding
from rag.ingest.load import expand_paths, load_entries
from rag.ingest.store import ingest_entries
from rag.outcome import ProgressBar, Say
from rag.runtime.launch import MODULE
from rag.runtime.server import ensure_server
from rag.runtime.usage import count_tokens


def _ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000, 1)


def bench_corpus(
    cfg: Config,
    label: str,
    path: Path,
    questions: list[str],
    embedder: MiniLMEmbedding,
    progress_bar: ProgressBar | None = None,
) -> dict:
    """Ingest one corpus into a fresh index and time retrieval on it."""
    started = time.perf_counter()
    entries = load_entries([path], max_bytes=1 << 30)
    parse_s = time.perf_counter() - started
    with progress_bar(len(entries), f"Indexing {label}", "entry") if progress_bar else nullcontext() as bar:
        report = ingest_entries(cfg, entries, embedder=embedder, progress=bar.update if bar else None)
    ingest_s = parse_s + report.total_seconds
    retriever = HybridRetriever(cfg, embedder=embedder)
    retriever.refresh()
    latencies = []
    for question in questions:
        t0 = time.perf_counter()
        retriever.retrieve(question)
        latencies.append(time.perf_counter() - t0)
    without_embedding = max(ingest_s - report.embed_seconds, 1e-9)
    return {
        "corpus": label,
        "entries": len(entries),
        "ingest_s": round(ingest_s, 2),
        "embed_share": round(report.embed_seconds / ingest_s, 3),
        "entries_per_s": round(len(entries) / ingest_s, 1),
        "entries_per_s_without_embedding": round(len(entries) / without_embedding, 1),
        "retrieval_p50_ms": _ms(latencies, 50),
        "retrieval_p95_ms": _ms(latencies, 95),
        # The process's peak so far; corpora run smallest first, so the rows show how it grows.
        "peak_memory_mb": _peak_mb(),
    }


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


REFERENCE_TOKENS = 600
# Per model answer: the prompt by part and what the server read, served from cache and wrote.
TOKEN_FIGURES = (
    "system_tokens",
    "context_tokens",
    "question_tokens",
    "prompt_tokens",
    "cached_tokens",
    "evaluated_tokens",
    "prompt_tokens_per_s",
    "completion_tokens_per_s",
    "first_token_over_prompt_read",
)


def reference_read(cfg: Config) -> dict:
    """The server reading a 600-token prompt it has never seen (one token written): every answer time is
    also given as a ratio to it, which compares across machines where seconds do not."""
    rng = random.Random()
    words = sorted(STOPWORDS | {"model", "source", PAPER, "guide", "answer", "question", "team", POSTING})
    text, tokens = uuid.uuid4().hex, 0  # a fresh start: nothing of it can be in the server's cache
    while tokens < REFERENCE_TOKENS:
        text += " " + " ".join(rng.choice(words) for _ in range(max(8, (REFERENCE_TOKENS - tokens) // 2)))
        tokens = count_tokens(cfg, text) or int(len(text.split()) * 1.3)
    client = make_client(cfg)
    started = time.perf_counter()
    used = read_prompt(client, cfg, text)
    seconds = time.perf_counter() - started
    rate = used.prompt_rate if used else None
    return {
        "reference_prompt_tokens": tokens,
        "reference_read_s": round(seconds, 2),
        "server_prompt_tokens_per_s": round(rate or tokens / seconds, 1),
    }


def bench_answers(
    cfg: Config, questions: list[str], n: int, embedder: MiniLMEmbedding, files: list[Path] | None = None
) -> dict:
    """Our pipeline vs llama-index's default one (over `files`, default the configured corpus) on the
    first `n` of `questions` the model answers, same model, same run; questions code answers (lists,
    counts, one field of a paper) and a repeated question (the answer cache) are timed apart."""
    ensure_server(cfg)
    reference = reference_read(cfg)
    assistant = Assistant(cfg, retriever=HybridRetriever(cfg, embedder=embedder))
    started = time.perf_counter()
    assistant.warm_up()  # as `rag ui` and `rag chat` do at start; in the corpus mode the server reads it here
    warm_up_s = time.perf_counter() - started
    ours, first_tokens, speeds, by_code, asked, context_chars = [], [], [], [], [], []
    tokens: dict[str, list[float]] = {}  # per model answer, as the server's log and tokenizer count them
    for question in questions:
        if len(asked) == n:
            break
        answer = assistant.ask(question)
        if answer.answered_by == "catalog":
            by_code.append(answer.timings["total_s"])
            continue
        asked.append(question)
        context_chars.append(len(answer.context.text()))
        ours.append(answer.timings["total_s"])
        first_tokens.append(answer.timings["first_token_s"])
        generation = answer.timings["generate_s"] - answer.timings["first_token_s"]
        if answer.timings["output_chunks"] > 1 and generation > 0:
            speeds.append((answer.timings["output_chunks"] - 1) / generation)
        counted = answer.timings | assistant.prompt_tokens(answer)
        for key in TOKEN_FIGURES:
            if key in counted:
                tokens.setdefault(key, []).append(counted[key])
    repeated = [assistant.ask(question).timings["total_s"] for question in asked[:3]]
    questions = asked
    engine = build_naive_engine(cfg, files or list(cfg.corpus), embedder)
    naive = []
    for question in questions:
        t0 = time.perf_counter()
        engine.query(question)
        naive.append(time.perf_counter() - t0)
    ours_p50, naive_p50 = percentile(ours, 50), percentile(naive, 50)
    first_token_p50 = percentile(first_tokens, 50)
    return {
        "questions": len(questions),
        "context_mode": "corpus" if assistant.corpus_context() else "retrieved",
        "warm_up_s": round(warm_up_s, 2),
        **reference,
        "context_chars_p50": round(percentile(context_chars, 50)),
        "first_token_p50_s": round(first_token_p50, 2),
        "first_token_p95_s": round(percentile(first_tokens, 95), 2),
        "first_token_p50_over_reference": round(first_token_p50 / reference["reference_read_s"], 2),
        **{f"{key}_p50": round(percentile(values, 50), 2) for key, values in tokens.items()},
        "tokens_per_s": round(sum(speeds) / len(speeds), 1) if speeds else None,
        "answer_p50_s": round(ours_p50, 2),
        "answer_p95_s": round(percentile(ours, 95), 2),
        "naive_answer_p50_s": round(naive_p50, 2),
        "naive_answer_p95_s": round(percentile(naive, 95), 2),
        "answer_latency_ratio_ours_to_naive": round(ours_p50 / naive_p50, 2) if naive_p50 else None,
        "code_answers": len(by_code),
        "code_answer_p50_s": round(percentile(by_code, 50), 3) if by_code else None,
        "repeated_question_p50_s": round(percentile(repeated, 50), 3) if repeated else None,
    }


# Markdown documentation of a command-line library (Click, BSD licence), shipped for tests and benchmarks.
DOCS_CORPUS = Path(__file__).parent / "corpora" / "click-docs"


def docs_folder(text: str) -> Path | None:
    """`--docs`: a folder given, the shipped Click docs when none is (and they are there), or "none"."""
    if text.lower() == "none" or (not text and not DOCS_CORPUS.is_dir()):
        return None
    folder = Path(text).expanduser() if text else DOCS_CORPUS
    if not folder.is_dir():
        raise RagError(f"--docs {text}: no such folder")
    return folder


def _docs_corpus(folder: Path) -> tuple[list[Path], list[str]]:
    """The files of a documents folder, and one question per section heading ("What does the documentation
    say about Counting?"), the way a newcomer to the folder would ask."""
    files = [f.path for f in expand_paths([folder])]
    titles = [e.title.split(" (part")[0] for e in load_entries([folder], max_bytes=1 << 30)]
    # Subsections ("usage.md › Options › Counting") ask something specific; a file's top heading does not.
    deep = [t for t in titles if t.count(" › ") >= 2] or [t for t in titles if " › " in t]
    headings = list(dict.fromkeys(t.split(" › ")[-1].strip() for t in deep))
    # Spread over the folder: every file's sections, not the first file's only.
    step = max(1, len(headings) // 40)
    return files, [f"What does the documentation say about {h}?" for h in headings[::step]]


def _server_pid(cfg: Config) -> str | None:
    """The local model server's pid (the supervisor's child that holds the model)."""
    found = subprocess.run(
        ["pgrep", "-f", f"{MODULE}.*--port {cfg.server_port} .*--serve"], capture_output=True, text=True
    ).stdout.split()
    return found[0] if found else None


def _server_peak_mb(cfg: Config) -> float | None:
    pid = _server_pid(cfg)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def record_bench(
    cfg: Config,
    sizes: list[int],
    n_questions: int,
    n_answers: int,
    users: tuple[int, ...],
    out: Path | None,
    say: Say,
    log: Say,
    progress_bar: ProgressBar | None = None,
    docs: str = "",
) -> Path:
    """`rag bench`: every figure measured, its tables said, then saved as JSON to `out` (default: a file
    named by the time under the data directory's results/). The tables are said first, so a failed save
    does not lose them."""
    result = run_bench(cfg, sizes, n_questions, n_answers, log, progress_bar, users, docs_folder(docs))
    say(bench_table(result))
    path = out or results_path(cfg, result["timestamp"])
    write_results(result, path)
    say(f"Wrote {path}")
    return path


def results_path(cfg: Config, timestamp: str) -> Path:
    return cfg.data_dir / "results" / f"bench-{timestamp.replace(':', '')}.json"


def write_results(result: dict, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
    except OSError as exc:
        raise RagError(f"Cannot write {path}: {exc.strerror}") from exc


def run_bench(
    cfg: Config,
    sizes: list[int],
    n_questions: int,
    n_answers: int,
    log: Say,
    progress_bar: ProgressBar | None = None,
    users: tuple[int, ...] = (),
    docs: Path | None = None,
) -> dict:
    """Every figure of the benchmark, as one JSON-ready dict (`users`: crowd sizes asking the chat page at
    once; `docs`: a folder of documents, ingested and answered beside the guide)."""
    embedder = MiniLMEmbedding()
    gold = [q.question for q in load_exam(GOLD_EXAM)]
    corpora = []
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        work = Path(tmp)
        targets = [("bundled", BUNDLED_CORPUS, gold[:n_questions])]
        for size in sizes:
            path = write_guide(work / f"synth-{size}.txt", size, seed=size)
            titles = [e.title for e in load_entries([path], max_bytes=1 << 30) if e.kind == PAPER]
            step = max(1, len(titles) // n_questions)
            targets.append((f"synthetic-{size}", path, [f"Who wrote {t}?" for t in titles[::step][:n_questions]]))
        docs_files, docs_questions = _docs_corpus(docs) if docs else ([], [])
        if docs:
            targets.append(("docs", docs, docs_questions[:n_questions]))
        for label, path, questions in targets:
            log(f"corpus {label}: ingesting and timing {len(questions)} retrievals")
            corpus_cfg = cfg.replace(data_dir=work / label, collection="bench")
            corpora.append(bench_corpus(corpus_cfg, label, path, questions, embedder, progress_bar))
        log(f"answers: {n_answers} questions through our pipeline and the naive llama-index one")
        ensure_server(cfg)  # started (or found) under the main data directory, not the temporary one
        answer_cfg = cfg.replace(data_dir=work / "bundled", collection="bench")
        answers = bench_answers(answer_cfg, gold, n_answers, embedder) if n_answers else {}
        docs_answers = {}
        if docs and n_answers:
            log(f"answers: {n_answers} questions about the documents in {docs}")
            docs_cfg = cfg.replace(data_dir=work / "docs", collection="bench")
            docs_answers = bench_answers(docs_cfg, docs_questions, n_answers, embedder, files=docs_files)
        crowds = []
        if users:
            from rag.eval.concurrency import crowd_rows

            log(f"crowds: {', '.join(map(str, users))} chat users asking the page at once")
            crowd = Assistant(answer_cfg, retriever=HybridRetriever(answer_cfg, embedder=embedder))
            crowd.warm_up()
            crowds = crowd_rows(answer_cfg, list(users), crowd)
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {
            "model": cfg.model,
            "endpoint": cfg.shown_endpoint,
            "top_k": cfg.top_k,
            "retriever": cfg.retriever,
            "context_chars": cfg.context_chars,
            "context_mode": cfg.context_mode,
            "focus_sources": cfg.focus_sources,
            "focus_chars": cfg.focus_chars,
            "excerpt_chars": cfg.excerpt_chars,
        },
        "corpora": corpora,
        "answers": answers,
        "docs_answers": docs_answers,
        "crowds": crowds,
        "peak_memory_mb": _peak_mb(),
        "model_server_peak_memory_mb": _server_peak_mb(cfg),
    }


def bench_table(result: dict) -> str:
    """Markdown tables of the figures."""
    head = [
        "corpus",
        "entries",
        "ingest s",
        "embed share",
        "entries/s",
        "entries/s w/o embedding",
        "retrieval p50 ms",
        "retrieval p95 ms",
        "peak MB",
    ]
    keys = [
        "corpus",
        "entries",
        "ingest_s",
        "embed_share",
        "entries_per_s",
        "entries_per_s_without_embedding",
        "retrieval_p50_ms",
        "retrieval_p95_ms",
        "peak_memory_mb",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(row[k]) for k in keys) + " |" for row in result["corpora"]]
    for key, name in (("answers", "answers, bundled guide"), ("docs_answers", "answers, documents")):
        if result.get(key):
            lines += ["", f"| {name} | value |", "|---|---|"]
            lines += [f"| {k} | {v} |" for k, v in result[key].items()]
    if result.get("crowds"):
        keys = ["users", "first_text_p50_s", "first_text_p95_s", "answer_p50_s", "answer_p95_s", "server_slots"]
        lines += ["", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(str(row[k]) for k in keys) + " |" for row in result["crowds"]]
    lines += [
        "",
        f"peak memory: bench process {result['peak_memory_mb']} MB, "
        f"model server {result['model_server_peak_memory_mb']} MB",
    ]
    return "\n".join(lines)
