"""Filters on entry metadata, `kind=paper` or `city=Boston`: which keys exist and how they parse.

Light to import, so the CLI checks `--filter` when it parses flags.
"""

from __future__ import annotations

from rag.assistant.schema import FILTER_KEYS, KIND, KINDS
from rag.errors import RagError


def parse_filters(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["kind=paper", "city=Boston"]` → dict, rejecting unknown keys and kinds."""
    filters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise RagError(f"Filter '{pair}' is not KEY=VALUE")
        if key not in FILTER_KEYS:
            raise RagError(f"Unknown filter key '{key}'; use one of {', '.join(FILTER_KEYS)}")
        if key == KIND and value not in KINDS:
            raise RagError(f"Unknown kind '{value}'; use one of {', '.join(KINDS)}")
        filters[key] = value
    return filters
