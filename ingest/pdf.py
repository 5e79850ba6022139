"""PDF pages through pypdf's text layer: one section per page, the page number kept for the citation."""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from rag.errors import RagError


def pdf_pages(path: Path) -> list[tuple[int, str]]:
    """(page number from 1, text) for every page with text; a RagError says why there is none."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every odd object; errors are ours
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not _opens_without_password(reader):
            raise RagError(f"{path}: PDF is encrypted (password protected); save an unlocked copy to ingest it")
        pages = [(n, (page.extract_text() or "").strip()) for n, page in enumerate(reader.pages, start=1)]
    except RagError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RagError(f"{path}: not a readable PDF ({exc})") from exc
    pages = [(n, text) for n, text in pages if text]
    if not pages:
        raise RagError(f"{path}: PDF has no text layer (scanned images?); run OCR on it first")
    return pages


def _opens_without_password(reader: PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except (DependencyError, FileNotDecryptedError, NotImplementedError):
        return False
