"""Your own documents: Markdown and reStructuredText by heading, HTML pages, PDFs by page."""

from __future__ import annotations

import pytest

from rag.errors import RagError
from rag.ingest.lists import doc_lists
from rag.ingest.load import load_entries, load_file
from rag.ingest.sections import Section, chunk_texts
from tests.conftest import FIXTURES
from tests.documents import SAVED_PAGE, blank_pdf, encrypted_copy, text_pdf

DOCS = FIXTURES / "docs"


def titles(entries):
    return [e.title for e in entries]


def test_markdown_is_split_by_heading_and_titled_by_its_heading_path():
    entries = load_file(DOCS / "tool.md")
    assert titles(entries) == [
        "tool.md › Quickdraw",
        "tool.md › Quickdraw › Setup › Installing plugins",
        "tool.md › Quickdraw › Continuing a conversation",
    ]
    plugins = entries[1]
    assert plugins.body().startswith("Quickdraw › Setup › Installing plugins\n")
    # The "#" comment inside the fence is code, not a heading; the fence is whole.
    assert "```bash\n# not a heading: a comment inside the code block\nquickdraw plugin install" in plugins.text
    assert plugins.text.rstrip().endswith("```")


def test_restructuredtext_headings_become_the_heading_path():
    assert titles(load_file(DOCS / "guide.rst")) == [
        "guide.rst › Colourbook",
        "guide.rst › Colourbook › Exporting palettes",
    ]


def test_restructuredtext_literal_blocks_become_whole_code_blocks(tmp_path):
    rst = tmp_path / "cli.rst"
    rst.write_text(
        "Usage\n=====\n\nInstall it like this::\n\n    pip install colourbook\n    colourbook init\n\n"
        ".. code-block:: python\n   :linenos:\n\n   import colourbook\n\n   colourbook.export('x')\n\nAfter.\n"
    )
    (entry,) = load_file(rst)
    assert "Install it like this:\n\n```\npip install colourbook\ncolourbook init\n```" in entry.text
    assert "```python\nimport colourbook\n\ncolourbook.export('x')\n```" in entry.text
    assert ":linenos:" not in entry.text and entry.text.rstrip().endswith("After.")


def test_a_restructuredtext_literal_block_about_markdown_stays_one_block(tmp_path):
    rst = tmp_path / "md.rst"
    rst.write_text("Fences\n======\n\nWrite a fence like this ::\n\n    ```python\n    print(1)\n    ```\n\nDone.\n")
    (entry,) = load_file(rst)
    assert "Write a fence like this\n\n````\n```python\nprint(1)\n```\n````" in entry.text


def test_a_long_section_is_cut_between_paragraphs_and_never_inside_a_code_block():
    code = "```python\n" + "\n".join(f"value_{i} = compute({i})" for i in range(120)) + "\n```"
    prose = "\n\n".join(f"Paragraph {i} explains one more step of the setup in plain words." for i in range(40))
    pieces = chunk_texts(Section(("Setup",), f"{prose}\n\n{code}\n\nA closing remark."), max_tokens=120)
    assert len(pieces) > 3
    holding = [p for p in pieces if "value_0 = compute(0)" in p]
    assert len(holding) == 1 and code in holding[0]
    assert all(p.count("```") in (0, 2) for p in pieces)


def test_a_long_table_is_cut_between_rows_and_every_piece_starts_with_its_header():
    header = "| Project | What it does |\n|---|---|"
    rows = [
        f"| [tool-{i}](https://example.org/{i}) | Adds feature number {i} to the command line. |" for i in range(40)
    ]
    table = header + "\n" + "\n".join(rows)
    pieces = chunk_texts(Section(("Projects",), f"Third-party projects:\n\n{table}"), max_tokens=120)
    with_rows = [p for p in pieces if "tool-" in p]
    assert len(with_rows) > 2
    assert all(header in p for p in with_rows)
    # every row whole, in one piece only
    assert [sum(row in p for p in pieces) for row in rows] == [1] * len(rows)
    # read back together, the table has its 40 rows once each (a repeated header is no row)
    (joined,) = doc_lists("Third-party projects:\n\n" + "\n".join(with_rows))
    assert joined.names == tuple(f"tool-{i}" for i in range(40))


def test_a_long_list_is_cut_between_items_and_an_item_keeps_its_lines():
    items = [f"- Step {i} of the setup\n  with a second line for step {i}." for i in range(40)]
    pieces = chunk_texts(Section(("Setup",), "\n".join(items)), max_tokens=100)
    assert len(pieces) > 2
    assert [sum(item in p for p in pieces) for item in items] == [1] * len(items)


def test_a_nested_list_or_a_lead_in_its_paragraph_is_still_cut_between_top_level_items():
    items = [f"- Step {i} of the setup\n  - its detail {i}\n  - and another {i}" for i in range(30)]
    pieces = chunk_texts(Section(("Setup",), "The steps are:\n" + "\n".join(items)), max_tokens=100)
    assert len(pieces) > 2 and pieces[0].startswith("The steps are:\n- Step 0")
    assert [sum(item in p for p in pieces) for item in items] == [1] * len(items)
    # an item longer than a piece is split by sentences, alone
    long_item = "- " + " ".join(f"Sentence {i} of one very long item." for i in range(60))
    pieces = chunk_texts(Section(("Setup",), "\n".join(["- short one", long_item, "- short two"])), max_tokens=100)
    assert len(pieces) > 3 and all(len(p) < 800 for p in pieces)


def test_myst_targets_are_anchors_not_text_and_stay_inside_code(tmp_path):
    doc = tmp_path / "flags.md"
    doc.write_text("(flags)=\n\n# Flags\n\nFlags are options.\n\n```text\n(kept)=\n```\n\n(next-section)=\n")
    (entry,) = load_file(doc)
    assert "(flags)=" not in entry.text and "(next-section)=" not in entry.text
    assert "(kept)=" in entry.text and "Flags are options." in entry.text
    crlf = tmp_path / "crlf.md"
    crlf.write_bytes(b"(flags)=\r\n\r\n# Flags\r\n\r\nFlags are options.\r\n")
    (entry,) = load_file(crlf)
    assert "(flags)=" not in entry.text and "Flags are options." in entry.text


def test_an_html_page_keeps_its_headings_and_content_and_drops_navigation_scripts_and_styles(tmp_path):
    page = tmp_path / "ferry.html"
    page.write_text(SAVED_PAGE)
    entries = load_file(page)
    assert titles(entries) == [
        "ferry.html › Ferrydocs",
        "ferry.html › Ferrydocs › Booking a crossing",
        "ferry.html › Ferrydocs › Booking a crossing › Refunds",
    ]
    text = "\n".join(e.text for e in entries)
    assert "- Bicycles travel free." in text and "```bash\nferrydocs refund --booking 4471\n```" in text
    for furniture in ("Pricing", "tracking", "color: red", "All rights reserved"):
        assert furniture not in text


def test_a_pdf_is_read_page_by_page_and_cited_by_page(tmp_path):
    pdf = text_pdf(
        tmp_path / "report.pdf",
        [["Harbour report 2026"], ["The north pier reopens in March.", "Repairs cost 2 million euros."]],
    )
    entries = load_file(pdf)
    assert titles(entries) == ["report.pdf, page 1", "report.pdf, page 2"]
    assert entries[1].extra["page"] == "2"
    assert "north pier reopens in March" in entries[1].text


def test_a_pdf_without_text_or_behind_a_password_says_so_in_one_line(tmp_path):
    pdf = text_pdf(tmp_path / "open.pdf", [["Some text"]])
    with pytest.raises(RagError, match="encrypted"):
        load_file(encrypted_copy(pdf, tmp_path / "locked.pdf"))
    with pytest.raises(RagError, match="no text layer"):
        load_file(blank_pdf(tmp_path / "scan.pdf"))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    with pytest.raises(RagError, match="not a readable PDF"):
        load_file(broken)


def test_a_folder_of_mixed_documents_ingests_with_stable_distinct_ids(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "ferry.html").write_text(SAVED_PAGE)
    text_pdf(tmp_path / "report.pdf", [["The north pier reopens in March."]])
    (tmp_path / "tool.md").write_text((DOCS / "tool.md").read_text())
    first = load_entries([tmp_path])
    again = load_entries([tmp_path])
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == len(first)
    assert {e.id.rsplit("/", 1)[0] for e in first} == {"chunk/report-pdf", "chunk/tool-md", "chunk/web/ferry-html"}


def test_a_fence_closes_only_on_a_bare_fence_of_its_own_mark():
    text = "````markdown\n```python\nprint(1)\n```\n````\n\nAfter the example."
    pieces = chunk_texts(Section(("Docs",), text))
    assert pieces == [text]  # the inner ``` lines are the example's text, not the end of the block


def test_an_articles_own_header_keeps_its_title(tmp_path):
    page = tmp_path / "post.html"
    page.write_text(
        "<html><head><title>Site</title></head><body><header>Site menu</header><article>"
        "<header><h1>Tide tables</h1></header><p>High tide is at noon.</p></article></body></html>"
    )
    entries = load_file(page)
    assert [e.title for e in entries] == ["post.html › Tide tables"]
    assert "Site menu" not in entries[0].text
