"""Run the local model server: llama.cpp's own HTTP server from the prebuilt `xllamacpp` wheel, watched.

`rag server start` spawns `python -m rag.runtime.launch …`, which is two processes: this supervisor,
and the server it starts with `--serve`. The default wheel is built for a fixed AVX2 baseline (no
AVX-512 or AMX kernels), so the same install runs on every x86-64 CPU with AVX2 and needs no compiler;
`rag setup --native` may replace it with a build for this CPU (`rag.runtime.native`). The
server runs in a process of its own because a crash in llama.cpp takes its whole process down; the
supervisor survives it and writes what happened (the signal or exit code, the log's last meaningful
line) to the status file, so `rag ask`, `rag chat` and `rag server status` can say "crashed (SIGSEGV)"
rather than "cannot reach". The server's key comes in the environment (`RAG_SERVER_KEY`), never on a
command line other accounts can read.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

KEY_VARIABLE = "RAG_SERVER_KEY"
MODULE = "rag.runtime.launch"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}")
    parser.add_argument("--model", required=True)
    parser.add_argument("--alias", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx", type=int, required=True, help="context window of each slot, in tokens")
    parser.add_argument("--parallel", type=int, default=1, help="slots answering at once")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slot-dir", required=True, help="where slots' KV caches are saved and restored")
    parser.add_argument("--cache-ram-mib", type=int, default=2048, help="host memory for cached prompts")
    parser.add_argument("--status-file", required=True)
    parser.add_argument("--serve", action="store_true", help="be the server itself (the supervisor's child)")
    return parser.parse_args(argv)


def serve(args: argparse.Namespace) -> None:
    """Load the model and answer until killed (the server's threads do the work)."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_parallel = args.parallel
    # One window per slot: each must hold a whole corpus prefix of its own.
    params.n_ctx = args.ctx * args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.api_keys = [os.environ[KEY_VARIABLE]] if os.environ.get(KEY_VARIABLE) else []
    params.slot_save_path = str(Path(args.slot_dir)) + "/"  # llama.cpp joins names to it as text
    params.endpoint_slots = True
    params.endpoint_metrics = True
    params.cache_ram_mib = args.cache_ram_mib
    params.ui = False
    server = xllamacpp.Server(params)
    print(f"listening on {server.listening_address}", flush=True)
    threading.Event().wait()  # the HTTP server runs on its own threads


def last_meaningful_line(log: Path) -> str:
    """The log's last line that says something (llama.cpp ends with blank and progress lines)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    meaningful = [line.strip() for line in lines if line.strip() and not set(line.strip()) <= set(".")]
    return meaningful[-1][:300] if meaningful else ""


def supervise(args: argparse.Namespace) -> int:
    """Start the server, pass our stop on to it, and record how it ended if it was not our stop."""
    status = Path(args.status_file)
    status.unlink(missing_ok=True)
    stopping = threading.Event()
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame: object) -> None:
        stopping.set()
        if child is not None:
            child.send_signal(signal.SIGTERM)

    # Before the child exists: a stop that comes while it starts must reach it too.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    child = subprocess.Popen([sys.executable, "-m", MODULE, *sys.argv[1:], "--serve"], stdin=subprocess.DEVNULL)
    if stopping.is_set():
        child.send_signal(signal.SIGTERM)
    code = child.wait()
    if stopping.is_set():
        return 0
    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    log = Path(os.environ.get("RAG_SERVER_LOG", ""))
    record = {
        "state": "crashed",
        "how": how,
        "at": time.time(),
        "pid": child.pid,
        "last_line": last_meaningful_line(log),
    }
    status.write_text(json.dumps(record))
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.serve:
        serve(args)
        return 0
    return supervise(args)


if __name__ == "__main__":
    sys.exit(main())
