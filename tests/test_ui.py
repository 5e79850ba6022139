"""The Gradio app, driven through gradio_client and through a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from rag.assistant.answer import Assistant
from rag.assistant.retrieve import HybridRetriever
from rag.config import load_config
from rag.ingest.load import load_entries
from rag.ingest.store import ingest_entries
from rag.ui.app import build_app, serve
from rag.ui.headers import CONTENT_SECURITY_POLICY
from rag.votes import feedback_path, read_votes
from tests.conftest import MINI, TEST_PORT, free_port
from tests.documents import text_pdf

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def app_url(index_cfg, retriever, model_server):
    port = free_port()
    app = serve(
        build_app(index_cfg, Assistant(index_cfg, retriever=retriever)), "127.0.0.1", port, prevent_thread_lock=True
    )
    yield f"http://127.0.0.1:{port}/"
    app.close()


def messages(result) -> tuple[str, dict[str, str]]:
    """The answer text and the titled panels (Sources, Retrieved context, Searched for)."""
    answer = next(m["content"] for m in result if not (m.get("metadata") or {}).get("title"))
    panels = {m["metadata"]["title"]: m["content"] for m in result if (m.get("metadata") or {}).get("title")}
    return answer, panels


def test_answer_cites_an_entry_shown_in_the_sources_panel(app_url):
    client = Client(app_url, verbose=False)
    result = client.predict("What does EMC2 propose for contrastive learning?", "all", "all", "all", api_name="/chat")
    answer, panels = messages(result)
    assert re.search(r"\[\[\d+\]\]\(#src-", answer)  # a linked citation
    sources = next(v for k, v in panels.items() if k.startswith("Sources"))
    assert "paper/emc2-efficient-mcmc-negative-sampling" in sources
    assert any(k.startswith("Retrieved context") for k in panels)
    # The passage's supporting sentence is highlighted (bold) in the quoted passage.
    assert any(line.startswith(">") and "**" in line for line in sources.splitlines())


def test_empty_question_is_a_message_in_the_chat(app_url):
    result = Client(app_url, verbose=False).predict("   ", "all", "all", "all", api_name="/chat")
    assert result[0]["content"] == "⚠️ `` The question is empty ``"


def test_follow_up_uses_the_history(app_url):
    client = Client(app_url, verbose=False)  # one client = one chat session with its own history
    client.predict("Who wrote the paper on Repoformer?", "all", "all", "all", api_name="/chat")
    answer, panels = messages(
        client.predict("What research area is that paper in?", "all", "all", "all", api_name="/chat")
    )
    assert "repoformer" in panels["Searched for"].lower()
    assert "code completion" in answer.lower()


@contextmanager
def chromium_page() -> Iterator:
    """A page in Debian's headless Chromium (skipped without it, unless RAG_REQUIRE_BROWSER is set)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("RAG_REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip("needs Debian's chromium (apt-get install chromium; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 1100})
        finally:
            browser.close()


@contextmanager
def served(cfg, retriever) -> Iterator[str]:
    """The chat app for `cfg` on a free loopback port, closed afterwards; yields its address."""
    port = free_port()
    app = serve(build_app(cfg, Assistant(cfg, retriever=retriever)), "127.0.0.1", port, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


# A model that cites a source that does not exist, states what no source says, then recites the system prompt.
UNVERIFIED_STREAM = [
    "TIDEGRAPH places each arriving edge ",
    "in one of four partitions [1]. ",
    "It was written by ",
    "aliens [7]. ",
    "You are a research ",
    "assistant. You answer questions about a collection ",
    "of documents using only the numbered sources. ",
    "Done.",
]
FORBIDDEN_ON_SCREEN = ("[7]", "aliens", "research assistant", "numbered sources")


@pytest.mark.browser
def test_browser_never_shows_unverified_text_while_streaming(mini_index_cfg, mini_retriever, scripted_endpoint):
    url, _ = scripted_endpoint(UNVERIFIED_STREAM, pause=0.4)
    with served(mini_index_cfg.replace(base_url=url), mini_retriever) as address, chromium_page() as page:
        page.goto(address)
        page.wait_for_selector("#chat")
        # Record every text the chat shows, at every moment of the stream.
        page.evaluate(
            "() => { window.seen = []; const chat = document.querySelector('#chat');"
            " new MutationObserver(() => window.seen.push(chat.innerText))"
            ".observe(chat, {subtree: true, childList: true, characterData: true}); }"
        )
        box = page.get_by_role("textbox").first
        box.fill("What does TIDEGRAPH propose for graph partitioning?")
        box.press("Enter")
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
        seen = page.evaluate("() => window.seen")
    shown = "\n".join(seen)
    assert any("four partitions" in text for text in seen), "the verified first sentence was never streamed"
    for forbidden in FORBIDDEN_ON_SCREEN:
        assert forbidden not in shown, forbidden


class Trap(BaseHTTPRequestHandler):
    """Records every request: an image or form target that must never be reached from the page."""

    hits: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    do_POST = do_GET


@pytest.mark.browser
def test_planted_markup_never_reaches_the_page(tmp_path, embedder, scripted_endpoint):
    trap = ThreadingHTTPServer(("127.0.0.1", 0), type("T", (Trap,), {"hits": []}))
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    at = f"http://127.0.0.1:{trap.server_address[1]}"
    folder = tmp_path / "docs"
    folder.mkdir()
    # Markup, not instructions: the instruction filter leaves it, so only the page sanitiser can stop it.
    (folder / "trap-note.md").write_text(
        f"EMC2 trap note about negative sampling. See [click]({at}/link) and <a href='{at}/a'>this</a>.\n"
        f"<input type=password name=p> <style>body{{background:url({at}/bg.png)}}</style> "
        f"<audio src='{at}/a.mp3' autoplay></audio> <video poster='{at}/v.png'></video>\n"
        f"<form action='{at}/form'><button>Go</button></form> <span style='background:url({at}/span.png)'>s</span>\n"
        f'```mermaid\ngraph TD; A-->B; click A "{at}/mermaid"\n```\n'
        # A zero-width space and full-width letters inside the URL: NFKC and the format-character strip
        # make it a URL again, which the sanitiser then defangs.
        f"![zw](ht\u200btp://{at.removeprefix('http://')}/zw.png) ![fw](ｈｔｔｐ://{at.removeprefix('http://')}/fw.png)\n"
    )
    cfg = load_config(env={}, data_dir=tmp_path / "data", server_port=TEST_PORT)
    ingest_entries(cfg, load_entries([MINI, folder]), embedder=embedder)
    url, _ = scripted_endpoint(
        [f"The EMC2 trap note is about negative sampling [{n}]. " for n in (1, 2, 3)]
        + [f"![x]({at}/answer.png) <img src={at}/answer2.png> [y]({at}/answer-link)"],
        pause=0.2,
    )
    requested: list[str] = []
    planted_markup = (
        f"a[href^='{at}']",
        f"img[src^='{at}']",
        "input[type=password]",
        "audio",
        "video",
        "form",
        ".mermaid",
        f"[style*='{at}']",
    )
    markup = ", ".join(f"#chat {selector}" for selector in planted_markup)
    cfg = cfg.replace(base_url=url)
    try:
        with served(cfg, HybridRetriever(cfg, embedder=embedder)) as address, chromium_page() as page:
            page.on("request", lambda request: requested.append(request.url))
            page.goto(address)
            page.wait_for_selector("#chat")
            # At every moment of the stream, not only at the end: any planted element ever in the chat.
            page.evaluate(
                "(markup) => { window.planted = []; const chat = document.querySelector('#chat');"
                " new MutationObserver(() => chat.querySelectorAll(markup).forEach("
                "e => window.planted.push(e.outerHTML.slice(0, 200))))"
                ".observe(chat, {subtree: true, childList: true, attributes: true}); }",
                markup.replace("#chat ", ""),
            )
            box = page.get_by_role("textbox").first
            box.fill("What does the EMC2 trap note say?")  # the answer states more than the question
            box.press("Enter")
            page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
            page.get_by_text("Retrieved context", exact=False).first.click()  # open every panel
            page.wait_for_timeout(1000)
            planted = page.evaluate("() => window.planted")
            planted += page.locator(markup).evaluate_all("els => els.map(e => e.outerHTML.slice(0, 200))")
            # Gradio's own icons carry <style>; a planted one would name the trap.
            planted += page.locator("#chat style").evaluate_all(
                f"els => els.filter(e => e.textContent.includes('{at}')).map(e => e.outerHTML)"
            )
            shown = page.inner_text("#chat")
    finally:
        trap.shutdown()
    assert "trap-note" in shown and "Sources (0)" not in shown  # the planted passage was cited and shown
    assert planted == []
    assert trap.RequestHandlerClass.hits == []
    assert "[click]" in shown or "this" in shown  # the markup's text is shown as text
    assert not [u for u in requested if not u.startswith(address)]


@pytest.mark.browser
def test_browser_shows_streamed_answer_and_sources(app_url):
    with chromium_page() as page:
        page.goto(app_url)
        box = page.get_by_role("textbox").first
        # Not a question asked before on this app: a cached answer would skip the reading stage.
        box.fill("What problem does EMC2 address in contrastive learning?")
        started = time.perf_counter()
        box.press("Enter")
        # The sources come first, while the model reads them.
        page.get_by_text("Reading ", exact=False).first.wait_for(timeout=60_000)
        sources_shown = time.perf_counter() - started
        # Time to first token as a person sees it: the first verified sentence, with its [n] link.
        page.locator("#chat a[href^='#src-']").first.wait_for(timeout=180_000)
        first_text = time.perf_counter() - started
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=180_000)
        answered = time.perf_counter() - started
        page.wait_for_timeout(500)  # the Sources panel opens by itself
        page.screenshot(path=str(SCREENSHOTS / "ui-answer.png"), full_page=True)
        body = page.inner_text("#chat")
        # A cited [n] is a link to its entry in the Sources panel: clicking it scrolls there.
        link = page.locator("#chat a[href^='#src-']").first
        target = page.locator(f"[id='{link.get_attribute('href')[1:]}']")
        link.click()
        page.wait_for_timeout(800)
        target_top = target.evaluate("e => e.getBoundingClientRect().top")
        hash_after_click = page.evaluate("() => location.hash")
        viewport_height = page.viewport_size["height"]
    assert "MCMC" in body or "negative sampling" in body
    assert "paper/emc2" in body  # the sources panel lists entry ids
    assert hash_after_click.startswith("#src-")
    assert 0 <= target_top < viewport_height, "the cited source is not scrolled into view"
    (SCREENSHOTS / "ui-first-token.txt").write_text(
        f"{sources_shown:.2f} s to the retrieved sources, {first_text:.2f} s to the first verified sentence, "
        f"{answered:.2f} s to the whole answer with its Sources panel, in the browser\n"
    )


def test_off_loopback_the_page_and_the_api_need_a_login(mini_index_cfg, scripted_endpoint):
    from rag.ui.app import launch

    url, _ = scripted_endpoint(["Readings are kept for 90 days, then deleted [1]."])
    port = free_port()
    app = launch(
        mini_index_cfg.replace(base_url=url), "0.0.0.0", port, auth=[("alice", "s3cret")], prevent_thread_lock=True
    )
    address = f"http://127.0.0.1:{port}/"
    try:
        assert httpx.get(address + "config", timeout=10).status_code in (401, 403)
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises its own kinds
            Client(address, verbose=False).predict("How long are readings kept?", "all", "all", "all", api_name="/chat")
        client = Client(address, auth=("alice", "s3cret"), verbose=False)
        answer, _ = messages(client.predict("How long are readings kept?", "all", "all", "all", api_name="/chat"))
        assert "90 days" in answer
    finally:
        app.close()


def test_the_cli_refuses_an_open_chat_off_loopback():
    from click.testing import CliRunner

    from rag.cli import cli

    result = CliRunner().invoke(cli, ["ui", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "without a login" in result.output


@pytest.mark.parametrize("mode", ["corpus", "retrieved"])
def test_two_people_never_see_each_others_conversation(mini_index_cfg, mini_retriever, scripted_endpoint, mode):
    url, _ = scripted_endpoint(["KESTREL recognises speech on small devices [1]."])
    with served(mini_index_cfg.replace(base_url=url, context_mode=mode), mini_retriever) as address:
        alice = Client(address, verbose=False)
        bob = Client(address, verbose=False)
        alice.predict("Who wrote WALKER?", "all", "all", "all", api_name="/chat")
        bob.predict("What is the KESTREL paper about?", "all", "all", "all", api_name="/chat")
        of_alice = messages(alice.predict("Which area is it in?", "all", "all", "all", api_name="/chat"))[1]
        of_bob = messages(bob.predict("Who wrote it?", "all", "all", "all", api_name="/chat"))[1]
    # Each follow-up names the entry its own conversation's last answer cited, and that is what was searched.
    assert "WALKER" in of_alice["Searched for"] and "KESTREL" not in of_alice["Searched for"]
    assert "KESTREL" in of_bob["Searched for"] and "WALKER" not in of_bob["Searched for"]


@pytest.mark.browser
def test_the_page_and_the_api_share_one_line_to_the_model(mini_index_cfg, mini_retriever, scripted_endpoint):
    """Three questions at once through a line one call wide (`RAG_MODEL_CALLS=1`): the model sees one at a time."""
    url, requests = scripted_endpoint(
        ["TIDEGRAPH places each arriving edge ", "in one of four partitions [1]. "], pause=1.0
    )
    with (
        served(mini_index_cfg.replace(base_url=url, model_calls=1), mini_retriever) as address,
        chromium_page() as page,
    ):
        page.goto(address)
        page.wait_for_selector("#chat")
        api_answers: list[list] = []
        callers = [
            threading.Thread(
                target=lambda q=q: api_answers.append(
                    Client(address, verbose=False).predict(q, "all", "all", "all", api_name="/chat")
                )
            )
            for q in (
                "What is the KESTREL paper about?",
                "What does the figure for the streaming partitioning paper show?",
            )
        ]
        box = page.get_by_role("textbox").first
        box.fill("What does TIDEGRAPH propose for graph partitioning?")
        box.press("Enter")
        for caller in callers:
            caller.start()
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
        for caller in callers:
            caller.join(60)
    assert len(api_answers) == 2 and len(requests) >= 3
    assert requests.load["most"] == 1, "the page and the API called the model at the same time"


@pytest.mark.browser
def test_the_page_forbids_external_images_and_form_targets(mini_index_cfg, mini_retriever, scripted_endpoint):
    """The second wall behind the sanitiser: markup planted in the page itself still cannot reach out."""
    trap = ThreadingHTTPServer(("127.0.0.1", 0), type("T", (Trap,), {"hits": []}))
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    at = f"http://127.0.0.1:{trap.server_address[1]}"
    url, _ = scripted_endpoint(["TIDEGRAPH places each arriving edge in one of four partitions [1]. "])
    with served(mini_index_cfg.replace(base_url=url), mini_retriever) as address, chromium_page() as page:
        assert httpx.get(address).headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        page.goto(address)
        page.wait_for_selector("#chat")
        violated = page.evaluate(
            """(at) => new Promise(resolve => {
                const seen = [];
                document.addEventListener('securitypolicyviolation', e => seen.push(e.effectiveDirective));
                document.body.insertAdjacentHTML('beforeend',
                  `<img src="${at}/planted.png"><form id="planted" method="post" action="${at}/planted-form">` +
                  `<input type="password" name="p" value="x"></form>`);
                document.getElementById('planted').submit();
                setTimeout(() => resolve(seen), 1500);
            })""",
            at,
        )
        page.goto(address)  # and the chat itself still works under the policy
        box = page.get_by_role("textbox").first
        box.fill("What does TIDEGRAPH propose for graph partitioning?")
        box.press("Enter")
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
    trap.shutdown()
    assert trap.RequestHandlerClass.hits == []
    assert {"img-src", "form-action"} <= set(violated)


@pytest.mark.browser
def test_a_vote_in_the_page_lands_in_the_feedback_file(mini_index_cfg, mini_retriever, scripted_endpoint, tmp_path):
    url, _ = scripted_endpoint(["TIDEGRAPH places each arriving edge ", "in one of four partitions [1]. "])
    cfg = mini_index_cfg.replace(base_url=url, data_dir=tmp_path / "votes")  # votes here; the index stays shared
    with served(cfg, mini_retriever) as address, chromium_page() as page:
        page.goto(address)
        page.wait_for_selector("#chat")
        box = page.get_by_role("textbox").first
        box.fill("What does TIDEGRAPH propose for graph partitioning?")
        box.press("Enter")
        page.get_by_text("Sources (", exact=False).first.wait_for(timeout=60_000)
        page.locator("#comment textarea").fill("Clear and cited")
        page.locator("#chat").get_by_label("Like", exact=True).first.click()
        page.get_by_text("Vote recorded with your comment").wait_for(timeout=10_000)
        page.screenshot(path=str(SCREENSHOTS / "ui-feedback.png"), full_page=True)
        votes, _ = read_votes(feedback_path(cfg))
        assert [(v.vote, v.comment) for v in votes] == [("up", "Clear and cited")]
        page.locator("#chat").get_by_label("Dislike", exact=True).first.click()  # a change of mind
        page.get_by_text("Vote recorded. Thank you.").wait_for(timeout=10_000)
    votes, _ = read_votes(feedback_path(cfg))
    assert len(feedback_path(cfg).read_text().splitlines()) == 2
    vote = votes[0]
    assert len(votes) == 1 and vote.vote == "down"
    assert vote.question == "What does TIDEGRAPH propose for graph partitioning?" and "four partitions" in vote.answer
    assert vote.citations and vote.citations[0]["ids"][0].startswith("paper/tidegraph")
    assert vote.citations[0]["ids"][0] in vote.retrieved and vote.index_version and vote.model


def test_votes_through_the_api_survive_a_killed_app(mini_index_cfg, scripted_endpoint, tmp_path):
    """`rag ui` as users start it; votes cast through gradio_client, then the process is killed (SIGKILL)."""
    url, _ = scripted_endpoint(["TIDEGRAPH places each arriving edge in one of four partitions [1]."])
    data = tmp_path / "data"
    shutil.copytree(mini_index_cfg.data_dir, data)
    port = free_port()
    env = os.environ | {"RAG_DATA_DIR": str(data), "OPENAI_BASE_URL": url}
    app = subprocess.Popen(
        [str(Path(sys.executable).with_name("rag")), "ui", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        address = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(address, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        alice, bob = Client(address, verbose=False), Client(address, verbose=False)
        for client, question, vote in (
            (alice, "What does TIDEGRAPH propose for graph partitioning?", "up"),
            (bob, "What is the KESTREL paper about?", "down"),
            (alice, "Who wrote WALKER?", "down"),
        ):
            client.predict(question, "all", "all", "all", api_name="/chat")
            client.predict(vote, f"comment on {question}", api_name="/vote")
    finally:
        app.kill()
        app.wait(10)
    votes, warnings = read_votes(feedback_path(mini_index_cfg.replace(data_dir=data)))
    assert warnings == []
    assert [(v.question, v.vote) for v in votes] == [
        ("What does TIDEGRAPH propose for graph partitioning?", "up"),
        ("What is the KESTREL paper about?", "down"),
        ("Who wrote WALKER?", "down"),
    ]
    assert all(v.comment == f"comment on {v.question}" for v in votes)


FOLDER_QUESTIONS = {
    "How do I install a plugin with plugman?": "Install a plugin with the plugman install command [1].",
    "When are invoices emailed?": "Invoices are emailed on the first working day of every month [1].",
    "How many of the surveyed teams deploy weekly?": "Forty percent of the surveyed teams deploy weekly [1].",
}
FOLDER_LABELS = ["install.md › Setup › Installing plugins", "billing.html › Accounts › Invoices", "survey.pdf, page 2"]


def documents_folder(folder: Path) -> Path:
    """A Markdown file, a saved web page and a two-page PDF, one fact each."""
    folder.mkdir()
    (folder / "install.md").write_text(
        "# Setup\n\nWhat you need first.\n\n## Installing plugins\n\n"
        "Install a plugin with the plugman install command.\n\n```bash\nplugman install weather\n```\n"
    )
    (folder / "billing.html").write_text(
        "<html><head><title>Accounts</title></head><body><nav>Home | Docs</nav><main><h1>Accounts</h1>"
        "<h2>Invoices</h2><p>Invoices are emailed on the first working day of every month.</p></main></body></html>"
    )
    text_pdf(
        folder / "survey.pdf", [["Survey of release habits."], ["Forty percent of the surveyed teams deploy weekly."]]
    )
    return folder


def ask_in_browser(cfg, retriever, questions, screenshot: str) -> tuple[str, str, list[str], list[str]]:
    """Ask `questions` in the page one after another: the heading, the page's text before the first
    question, each turn's chat text, and the label of the source each answer's last citation links to."""
    shown, cited = [], []
    with served(cfg, retriever) as address, chromium_page() as page:
        page.goto(address)
        page.get_by_text("What does install.md say about Installing plugins?").wait_for(timeout=60_000)
        heading = page.locator("h2").first.inner_text()
        before = page.inner_text("body")
        for n, question in enumerate(questions, start=1):
            box = page.get_by_role("textbox").first
            box.fill(question)
            box.press("Enter")
            page.get_by_text("Sources (", exact=False).nth(n - 1).wait_for(timeout=180_000)
            page.wait_for_timeout(500)
            # What the answer's [n] links to in its Sources panel (not the retrieved context beside it).
            anchor = page.locator("#chat a[href^='#src-']").last.get_attribute("href")[1:]
            cited.append(page.locator(f"[id='{anchor}']").locator("xpath=..").inner_text())
            shown.append(page.inner_text("#chat"))
        page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    return heading, before, shown, cited


@pytest.mark.browser
def test_a_folder_of_markdown_html_and_pdf_answers_with_section_and_page_citations(
    tmp_path, embedder, scripted_endpoint
):
    folder = documents_folder(tmp_path / "docs")
    cfg = load_config(env={}, data_dir=tmp_path / "data", collection="mydocs", server_port=TEST_PORT)
    ingest_entries(cfg, load_entries([folder]), embedder=embedder)
    url, _ = scripted_endpoint([], replies=[[reply] for reply in FOLDER_QUESTIONS.values()])
    cfg = cfg.replace(base_url=url)
    heading, before, shown, cited = ask_in_browser(
        cfg, HybridRetriever(cfg, embedder=embedder), FOLDER_QUESTIONS, "ui-documents.png"
    )
    assert "mydocs" in heading
    # The page offers what a folder of documents has: its sections as examples, no paper or city controls.
    assert "What does install.md say about Installing plugins?" in before
    assert not any(word in before for word in ("Research area", "City", "Search in"))
    assert "Install a plugin with the plugman install command" in shown[0]
    for label, source in zip(FOLDER_LABELS, cited, strict=True):
        assert label in source


@pytest.mark.browser
@pytest.mark.model
def test_the_local_model_answers_a_folder_in_the_browser_with_section_and_page_citations(
    tmp_path, embedder, index_cfg, model_server
):
    """The same folder and questions, answered by the real local model: each answer cites its file's
    section or page, and states the fact in that source."""
    folder = documents_folder(tmp_path / "docs")
    # The running server (its port and key live with the guide's index); the folder is another collection.
    cfg = index_cfg.replace(collection="mydocs-browser")
    ingest_entries(cfg, load_entries([folder]), embedder=embedder)
    heading, _, shown, cited = ask_in_browser(
        cfg, HybridRetriever(cfg, embedder=embedder), FOLDER_QUESTIONS, "ui-documents-model.png"
    )
    assert "mydocs-browser" in heading
    for label, source in zip(FOLDER_LABELS, cited, strict=True):
        assert label in source
    assert "plugman install" in shown[0]
    assert "first working day" in shown[1]
    assert re.search(r"[Ff]orty percent|40 ?%", shown[2])
