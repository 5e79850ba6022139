"""Start, find, watch and stop the local OpenAI-compatible model server.

The server is llama.cpp's own, from the `xllamacpp` package (the prebuilt wheel, or a build for this
CPU: `running_build` says which a server was started from), run by `rag.runtime.launch` in a
process of its own under a small supervisor. One server per port: a file lock serialises starts, and
a healthy server on the configured port is reused rather than started again. When the server dies
of anything but `rag server stop`, the supervisor leaves a status file saying how; `crash_report`
turns it into the one line users see.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from rag.config import Config
from rag.errors import MODEL_MISSING, RagError
from rag.locks import file_lock
from rag.runtime.launch import KEY_VARIABLE, MODULE, last_meaningful_line
from rag.runtime.model import is_installed, model_path
from rag.runtime.native import installed_build


def pid_file(cfg: Config) -> Path:
    # Per port: servers on two ports started from one data directory are stopped one by one.
    return cfg.data_dir / f"server-{cfg.server_port}.pid"


def log_file(cfg: Config) -> Path:
    # Beside its key: whichever data directory started the server on this port, its log is found here.
    return cfg.model_dir / f"server-{cfg.server_port}.log"


def status_file(cfg: Config) -> Path:
    """Written by the supervisor when the server died of anything but our stop (see `crash_report`)."""
    return cfg.model_dir / f"server-{cfg.server_port}.status"


def lock_file(cfg: Config) -> Path:
    # Per port, as the server is shared per port: concurrent starts make one server.
    return cfg.model_dir / f"server-{cfg.server_port}.lock"


def start_file(cfg: Config) -> Path:
    """The pid of the supervisor last started on this port, from any data directory: a start in progress."""
    return cfg.model_dir / f"server-{cfg.server_port}.started"


def build_file(cfg: Config) -> Path:
    """Which build of the server package the server on this port was started from (`running_build`)."""
    return cfg.model_dir / f"server-{cfg.server_port}.build"


def slot_dir(cfg: Config) -> Path:
    """Saved KV caches of prompt prefixes, named by what they hold (`rag.runtime.prefix`)."""
    return cfg.model_dir / "slots"


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


def server_files(cfg: Config) -> list[Path]:
    """Every file a server on this port leaves: beside the model, and its pid in the data directory (the
    saved prefixes are shared by every server, so they are not among them)."""
    return [
        key_file(cfg),
        log_file(cfg),
        status_file(cfg),
        build_file(cfg),
        lock_file(cfg),
        start_file(cfg),
        pid_file(cfg),
    ]


def running_build(cfg: Config) -> tuple[str, str]:
    """`installed_build` as it was when the server on this port was started: a build installed since
    (`rag setup --native`) runs only from the next start."""
    try:
        shown, identity = json.loads(build_file(cfg).read_text())
        return str(shown), str(identity)
    except (OSError, ValueError, TypeError):
        return installed_build()


def endpoint_key(cfg: Config) -> str:
    """The key to send: the local server's own, or the configured one for a remote endpoint only."""
    if not cfg.uses_local_server:
        return cfg.api_key
    try:
        return key_file(cfg).read_text().strip()
    except OSError:
        return "none"  # no key was ever made, so no server of ours asks for one


def auth_headers(cfg: Config) -> dict[str, str]:
    return {"Authorization": f"Bearer {endpoint_key(cfg)}"}


def base_url(cfg: Config) -> str:
    """The server's own routes (`/slots`, `/tokenize`, `/health`) live beside `/v1`."""
    return cfg.endpoint.removesuffix("/").removesuffix("/v1")


def is_healthy(cfg: Config, timeout: float = 2.0) -> bool:
    """True when an OpenAI-compatible server answers /models at the endpoint."""
    try:
        response = httpx.get(f"{cfg.endpoint}/models", timeout=timeout, headers=auth_headers(cfg))
        return response.status_code == 200 and "data" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


def crash_report(cfg: Config) -> str | None:
    """One line saying that the local server crashed, how, and where its log is; None if it did not."""
    if not cfg.uses_local_server:
        return None
    try:
        record = json.loads(status_file(cfg).read_text())
    except (OSError, ValueError):
        return None
    when = time.strftime("%H:%M:%S", time.localtime(record.get("at", 0)))
    last = record.get("last_line") or "no log output"
    return f"The model server crashed ({record.get('how', 'unknown')} at {when}); log {log_file(cfg)}: {last}"


_CRASHED: dict[int, str] = {}  # how the server that `begin_server` replaced had ended, by port


def begin_server(cfg: Config) -> None:
    """Start loading the local server now and return at once: a command that will need it (`rag server
    start`, `rag chat`, `rag ui`, `rag setup`) loads the model while it imports its own code and opens
    the index; `ensure_server` then waits for it. Does nothing when a server answers, starts or cannot
    start here (a failed spawn is left for `ensure_server` to try again and report)."""
    if not cfg.uses_local_server or not is_installed(cfg):
        return
    lock = lock_file(cfg)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock):
        if not _port_open(cfg) and _starting(cfg) is None:
            if crashed := crash_report(cfg):  # the start clears it; the wait for this start says it
                _CRASHED[cfg.server_port] = crashed
            try:
                _spawn(cfg)
            except OSError:
                return


def ensure_server(cfg: Config, notify: Callable[[str], None] | None = None) -> str:
    """Return the endpoint, starting the local server first if it is the default and down (`notify`
    is told before a start, or a wait for one `begin_server` began, which take seconds). A server that
    crashed is started again, once per call: if that one dies at start too, the error says how."""
    if not cfg.uses_local_server or is_healthy(cfg):
        return cfg.endpoint
    lock = lock_file(cfg)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock):  # concurrent starts make one server
        if is_healthy(cfg):  # another process started it while we waited
            return cfg.endpoint
        if (pid := _starting(cfg)) is not None and _loading(cfg):  # begun by `begin_server` or another command
            if notify:
                again = _again(_CRASHED.pop(cfg.server_port, None))
                notify(f"Starting the local model server at {cfg.shown_endpoint}{again}…")
            return _ready(cfg, alive=lambda: is_our_server(pid, cfg), stop=lambda: os.kill(pid, signal.SIGTERM))
        if _port_open(cfg):
            # Something listens: a server still loading its model, or not a model server at all.
            if is_healthy(cfg, timeout=cfg.llm_timeout):
                return cfg.endpoint
            raise RagError(
                f"Something listens on {cfg.server_host}:{cfg.server_port} but does not answer as a model server; "
                "stop it or set RAG_SERVER_PORT"
            )
        if not is_installed(cfg):
            raise RagError(MODEL_MISSING.format(path=model_path(cfg)))
        if notify:
            notify(f"Starting the local model server at {cfg.shown_endpoint}{_again(crash_report(cfg))}…")
        process = _spawn(cfg)
        return _ready(cfg, alive=lambda: process.poll() is None, stop=process.terminate)


def _again(crashed: str | None) -> str:
    return f" again ({crashed.split(';')[0].removeprefix('The model server ')})" if crashed else ""


def _starting(cfg: Config) -> int | None:
    """The pid of a server supervisor started on this port (from any data directory) that still runs."""
    try:
        pid = int(start_file(cfg).read_text())
    except (OSError, ValueError):
        return None
    deadline = time.monotonic() + 1.0
    while True:
        words = _command_words(pid)
        if words or not _alive(pid) or time.monotonic() > deadline:
            return pid if pid > 1 and _runs_our_server(words, cfg) else None
        time.sleep(0.02)  # its command line can read empty for a moment right after the spawn


def _loading(cfg: Config) -> bool:
    """Is the server still loading: not listening yet, or answering 503 ("Loading model")? A server of
    ours that listens and answers otherwise is not waited for: something else is wrong with it."""
    if not _port_open(cfg):
        return True
    try:
        reply = httpx.get(f"{cfg.endpoint}/models", timeout=2.0, headers=auth_headers(cfg))
    except httpx.HTTPError:
        return False
    return reply.status_code == 503


def _alive(pid: int) -> bool:
    """Does the process run (a zombie has ended)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _ready(cfg: Config, alive: Callable[[], bool], stop: Callable[[], None]) -> str:
    """Wait until the server that is starting answers; say how it ended if it dies first."""
    deadline = time.monotonic() + cfg.server_start_timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RagError(crash_report(cfg) or f"The model server exited at start: {_last_log_line(cfg)}")
        if is_healthy(cfg, timeout=1.0):
            return cfg.endpoint
        time.sleep(0.1)
    stop()
    raise RagError(
        f"The model server did not become ready within {cfg.server_start_timeout:.0f} s; see {log_file(cfg)}"
    )


def free_port() -> int:
    """A loopback port nothing listens on now (for a trial server, a test, a benchmark's page)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_open(cfg: Config) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((cfg.server_host, cfg.server_port)) == 0


def launch_command(cfg: Config) -> list[str]:
    return [
        sys.executable,
        "-m",
        MODULE,
        "--model",
        str(model_path(cfg)),
        "--alias",
        cfg.model,
        "--host",
        cfg.server_host,
        "--port",
        str(cfg.server_port),
        "--ctx",
        str(cfg.server_ctx),
        "--parallel",
        str(cfg.server_parallel),
        "--threads",
        str(cfg.server_threads),
        "--slot-dir",
        str(slot_dir(cfg)),
        "--status-file",
        str(status_file(cfg)),
    ]


def _spawn(cfg: Config) -> subprocess.Popen:
    slot_dir(cfg).mkdir(parents=True, exist_ok=True)
    pid_file(cfg).parent.mkdir(parents=True, exist_ok=True)  # a new data directory: before the server starts
    status_file(cfg).unlink(missing_ok=True)  # this start's own ending is what counts now
    build_file(cfg).write_text(json.dumps(installed_build()))  # the package this start's process loads
    # A new session: the server outlives the command that started it and is reused.
    # The key goes in the environment (readable by this account only), not on the command line.
    env = os.environ | {KEY_VARIABLE: server_key(cfg), "RAG_SERVER_LOG": str(log_file(cfg))}
    with open(log_file(cfg), "ab") as log:
        process = subprocess.Popen(
            launch_command(cfg),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    pid_file(cfg).write_text(str(process.pid))
    start_file(cfg).write_text(str(process.pid))
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
        os.killpg(pid, signal.SIGKILL)  # the supervisor and its server share a process group
    pid_path.unlink(missing_ok=True)
    build_file(cfg).unlink(missing_ok=True)  # says what a running server loaded; none runs now
    return True


def server_state(cfg: Config) -> str:
    """What `rag server status` says: up, crashed (how), or down."""
    if is_healthy(cfg):
        if not cfg.uses_local_server:
            return f"Up: {cfg.shown_endpoint} ({cfg.model})"
        return f"Up: {cfg.shown_endpoint} ({cfg.model}, {cfg.server_parallel} slots, {running_build(cfg)[0]})"
    crashed = crash_report(cfg)
    if crashed:
        return "Crashed " + crashed.removeprefix("The model server crashed ")
    return f"Down: no model server answers at {cfg.shown_endpoint}"


def is_our_server(pid: int, cfg: Config) -> bool:
    """Is `pid` our server's supervisor on this config's port? A pid file can outlive its process and the
    number be reused, so the command line is checked before any signal is sent."""
    return pid > 1 and _runs_our_server(_command_words(pid), cfg)


def _command_words(pid: int) -> list[str]:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    return [a.decode(errors="replace") for a in argv if a]


def _runs_our_server(words: list[str], cfg: Config) -> bool:
    port = str(cfg.server_port)
    return (
        MODULE in words
        and "--serve" not in words
        and any(a == port and b == "--port" for b, a in zip(words, words[1:], strict=False))
    )


def _last_log_line(cfg: Config) -> str:
    return last_meaningful_line(log_file(cfg)) or "no log output"
