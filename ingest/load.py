"""Files → entries: validate each file, then parse guides or split anything else."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.assistant.schema import AREA, AUTHORS, CAPTION, CITY, COUNTRY, KIND, REGION, TITLE
from rag.errors import RagError
from rag.ingest.chunk import split_pages, split_sections, split_text
from rag.ingest.entries import Entry
from rag.ingest.guide import is_guide, parse_guide
from rag.ingest.html import html_to_markdown
from rag.ingest.pdf import pdf_pages
from rag.ingest.sections import markdown_sections, rst_to_markdown

PLAIN_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
RST_SUFFIXES = {".rst"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = PLAIN_SUFFIXES | MARKDOWN_SUFFIXES | RST_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
SUPPORTED = ", ".join(sorted(TEXT_SUFFIXES))
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the name it goes by: its path below the folder it was found in."""

    path: Path
    name: str


def expand_paths(
    paths: Iterable[Path], follow_symlinks: bool = False, warn: Callable[[str], None] | None = None
) -> list[SourceFile]:
    """Files as given; directories expand to the text and Markdown files below them.

    A file inside a folder that is a symlink to somewhere outside that folder is skipped
    (with a warning) unless `follow_symlinks`: ingesting a folder someone else wrote must
    not read the rest of the disk. Names are relative to the folder given, or to the
    common parent of files given one by one, so `a/notes.md` and `b/notes.md` differ.
    """
    found: list[tuple[Path, Path]] = []  # (file, folder its name is relative to)
    for path in paths:
        if not path.exists():
            raise RagError(f"No such file or directory: {path}")
        if path.is_dir():
            files = _files_below(path, follow_symlinks, warn)
            if not files:
                raise RagError(f"No documents ({SUPPORTED}) under {path}")
            found.extend((file, path) for file in files)
        elif path.suffix.lower() not in TEXT_SUFFIXES:
            raise RagError(f"{path}: unsupported file type '{path.suffix}'; give {SUPPORTED} files")
        else:
            found.append((path, Path()))
    loose = [file.parent for file, root in found if root == Path()]
    common = Path(os.path.commonpath([str(p.absolute()) for p in loose])) if loose else Path()
    named = {}
    for file, root in found:
        base = root if root != Path() else common
        named.setdefault(file, SourceFile(file, file.absolute().relative_to(base.absolute()).as_posix()))
    return list(named.values())


def _files_below(folder: Path, follow_symlinks: bool, warn: Callable[[str], None] | None) -> list[Path]:
    root = folder.resolve()
    files = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=follow_symlinks):
        dirnames.sort()
        for name in sorted(filenames):
            file = Path(dirpath) / name
            if file.suffix.lower() not in TEXT_SUFFIXES or not file.is_file():
                continue
            if not follow_symlinks and not file.resolve().is_relative_to(root):
                if warn:
                    warn(f"Skipped {file}: it links to {file.resolve()}, outside {folder} (--follow-symlinks reads it)")
                continue
            files.append(file)
    return files


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, or a RagError that names what is wrong with it."""
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
    if not data.strip():
        raise RagError(f"{path}: file is empty")
    return data


def read_text(path: Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, or a RagError that names what is wrong with it."""
    data = read_bytes(path, max_bytes)
    if b"\x00" in data[:8192]:
        raise RagError(f"{path}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RagError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from exc
    if not text.strip():
        raise RagError(f"{path}: file is empty")
    return text


def load_entries(
    paths: Iterable[Path],
    max_bytes: int = MAX_FILE_BYTES,
    follow_symlinks: bool = False,
    warn: Callable[[str], None] | None = None,
) -> list[Entry]:
    """Parse every file into entries; ids must be unique across all files."""
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for file in expand_paths(paths, follow_symlinks, warn):
        for entry in load_file(file.path, max_bytes, file.name):
            if entry.id in seen:
                raise RagError(f"Entry id '{entry.id}' occurs in both {seen[entry.id]} and {entry.source}")
            seen[entry.id] = entry.source
            entries.append(entry)
    return entries


# What `rag parse --json` shows of each entry, in this order.
PARSED_FIELDS = ("id", KIND, TITLE, AUTHORS, AREA, COUNTRY, REGION, CITY, "text", CAPTION)


def parsed_lines(path: Path, as_json: bool = False) -> list[str]:
    """`rag parse`: one line per entry of a file, its id, kind and label tab-separated, or a JSON object."""
    entries = load_entries([path])
    if as_json:
        return [json.dumps({k: entry.as_json()[k] for k in PARSED_FIELDS}, ensure_ascii=False) for entry in entries]
    return [f"{entry.id}\t{entry.kind}\t{entry.label}" for entry in entries]


def load_file(path: Path, max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> list[Entry]:
    """One file → entries: a guide by the guide parser, a PDF by page, Markdown, reStructuredText and
    HTML by heading, any other text by sentences."""
    source, name, suffix = str(path), name or path.name, path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        read_bytes(path, max_bytes)  # the size limit and the one-line errors of every file
        return split_pages(pdf_pages(path), source, name)
    text = read_text(path, max_bytes)
    if is_guide(text):
        return parse_guide(text, source)
    if suffix in HTML_SUFFIXES:
        _, text = html_to_markdown(text)
        if not text.strip():
            raise RagError(f"{path}: the page has no text outside navigation, scripts and styles")
    elif suffix in RST_SUFFIXES:
        text = rst_to_markdown(text)
    if suffix in PLAIN_SUFFIXES:
        return split_text(text, source, name)
    return split_sections(markdown_sections(text), source, name)
