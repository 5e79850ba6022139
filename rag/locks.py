"""One cross-process lock: an exclusive `flock` on a file in the data directory."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import RagError


@contextmanager
def file_lock(path: Path, busy: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed) for the block.

    With `busy`, a lock another process holds is a RagError with that message at once; without,
    the block waits for it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (fcntl.LOCK_NB if busy else 0))
        except BlockingIOError as exc:
            raise RagError(busy or f"{path} is locked") from exc
        yield
