"""Token accounting read from the local server's log."""
# ruff: noqa: E501 - log lines are quoted as the server writes them

from __future__ import annotations

from assistant.usage import add_usage, log_offset, usage_since

LOG = """\
INFO:     127.0.0.1:55644 - "POST /v1/chat/completions HTTP/1.1" 200 OK
Llama.generate: 52 prefix-match hit, remaining 522 prompt tokens to eval
llama_perf_context_print:        load time =       0.50 ms
llama_perf_context_print: prompt eval time =    3856.57 ms /   522 tokens (    7.39 ms per token,   135.35 tokens per second)
llama_perf_context_print:        eval time =    9865.25 ms /   196 runs   (   50.33 ms per token,    19.87 tokens per second)
llama_perf_context_print:       total time =   14033.87 ms /   718 tokens
"""
SECOND = """\
Llama.generate: 573 prefix-match hit, remaining 1 prompt tokens to eval
llama_perf_context_print: prompt eval time =       0.00 ms /     1 tokens (    0.00 ms per token,      inf tokens per second)
llama_perf_context_print:        eval time =    7123.73 ms /   236 runs   (   30.19 ms per token,    33.13 tokens per second)
"""


def test_each_request_reads_its_cached_and_evaluated_tokens(tmp_path):
    log = tmp_path / "server-8765.log"
    log.write_text("old request lines\n")
    offset = log_offset(log)
    with open(log, "a") as handle:
        handle.write(LOG + SECOND)
    first, second = usage_since(log, offset)
    assert (first.cached_tokens, first.evaluated_tokens, first.generated_tokens) == (52, 522, 196)
    assert round(first.prompt_rate) == 135 and first.prompt_tokens == 574
    assert (second.cached_tokens, second.evaluated_tokens, second.prompt_rate) == (573, 1, None)
    assert usage_since(log, log_offset(log)) == [] and usage_since(tmp_path / "missing.log", 0) == []


def test_an_answer_asked_twice_adds_both_requests_and_compares_first_token_to_the_first_read(tmp_path):
    log = tmp_path / "server.log"
    log.write_text(LOG + SECOND)
    timings = {"first_token_s": 4.2}
    for used in usage_since(log, 0):
        add_usage(timings, used)
    assert timings["prompt_tokens"] == 574 + 574 and timings["cached_tokens"] == 52 + 573
    assert timings["prompt_read_s"] == 3.85657 and round(timings["first_token_over_prompt_read"], 2) == 1.09
    assert round(timings["prompt_tokens_per_s"]) == round(523 / 3.85657)


def test_server_usage_collects_the_requests_finished_during_the_block(cfg, tmp_path):
    from assistant.server import log_file
    from assistant.usage import server_usage

    cfg = cfg.replace(model_dir=tmp_path / "models")
    log_file(cfg).parent.mkdir(parents=True)
    log_file(cfg).write_text(SECOND)  # an earlier request: not this block's
    with server_usage(cfg) as used, open(log_file(cfg), "a") as handle:
        handle.write(LOG)
    assert [u.evaluated_tokens for u in used] == [522]
    with server_usage(cfg.replace(base_url="http://127.0.0.1:9/v1")) as remote:  # no log to read
        pass
    assert remote == []
