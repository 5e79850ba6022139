"""What library functions hand a front end: lines to print, a way to say things, a progress bar to fill."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

# Told one line for the user (standard output or standard error, as the caller chooses).
Say = Callable[[str], None]


@dataclass
class Outcome:
    """What a command prints: the lines for standard output, and warnings for standard error."""

    lines: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class ProgressBar(Protocol):
    """Makes a bar for `total` steps of `unit` ("B" counts bytes): a context manager whose value has
    .update(n), as tqdm's has."""

    def __call__(self, total: int, label: str, unit: str = "it") -> AbstractContextManager: ...
