"""Files → entries: validate each file, then parse guides or split anything else."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.chunk import split_text
from ingest.entries import Entry
from ingest.guide import is_guide, parse_guide
from rag.errors import RagError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".rst"}
MAX_FILE_BYTES = 20 * 1024 * 1024


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; directories expand to the text and Markdown files below them."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise RagError(f"No such file or directory: {path}")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
            if not found:
                raise RagError(f"No .txt or .md files under {path}")
            files.extend(found)
        elif path.suffix.lower() not in TEXT_SUFFIXES:
            raise RagError(f"{path}: unsupported file type '{path.suffix}'; give .txt or .md files")
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or a RagError that names what is wrong with it."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise RagError(f"{path}: file is {size / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB limit per file")
        data = path.read_bytes()
    except PermissionError as exc:
        raise RagError(f"{path}: permission denied") from exc
    except IsADirectoryError as exc:
        raise RagError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise RagError(f"{path}: cannot read ({exc.strerror})") from exc
    if b"\x00" in data[:8192]:
        raise RagError(f"{path}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RagError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    if not text.strip():
        raise RagError(f"{path}: file is empty")
    return text


def load_entries(paths: Iterable[Path], max_bytes: int = MAX_FILE_BYTES) -> list[Entry]:
    """Parse every file into entries; ids must be unique across all files."""
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for path in expand_paths(paths):
        for entry in load_file(path, max_bytes):
            if entry.id in seen:
                raise RagError(f"Entry id '{entry.id}' occurs in both {seen[entry.id]} and {entry.source}")
            seen[entry.id] = entry.source
            entries.append(entry)
    return entries


def load_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> list[Entry]:
    """One file → entries, choosing the guide parser or the generic splitter."""
    text = read_text(path, max_bytes)
    source = str(path)
    if is_guide(text):
        return parse_guide(text, source)
    return split_text(text, source)
