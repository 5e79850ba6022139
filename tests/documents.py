"""Real PDF and HTML files built for tests: a text-layer PDF written byte by byte, a saved web page."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader, PdfWriter


def text_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF whose pages hold these lines in Helvetica (a real text layer, as a word processor writes)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        shown = " ".join(f"({_escape(line)}) Tj 0 -16 Td" for line in lines)
        stream = f"BT /F1 12 Tf 72 720 Td {shown} ET".encode("latin-1")
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
        content = len(objects)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>"
        )
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def encrypted_copy(source: Path, path: Path, password: str = "secret") -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, algorithm="RC4-128")
    with path.open("wb") as f:
        writer.write(f)
    return path


def blank_pdf(path: Path) -> Path:
    """Pages with no text layer, as a scanner writes them."""
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    with path.open("wb") as f:
        writer.write(f)
    return path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


SAVED_PAGE = """<!doctype html>
<html><head><title>Ferrydocs user guide</title><style>body { color: red }</style>
<script>var tracking = "do not index me";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
<main>
<h1>Ferrydocs</h1>
<p>Ferrydocs publishes timetables for small harbours.</p>
<h2>Booking a crossing</h2>
<p>Choose a harbour, then a sailing, then press <b>Reserve</b>.</p>
<ul><li>Cars need a vehicle ticket.</li><li>Bicycles travel free.</li></ul>
<h3>Refunds</h3>
<p>Refunds are paid within 14 days of a cancelled sailing.</p>
<pre><code class="language-bash">ferrydocs refund --booking 4471</code></pre>
</main>
<footer>Copyright Ferrydocs Ltd. All rights reserved.</footer>
</body></html>
"""
