"""Whole-index questions the metadata answers exactly (superlatives, counts, comparisons), written by code."""

from __future__ import annotations

from llama_index.core.schema import TextNode

from rag.assistant.aggregates import aggregate_answer
from rag.assistant.catalog import Match
from rag.assistant.citations import verify
from rag.assistant.context import Context, Source
from rag.assistant.retrieve import Retrieval

PAPERS = [
    ("Sparse routing for mixture models", "Reinforcement learning", "Ana Ruiz; Bo Li; Chen Wu"),
    ("Offline policy evaluation at scale", "Reinforcement learning", "Bo Li; Dara Singh"),
    ("Private counting with sketches", "Privacy", "Eve Adams; Bo Li; Chen Wu; Femi Ola"),
    ("Calibrated decoding for summaries", "LLM decoding", "Gil Tal"),
]


def corpus() -> Context:
    sources = []
    for n, (title, area, authors) in enumerate(PAPERS, start=1):
        meta = {"kind": "paper", "title": title, "area": area, "authors": authors}
        text = f"Paper: {title}\nResearch area: {area}\nAuthors: {authors.replace('; ', ', ')}"
        sources.append(Source(n, [TextNode(id_=f"paper/{n}", text=text, metadata=meta)], text))
    return Context(sources)


def answer(question: str, matches: list[Match] = (), disabled: frozenset[str] = frozenset()) -> str | None:
    context = corpus()
    ids = tuple(i for s in context.sources for i in s.ids)
    listing = aggregate_answer(Retrieval(question, [], list(matches), catalog_ids=ids), context, disabled)
    if listing is None:
        return None
    assert verify(listing.cited, context).clean  # every entry it names is cited and its citation holds
    return listing.text


def test_superlatives_rank_papers_by_authors_areas_by_papers_and_authors_by_papers():
    assert answer("Which paper has the most authors?").endswith("(4): “Private counting with sketches” [3].")
    assert "(1): “Calibrated decoding for summaries” [4]" in answer("which paper has the fewest authors")
    assert "second most authors" in answer("Which paper has the second-largest author list?")
    assert answer("Which research area has the most papers?").startswith(
        "Reinforcement learning has the most papers, 2"
    )
    assert answer("who is an author on the most papers?").startswith("Bo Li is on the most papers: 3 each.")


def test_a_superlative_within_a_named_area_counts_that_area_only():
    rl = Match("area", "Reinforcement learning", ("paper/1", "paper/2"))
    text = answer("Among the reinforcement learning papers, which has the biggest author list?", [rl])
    assert "among the 2 papers in Reinforcement learning (3): “Sparse routing for mixture models” [1]" in text


def test_counts_of_areas_and_of_one_papers_authors():
    assert answer("How many research areas are there?").startswith("The index lists 3 research areas:")
    text = answer("how many authors does Private counting with sketches have?")
    assert text.startswith("“Private counting with sketches” has 4 authors: Eve Adams, Bo Li, Chen Wu and Femi Ola [3]")


def test_the_distinct_values_of_a_field_are_counted_over_the_whole_index():
    kind = Match("kind", "paper", ("paper/1", "paper/2", "paper/3", "paper/4"))
    areas = "The index lists 3 research areas: LLM decoding, Privacy, Reinforcement learning."
    assert answer("how many research areas do they list papers under", [kind]) == areas
    assert answer("How many different authors are there?") == "The 4 papers have 7 distinct authors."
    # Another noun for the areas, a verb of grouping, examples in brackets: still the whole index's values.
    assert answer("Into how many topic headings (Privacy, LLM decoding, etc.) are the papers grouped?", [kind]) == areas
    assert answer("What's the most common research area?").startswith("Reinforcement learning has the most papers, 2:")
    # A name or a topic narrows the question: not the whole index's values.
    assert answer("Which authors wrote Sparse routing for mixture models?") is None
    assert answer("Which research areas have papers about decoding?") is None
    assert answer("Which authors are on Bo Li's papers?", [Match("author", "Bo Li", ("paper/1",))]) is None


def test_where_the_postings_are_each_place_once_and_cited():
    context = Context(
        [
            Source(1, [_posting("posting/1", "Boston", "US"), _posting("posting/2", "Bellevue", "US")], "Scientist."),
            Source(2, [_posting("posting/3", "Madrid", "ES")], "Engineer."),
        ]
    )
    ids = ("posting/1", "posting/2", "posting/3")
    for question in ("Where are the jobs located?", "list all the job locations pls"):
        listing = aggregate_answer(Retrieval(question, [], [], catalog_ids=ids), context)
        assert listing.text == "The 3 job postings are in 3 places: Bellevue [1]; Boston [1]; Madrid [2]."
    listing = aggregate_answer(Retrieval("Which countries have postings?", [], [], catalog_ids=ids), context)
    assert listing.text == (
        "The 3 job postings are in 2 countries: Spain: the Madrid posting [2]; "
        "United States: the Boston/Bellevue posting [1]."
    )
    # Papers have no country: the question is not about the postings' places.
    assert aggregate_answer(Retrieval("What countries are the papers from?", [], [], catalog_ids=ids), context) is None


def test_the_place_with_the_most_postings_counts_every_posting():
    context = Context(
        [
            Source(1, [_posting(f"posting/{i}", "Boston", "US") for i in (1, 2, 3)], "Scientist."),
            Source(2, [_posting("posting/4", "Madrid", "ES"), _posting("posting/5", "Boston", "US")], "Engineer."),
        ]
    )
    ids = tuple(f"posting/{i}" for i in range(1, 6))
    most = aggregate_answer(Retrieval("Which city has the most job postings?", [], [], catalog_ids=ids), context)
    assert most.text == "Boston has the most job postings, 4: Boston [1, 2]."
    fewest = aggregate_answer(Retrieval("which country has the fewest openings", [], [], catalog_ids=ids), context)
    assert fewest.text == "Spain has the fewest job postings, 1: Spain: the Madrid posting [2]."


def _posting(entry_id: str, city: str, country: str) -> TextNode:
    return TextNode(id_=entry_id, text="Scientist.", metadata={"kind": "posting", "city": city, "country": country})


def test_entries_whose_count_passes_a_bound_are_named_and_cited():
    assert answer("Which areas have more than one paper?").startswith("1 research area has more than one paper: Rein")
    assert answer("Which papers have more than two authors?") == (
        "2 of the 4 papers have more than two authors: “Sparse routing for mixture models” (3 authors) [1]; "
        "“Private counting with sketches” (4 authors) [3]."
    )
    assert answer("Which authors have more than one paper?") == (
        "2 of the 7 authors are on more than one paper: Bo Li (3): “Sparse routing for mixture models” [1], "
        "“Offline policy evaluation at scale” [2], “Private counting with sketches” [3]; "
        "Chen Wu (2): “Sparse routing for mixture models” [1], “Private counting with sketches” [3]."
    )
    assert answer("how many areas have just a single paper?").startswith("2 of the 3 research areas have just a single")
    assert answer("Which papers have fewer than 1 author?") == "None of the 4 papers have fewer than 1 author."


def test_the_longer_of_two_author_lists():
    text = answer("Which has more authors: Sparse routing for mixture models or Offline policy evaluation at scale?")
    assert text.startswith("“Sparse routing for mixture models” has more authors, 3, than “Offline policy")


def test_a_rule_switched_off_leaves_the_question_to_the_model_and_others_are_not_taken():
    assert answer("Which paper has the most authors?", disabled=frozenset({"superlative"})) is None
    assert answer("What is the sparse routing paper about?") is None
    assert answer("Who wrote the sparse routing paper?") is None  # one field: not a whole-index question


def test_nothing_is_counted_when_the_context_lacks_part_of_the_index():
    context = corpus()
    retrieval = Retrieval("Which paper has the most authors?", [], [], catalog_ids=("paper/1", "paper/99"))
    assert aggregate_answer(retrieval, context) is None


def test_the_authors_of_a_named_paper_on_other_papers():
    text = answer("Did any of the authors of Sparse routing for mixture models write another paper?")
    assert text.startswith("Yes, 2 other papers: Bo Li on “Offline policy evaluation at scale” [2]; Bo Li and Chen Wu")
    alone = answer("Did any of the authors of Calibrated decoding for summaries write another paper?")
    assert alone == "No other paper in the index has an author of: “Calibrated decoding for summaries” [4]."


def test_the_one_paper_of_a_named_area_is_the_paper_asked_about():
    decoding = Match("area", "LLM decoding", ("paper/4",))
    text = answer("How many people wrote the LD paper?", [decoding])
    assert text == "“Calibrated decoding for summaries” has 1 author: Gil Tal [4]."


def test_which_of_two_named_people_has_more_papers():
    bo = Match("author", "Bo Li", ("paper/1", "paper/2", "paper/3"))
    chen = Match("author", "Chen Wu", ("paper/1", "paper/3"))
    text = answer("Does Bo Li or Chen Wu have more papers?", [bo, chen])
    assert text.startswith("Bo Li has more papers: 3, against 2 for Chen Wu: “Sparse routing")


def test_negated_questions_get_the_set_difference():
    bo_li = Match("author", "Bo Li", ("paper/1", "paper/2", "paper/3"))
    chen_wu = Match("author", "Chen Wu", ("paper/1", "paper/3"))
    privacy = Match("area", "Privacy", ("paper/3",))
    assert answer("Which of Bo Li's papers doesn't have Chen Wu as a co-author?", [bo_li, chen_wu]) == (
        "1 of the 3 papers by Bo Li is not by Chen Wu: “Offline policy evaluation at scale” [2]."
    )
    assert answer("Bo Li has three papers: which are not in the privacy area?", [bo_li, privacy]) == (
        "2 of the 3 papers by Bo Li are not in Privacy: “Sparse routing for mixture models” [1]; "
        "“Offline policy evaluation at scale” [2]."
    )
    # Named by its words, not by the metadata: the entries holding them are set apart.
    assert answer("Which of Bo Li's papers is not about sketches?", [bo_li]) == (
        "2 of the 3 papers by Bo Li are not about “sketches”: “Sparse routing for mixture models” [1]; "
        "“Offline policy evaluation at scale” [2]."
    )


def test_job_locations_not_in_a_country_are_the_postings_elsewhere():
    context = Context(
        [
            Source(1, [_posting("posting/1", "Boston", "US")], "Scientist."),
            Source(2, [_posting("posting/2", "Madrid", "ES")], "Scientist."),
        ]
    )
    us = Match("country", "US", ("posting/1",))
    for question in ("which job locations are not in the US?", "Which of the postings at the end aren't in the US?"):
        asked = Retrieval(question, [], [us], catalog_ids=("posting/1", "posting/2"))
        listing = aggregate_answer(asked, context)
        assert listing is not None and listing.rule == "negation"
        assert listing.text == "1 of the 2 job postings in the index is not in United States: the Madrid posting [2]."


def test_a_negation_reads_an_abbreviation_where_it_was_typed():
    """ "RL" before the "not" selects; its meaning, added after the question, is not the excluded set."""
    rl = Match("area", "Reinforcement learning", ("paper/1", "paper/2"))
    chen_wu = Match("author", "Chen Wu", ("paper/1", "paper/3"))
    question = "which RL papers don't have chen wu as an author? — RL: reinforcement learning"
    assert answer(question, [rl, chen_wu]) == (
        "1 of the 2 papers in Reinforcement learning is not by Chen Wu: “Offline policy evaluation at scale” [2]."
    )


def test_a_negation_that_sets_nothing_apart_is_left_to_the_model():
    bo_li = Match("author", "Bo Li", ("paper/1", "paper/2", "paper/3"))
    assert answer("Which of Bo Li's papers is not about quantum chemistry?", [bo_li]) is None
    assert answer("Which paper with the most authors is not by Bo Li?", [bo_li], frozenset({"negation"})) is None
    # The other rules' lists would answer the opposite of a negated question.
    assert answer("Which paper does not have the most authors?") is None


def test_the_papers_the_guide_shows_a_figure_of_are_listed_from_their_caption_metadata():
    context = corpus()
    figured = context.sources[1].nodes[0]
    figured.metadata["caption"] = "Evaluation at scale, left to right."
    ids = tuple(i for s in context.sources for i in s.ids)
    for question in ("Which papers come with a figure?", "which papers have a caption in the guide?"):
        listing = aggregate_answer(Retrieval(question, [], catalog_ids=ids), context)
        assert listing is not None and listing.rule == "captions"
        assert listing.text == "1 paper comes with a figure and its caption: “Offline policy evaluation at scale” [2]."
        assert verify(listing.cited, context).clean
    for other in ("What does the figure show?", "Which papers are about image captions?"):  # not which have one
        assert aggregate_answer(Retrieval(other, [], catalog_ids=ids), context) is None
