"""Misspelt names are put right against the index's own names; known words and short words stay."""

from __future__ import annotations

from rag.assistant.spelling import Speller

TEXTS = ["Paper: REPOFORMER: Selective retrieval for code completion. Who wrote it? Research area: Causal inference"]
NAMES = ["REPOFORMER: Selective retrieval for code completion", "Causal inference", "Björn Hoffmeister", "Bellevue"]


def test_a_misspelt_name_is_corrected_and_keeps_its_capital():
    speller = Speller(TEXTS, NAMES)
    assert speller.correct("Which area is the Repofromer paper in?") == "Which area is the Repoformer paper in?"
    assert speller.correct("papers on 'casual inference'") == "papers on 'causal inference'"
    assert speller.correct("jobs in Belevue") == "jobs in Bellevue"


def test_known_words_short_words_and_far_words_stay_as_typed():
    speller = Speller(TEXTS, NAMES)
    assert speller.correct("Who wrote it?") == "Who wrote it?"  # "wrote" is in the index
    assert speller.correct("deciding when to retrieve") == "deciding when to retrieve"  # no name: left as typed
    assert speller.correct("Is Rith an author?") == "Is Rith an author?"  # four letters, no name close enough
    assert speller.correct("Any jobs in Seattle?") == "Any jobs in Seattle?"  # no name of the index is near


def test_names_and_years_the_index_never_mentions_are_absent():
    speller = Speller([*TEXTS, "Published in 2024."], NAMES)
    assert speller.absent("Any jobs in Seattle?") == ["Seattle"]
    assert speller.absent("How many papers were there in 2023 and 2024?") == ["2023"]
    assert speller.absent("Is 'quantum annealing' covered?") == ["quantum", "annealing"]


def test_known_words_other_forms_and_near_misses_of_names_are_not_absent():
    speller = Speller(TEXTS, NAMES)
    assert speller.absent("Which Papers cover Causality?") == []  # other forms of the index's words
    assert speller.absent("Any jobs in Belevue?") == []  # a typo of a name is corrected, not absent
    assert speller.absent("Is Hoffmeyster an author?") == []  # too far to correct, too near to call absent
    assert speller.absent("seattle jobs?") == []  # a lower-case word is not read as a name
    assert speller.absent("Which paper is NOT about causes?") == []  # capitals for emphasis
    assert speller.absent("Thanks! Now list the papers.") == []  # a sentence's first word


def test_a_lower_case_word_that_is_no_english_word_is_corrected_as_a_name():
    speller = Speller(TEXTS, NAMES, common={"deciding", "casual", "retrieve", "when", "who", "wrote", "is", "it"})
    assert speller.correct("who wrote repofromer?") == "who wrote repoformer?"
    assert speller.correct("is it casual inference?") == "is it casual inference?"  # an English word, as typed
    assert speller.correct("deciding when to retrieve") == "deciding when to retrieve"


def test_another_form_of_a_word_of_the_index_is_left_alone():
    speller = Speller([*TEXTS, "Job posting in Bellevue."], [*NAMES, "Job posting"], common={"how", "many"})
    assert speller.correct("how many postings?") == "how many postings?"


def test_contractions_typed_without_an_apostrophe_get_it_back():
    from rag.assistant.spelling import with_apostrophes

    assert with_apostrophes("whats the paper with the fewest authors") == "what's the paper with the fewest authors"
    assert with_apostrophes("Dont list papers that isnt about RL") == "Don't list papers that isn't about RL"
    assert with_apostrophes("I cant find its title") == "I cant find its title"  # words of their own
    assert with_apostrophes("how many ppl wrote it w/ him?") == "how many people wrote it with him?"
    assert with_apostrophes("ppl w/o a job, see and/or w/2") == "people without a job, see and/or w/2"
    # in lower case only: "PPL" is perplexity, "Abt" a surname
    assert with_apostrophes("the lowest PPL, by Abt") == "the lowest PPL, by Abt"
