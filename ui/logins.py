"""Who may open the chat: logins from `--auth` and a file, and the rule that an address other than
loopback needs one."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from rag.errors import RagError
from rag.outcome import Say


def chat_logins(
    host: str, auth: tuple[str, ...], auth_file: Path | None, serve_open: bool, warn: Say
) -> list[tuple[str, str]]:
    """The USER:PASS pairs to serve `host` with. Off loopback a chat without a login is refused unless
    `serve_open` is given, and then served with a warning: anyone who reaches the port can use it."""
    logins = login_pairs(auth, auth_file)
    if logins or is_loopback(host):
        return logins
    if not serve_open:
        raise RagError(
            f"Refusing to serve the chat on {host} without a login: give --auth USER:PASS "
            "(or RAG_UI_AUTH=FILE), or --no-auth to serve it open"
        )
    warn(f"Warning: the chat on {host} has no login; anyone who reaches it can use it.")
    return logins


def login_pairs(auth: tuple[str, ...], auth_file: Path | None) -> list[tuple[str, str]]:
    """USER:PASS pairs from `--auth` and from a file of USER:PASS lines (RAG_UI_AUTH)."""
    lines = list(auth)
    if auth_file is not None:
        try:
            lines += [line.strip() for line in auth_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise RagError(f"Cannot read the login file {auth_file}: {exc}") from exc
    pairs = []
    for line in lines:
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise RagError("A login must be USER:PASS with neither part empty")
        pairs.append((user, password))
    return pairs


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
