"""The steps `rag setup`, `rag ui` and `rag server start` run, and who may open the chat."""

from __future__ import annotations

import pytest

from rag.config import Config
from rag.errors import RagError
from rag.ingest.store import IngestReport
from rag.runtime.prefix import prefix_file
from rag.setup import index_summary, prepare, start_server, steps
from rag.ui.logins import chat_logins

ELSEWHERE = "http://127.0.0.1:9/v1"  # an endpoint of someone else's: no model file, no server to start


def report(added: int = 0, unchanged: int = 8) -> IngestReport:
    return IngestReport("v2", added + unchanged, added, 0, 0, unchanged, added, 1.25, 2.5)


def test_an_ingest_says_what_changed_or_that_nothing_did():
    assert index_summary(report(), "guides") == "Index 'guides' is up to date: 8 entries, nothing re-embedded."
    assert index_summary(report(added=2, unchanged=6), "guides") == (
        "Indexed 8 entries into 'guides' (version v2): 2 added, 0 updated, 0 removed, 6 unchanged; "
        "embedded 2 in 1.2 s, total 2.5 s."
    )


def test_the_steps_follow_the_endpoint(cfg):
    assert steps(cfg) == [
        "the model file",
        "the index (an existing one is kept)",
        "the model server",
        "its prompt prefix",
    ]
    assert steps(cfg.replace(base_url=ELSEWHERE), ingest=False) == ["the model server"]


def test_another_endpoint_needs_no_model_file_and_no_server_start(cfg):
    told: list[str] = []
    prepare(cfg.replace(base_url=ELSEWHERE), ingest=False, say=told.append)
    assert told == [f"Model server ready at {ELSEWHERE}"]


def test_a_server_start_without_an_index_leaves_the_prefix_to_the_first_question(cfg):
    told: list[str] = []
    warned: list[str] = []
    start_server(cfg.replace(base_url=ELSEWHERE), say=told.append, warn=warned.append)
    assert told == [f"Model server ready at {ELSEWHERE}"]
    assert len(warned) == 1 and warned[0].startswith("Prefix not prepared: No index 'guides'")


def test_loopback_needs_no_login_and_other_addresses_need_one(tmp_path):
    warned: list[str] = []
    assert chat_logins("127.0.0.1", (), None, False, warned.append) == []
    assert chat_logins("localhost", (), None, False, warned.append) == []
    assert chat_logins("0.0.0.0", ("alice:s3cret",), None, False, warned.append) == [("alice", "s3cret")]
    logins = tmp_path / "logins"
    logins.write_text("bob:pw\n\n carol:pw2 \n")
    assert chat_logins("10.0.0.5", (), logins, False, warned.append) == [("bob", "pw"), ("carol", "pw2")]
    assert warned == []
    with pytest.raises(RagError, match="Refusing to serve the chat on 0.0.0.0 without a login"):
        chat_logins("0.0.0.0", (), None, False, warned.append)
    assert chat_logins("0.0.0.0", (), None, True, warned.append) == []
    assert warned == ["Warning: the chat on 0.0.0.0 has no login; anyone who reaches it can use it."]


@pytest.mark.parametrize(
    ("auth", "message"),
    [(("alice",), "A login must be USER:PASS"), ((":pw",), "A login must be USER:PASS"), (("a:",), "USER:PASS")],
)
def test_a_malformed_login_is_refused(auth, message):
    with pytest.raises(RagError, match=message):
        chat_logins("127.0.0.1", auth, None, False, print)


def test_an_unreadable_login_file_is_one_line(tmp_path):
    with pytest.raises(RagError, match="Cannot read the login file"):
        chat_logins("127.0.0.1", (), tmp_path / "missing", False, print)


def test_a_saved_prefix_is_named_by_the_slots_it_was_saved_with():
    """llama.cpp cannot load a slot file saved with another number of slots ("n_stream mismatch")."""
    messages = [{"role": "system", "content": "You answer from the sources."}]
    two, also_two, one = (prefix_file(Config(server_parallel=n), messages) for n in (2, 2, 1))
    assert two == also_two and two != one
