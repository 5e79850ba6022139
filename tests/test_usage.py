"""Token accounting read from the `timings` llama.cpp's server puts in every reply."""

from __future__ import annotations

from types import SimpleNamespace

from rag.runtime.usage import add_usage, usage_of

# As llama.cpp's server writes them (the last chunk of a streamed reply, or the whole response).
FIRST = {"cache_n": 52, "prompt_n": 522, "prompt_ms": 3856.57, "predicted_n": 196, "predicted_ms": 9865.25}
SECOND = {"cache_n": 573, "prompt_n": 1, "prompt_ms": 0.0, "predicted_n": 236, "predicted_ms": 7123.73}


def test_a_reply_tells_its_cached_and_evaluated_tokens():
    first = usage_of({"timings": FIRST})
    second = usage_of(SimpleNamespace(timings=SECOND))  # an openai chunk keeps unknown fields as attributes
    assert (first.cached_tokens, first.evaluated_tokens, first.generated_tokens) == (52, 522, 196)
    assert round(first.prompt_rate) == 135 and first.prompt_tokens == 574
    assert (second.cached_tokens, second.evaluated_tokens, second.prompt_rate) == (573, 1, None)
    assert usage_of({"choices": []}) is None and usage_of(SimpleNamespace(timings=None)) is None


def test_an_answer_asked_twice_adds_both_requests_and_compares_first_token_to_the_first_read():
    timings = {"first_token_s": 4.2}
    for reply in (FIRST, SECOND):
        add_usage(timings, usage_of({"timings": reply}))
    assert timings["prompt_tokens"] == 574 + 574 and timings["cached_tokens"] == 52 + 573
    assert timings["prompt_read_s"] == 3.85657 and round(timings["first_token_over_prompt_read"], 2) == 1.09
    assert round(timings["prompt_tokens_per_s"]) == round(523 / 3.85657)
