"""Start, find and stop the local OpenAI-compatible model server (llama-cpp-python).

One server per data directory: a file lock serialises starts, and a healthy server on
the configured port is reused rather than started again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from assistant.local_model import is_installed, model_path
from assistant.prompts import system_prompt
from rag.config import Config
from rag.errors import MODEL_MISSING, RagError
from rag.locks import file_lock


def pid_file(cfg: Config) -> Path:
    # Per port: servers on two ports started from one data directory are stopped one by one.
    return cfg.data_dir / f"server-{cfg.server_port}.pid"


def log_file(cfg: Config) -> Path:
    # Beside its key: whichever data directory started the server on this port, its log is found here
    # (`assistant.usage` reads each request's token counts from it).
    return cfg.model_dir / f"server-{cfg.server_port}.log"


def key_file(cfg: Config) -> Path:
    # Beside the model, per port: every data directory on this account shares the server on a port.
    return cfg.model_dir / f"server-{cfg.server_port}.key"


def server_key(cfg: Config) -> str:
    """The key the local server is started with, made once and readable by this account only, so other
    local users and web pages cannot use the model server."""
    path = key_file(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key)
    return key


def endpoint_key(cfg: Config) -> str:
    """The key to send: the local server's own, or the configured one for a remote endpoint only."""
    if not cfg.uses_local_server:
        return cfg.api_key
    try:
        return key_file(cfg).read_text().strip()
    except OSError:
        return "none"  # no key was ever made, so no server of ours asks for one


def is_healthy(cfg: Config, timeout: float = 2.0) -> bool:
    """True when an OpenAI-compatible server answers /models at the endpoint."""
    try:
        headers = {"Authorization": f"Bearer {endpoint_key(cfg)}"}
        response = httpx.get(f"{cfg.endpoint}/models", timeout=timeout, headers=headers)
        return response.status_code == 200 and "data" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


def ensure_server(cfg: Config, notify: Callable[[str], None] | None = None) -> str:
    """Return the endpoint, starting the local server first if it is the default and down (`notify`
    is told before a start, which takes seconds to minutes)."""
    if not cfg.uses_local_server or is_healthy(cfg):
        return cfg.endpoint
    with file_lock(cfg.data_dir / "server.lock"):  # concurrent starts make one server
        if is_healthy(cfg):  # another process started it while we waited
            return cfg.endpoint
        if _port_open(cfg):
            # Something listens: a busy model server answers /models only between requests.
            if is_healthy(cfg, timeout=cfg.llm_timeout):
                return cfg.endpoint
            raise RagError(
                f"Something listens on {cfg.server_host}:{cfg.server_port} but does not answer as a model server; "
                "stop it or set RAG_SERVER_PORT"
            )
        if not is_installed(cfg):
            raise RagError(MODEL_MISSING.format(path=model_path(cfg)))
        if notify:
            notify(f"Starting the local model server at {cfg.shown_endpoint}…")
        process = _spawn(cfg)
        deadline = time.monotonic() + cfg.server_start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RagError(f"The model server exited at start (code {process.returncode}): {_last_log_line(cfg)}")
            if is_healthy(cfg, timeout=1.0):
                warm_up(cfg)
                return cfg.endpoint
            time.sleep(0.3)
        process.terminate()
        raise RagError(
            f"The model server did not become ready within {cfg.server_start_timeout:.0f} s; see {log_file(cfg)}"
        )


def warm_up(cfg: Config) -> None:
    """Have a new server read the system prompt once, so the first question finds it in the KV cache
    (every answer's prompt starts with it) and its asker does not wait for it."""
    with contextlib.suppress(httpx.HTTPError, RagError):  # only a head start: the first question reads it too
        system = system_prompt(cfg.prompts_dir)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": "Sources:"}]
        httpx.post(
            f"{cfg.endpoint}/chat/completions",
            json={"model": cfg.model, "messages": messages, "max_tokens": 1, "temperature": 0.0},
            headers={"Authorization": f"Bearer {endpoint_key(cfg)}"},
            timeout=cfg.llm_timeout,
        )


def _port_open(cfg: Config) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((cfg.server_host, cfg.server_port)) == 0


def _spawn(cfg: Config) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path(cfg)),
        "--model_alias",
        cfg.model,
        "--host",
        cfg.server_host,
        "--port",
        str(cfg.server_port),
        "--n_ctx",
        str(cfg.server_ctx),
        "--n_threads",
        str(cfg.server_threads),
        "--n_threads_batch",
        str(cfg.server_threads),
        # The default lets every new request abort the one being generated; queue them instead.
        "--interrupt_requests",
        "False",
        "--logits_all",
        str(cfg.server_logits_all),
        *shlex.split(cfg.server_args),
    ]
    # A new session: the server outlives the command that started it and is reused.
    # The key goes in the environment (readable by this account only), not on the command line.
    env = os.environ | {"API_KEY": server_key(cfg)}
    with open(log_file(cfg), "ab") as log:
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
        )
    pid_file(cfg).write_text(str(process.pid))
    return process


def stop_server(cfg: Config, timeout: float = 10.0) -> bool:
    """Stop the server this data directory started; False if none was running."""
    pid_path = pid_file(cfg)
    try:
        pid = int(pid_path.read_text())
    except (OSError, ValueError):
        return False
    if not is_our_server(pid, cfg):
        pid_path.unlink(missing_ok=True)  # stale (a crash, a failed start): never used to signal anything
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_path.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
    pid_path.unlink(missing_ok=True)
    return True


def is_our_server(pid: int, cfg: Config) -> bool:
    """Is `pid` the llama-cpp-python server on this config's port? A pid file can outlive its process
    and the number be reused, so the command line is checked before any signal is sent."""
    if pid <= 1:
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    words = [a.decode(errors="replace") for a in argv]
    port = str(cfg.server_port)
    return "llama_cpp.server" in words and any(
        a == port and b == "--port" for b, a in zip(words, words[1:], strict=False)
    )


def _last_log_line(cfg: Config) -> str:
    try:
        lines = [line for line in log_file(cfg).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no output"
