"""A prompt prefix read once, kept on disk as the server's KV cache, and restored into every slot.

Every answer's prompt starts with the same text (the system prompt, and in the corpus mode the whole
corpus). llama.cpp's server saves a slot's KV cache to a file and restores it into any slot
(`POST /slots/{id}?action=save|restore`), so a new server restores the prefix in well under a second
instead of reading it for a minute or more. It is read once per (prefix text, model, runtime build,
window, slots): the file's name is a hash of them. A build for this CPU computes the cache with other
kernels, so it reads its own; a file saved by a server with another number of slots does not load
(llama.cpp: "n_stream mismatch").
"""

from __future__ import annotations

import hashlib
import json

import httpx

from rag.config import Config
from rag.runtime.model import SHA256
from rag.runtime.server import auth_headers, base_url, running_build, slot_dir

KEEP_PREFIXES = 4


def prefix_file(cfg: Config, messages: list[dict[str, str]]) -> str:
    """The file name a prefix's KV cache is saved under, in `slot_dir`."""
    key = json.dumps(
        [messages, cfg.model, SHA256, running_build(cfg)[1], cfg.server_ctx, cfg.server_parallel], sort_keys=True
    )
    return f"prefix-{hashlib.sha256(key.encode()).hexdigest()[:24]}.bin"


def _slot_action(cfg: Config, slot: int, action: str, filename: str) -> bool:
    try:
        reply = httpx.post(
            f"{base_url(cfg)}/slots/{slot}",
            params={"action": action},
            json={"filename": filename},
            headers=auth_headers(cfg),
            timeout=cfg.llm_timeout,
        )
    except httpx.HTTPError:
        return False
    return reply.status_code == 200


def restore_prefix(cfg: Config, messages: list[dict[str, str]]) -> bool:
    """Put the saved prefix into every slot of the local server; False when none is saved (or it fails)."""
    name = prefix_file(cfg, messages)
    if not cfg.uses_local_server or not (slot_dir(cfg) / name).is_file():
        return False
    return all(_slot_action(cfg, slot, "restore", name) for slot in range(cfg.server_parallel))


def save_prefix(cfg: Config, messages: list[dict[str, str]], slot: int = 0) -> bool:
    """Save what `slot` just read for `messages`, and copy it into the other slots."""
    if not cfg.uses_local_server:
        return False
    name = prefix_file(cfg, messages)
    if not _slot_action(cfg, slot, "save", name):
        return False
    # Each corpus version, prompt variant or window saves its own (~140 MB for the guide): keep the newest.
    saved = sorted(slot_dir(cfg).glob("prefix-*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in saved[KEEP_PREFIXES:]:
        old.unlink(missing_ok=True)
    return all(_slot_action(cfg, other, "restore", name) for other in range(cfg.server_parallel) if other != slot)
