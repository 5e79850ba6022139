"""A saved web page → Markdown: headings, paragraphs, lists and code kept; page furniture dropped."""

from __future__ import annotations

import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

# Navigation, scripts, styles and forms are the site's, not the page's content.
BOILERPLATE = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
TEXT_BLOCKS = (*HEADINGS, "p", "li", "pre", "blockquote", "dt", "dd", "td", "th", "figcaption", "caption")


def html_to_markdown(html: str) -> tuple[str, str]:
    """(page title, Markdown of the page's main content)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(BOILERPLATE):
        if tag.name in ("header", "footer") and tag.find_parent(("main", "article")):
            continue  # an article's own header holds its title
        tag.decompose()
    root = soup.find("main") or soup.find("article") or soup.body or soup
    lines: list[str] = []
    if title and not root.find("h1"):
        lines.append(f"# {title}")
    for tag in root.find_all(TEXT_BLOCKS):
        if tag.find_parent(TEXT_BLOCKS):  # a paragraph inside a list item is read with the item
            continue
        lines.append(_block(tag))
    return title, "\n\n".join(line for line in lines if line.strip())


def _block(tag: Tag) -> str:
    if tag.name in HEADINGS:
        return "#" * int(tag.name[1]) + " " + tag.get_text(" ", strip=True)
    if tag.name == "pre":
        code = tag.get_text().strip("\n")
        language = next((c.removeprefix("language-") for c in _classes(tag) if c.startswith("language-")), "")
        return f"```{language}\n{code}\n```"
    text = tag.get_text(" ", strip=True)
    return f"- {text}" if tag.name == "li" and text else text


def _classes(tag: Tag) -> list[str]:
    code = tag.find("code")
    found = list(tag.get("class") or [])
    if isinstance(code, Tag):
        found += list(code.get("class") or [])
    return [str(c) for c in found]
