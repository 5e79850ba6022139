"""Abbreviations spelt out from the index's own words (no model, no index)."""

from __future__ import annotations

from rag.assistant.spelling import Abbreviations

TEXTS = [
    "Reinforcement learning for routing. Offline reinforcement learning at scale.",
    "Robust learning under shift. Differentially private counting; differentially private sketches.",
    "Continual learning of adapters. Contrastive learning of codes.",
    "Job posting in Boston, MA, US.",
]


def test_an_abbreviation_one_phrase_clearly_stands_for_is_spelt_out():
    words = Abbreviations(TEXTS, keep={"US"})
    assert words.expand("list the RL papers") == "list the RL papers — RL: reinforcement learning"
    spelt = "who wrote the DP sketches paper? — DP: differentially private"
    assert words.expand("who wrote the DP sketches paper?") == spelt


def test_ambiguous_unknown_and_kept_codes_stay_as_typed():
    words = Abbreviations(TEXTS, keep={"US"})
    assert words.expand("any CL papers?") == "any CL papers?"  # continual or contrastive learning: a tie
    assert words.expand("any NLP papers?") == "any NLP papers?"  # no phrase with those initials
    assert words.expand("jobs in the US?") == "jobs in the US?"  # the catalog reads country codes itself
    assert words.expand("is rl covered?") == "is rl covered?"  # lower case is a word, not an abbreviation


NAMES = [
    "Uncertainty quantification for PDEs",
    "Membership inference attacks on diffusion models",
    "Efficient updates",  # "EU", which the index also writes as a word
    "Optimal networks",  # "ON", a stop word in capitals
]
WITH_NAMES = [*TEXTS, *NAMES, "Teams across the EU evaluate systems using logs."]


def test_the_one_phrase_of_a_name_with_those_initials_is_spelt_out_though_said_once():
    words = Abbreviations(WITH_NAMES, names=NAMES)
    assert words.expand("who wrote the UQ paper?") == "who wrote the UQ paper? — UQ: uncertainty quantification"
    assert words.expand("any MIA papers?") == "any MIA papers? — MIA: membership inference attacks"
    assert words.stands_for_words("MIA")
    # Said once outside a name ("evaluate systems using"): as likely a coincidence of initials.
    assert words.expand("any ESU work?") == "any ESU work?"
    # A word the index uses itself ("EU"), and a common word in capitals ("turn a flag ON"), are no initials.
    assert words.expand("jobs in the EU?") == "jobs in the EU?"
    assert words.expand("turn a flag ON") == "turn a flag ON" and not words.stands_for_words("ON")
