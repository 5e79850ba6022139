"""The one sanitiser for everything the chat page shows: documents and model text become plain text.

Gradio renders chat messages as Markdown with HTML allowed and sanitises in the browser, which
keeps images, links, forms and styles. So nothing from a document, its metadata or the model
reaches the page as markup: HTML and Markdown are escaped here, on the server, URLs are defanged
so they are never links or images, and invisible format characters are dropped. The only markup
in a message is what this module writes: the answer's own `[n]` links to its Sources panel and
bold text.
"""

from __future__ import annotations

import html
import re

from rag.assistant.context import visible

# ASCII characters Markdown gives a meaning to anywhere in a line; a backslash makes them literal.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")
# ... and those that mean something at the start of a line: a list item, a heading underline, a rule.
LINE_START_RE = re.compile(r"(?m)^(\s*)([-+=]|\d+(?=[.)]))([.)]?)")
# Schemes and bare "www." hosts a Markdown renderer would turn into links or fetch as images.
URL_RE = re.compile(r"\b((?:https?|ftp|file|javascript|data|vbscript|mailto):)(//)?|\b(www)\.", re.I)
CITATION_LINK_RE = re.compile(r"\\\[(\d+)\\\]")
BOLD_RE = re.compile(r"\\\*\\\*([^*\n]{1,200}?)\\\*\\\*")


def _defang(text: str) -> str:
    """ "https://evil.example" → "https[:]//evil.example": readable, never a link."""

    def repl(match: re.Match[str]) -> str:
        if match.group(3):
            return f"{match.group(3)}[.]"
        return f"{match.group(1)[:-1]}[:]{match.group(2) or ''}"

    return URL_RE.sub(repl, text)


def plain(text: str) -> str:
    """Any text shown as itself: no HTML, no Markdown, no links or images; line breaks kept."""
    text = MARKDOWN_SPECIAL.sub(r"\\\1", _defang(visible(str(text))))
    text = LINE_START_RE.sub(
        lambda m: m.group(1) + (f"{m.group(2)}\\{m.group(3)}" if m.group(3) else f"\\{m.group(2)}"), text
    )
    text = html.escape(text, quote=True)  # after the backslashes, so entities such as &#x27; stay whole
    return text.replace("\n", "  \n")


def code(text: str) -> str:
    """Text shown verbatim in a code span (an error message with a URL in it): never a link, image or tag."""
    flat = visible(str(text)).replace("`", "'").replace("\n", " ")
    return f"`` {flat} ``"


def answer_markdown(text: str, turn: str) -> str:
    """A verified answer: plain text, with each `[n]` a link to source n of this answer's Sources panel
    and `**bold**` kept."""
    shown = BOLD_RE.sub(r"**\1**", plain(text))
    return CITATION_LINK_RE.sub(lambda m: f"[[{m.group(1)}]](#src-{turn}-{m.group(1)})", shown)


def unescape_answer(markdown: str) -> str:
    """An answer as the page holds it, back to the text the model wrote (for the conversation history)."""
    text = re.sub(r"\[\[(\d+)\]\]\(#[^)]*\)", r"[\1]", markdown)
    text = html.unescape(text.replace("  \n", "\n"))
    return re.sub(r"\\([\\`*_{}\[\]()#!|~.)+=-])", r"\1", text)
