"""Citation verification: only sources that were in the context survive."""

from __future__ import annotations

from llama_index.core.schema import TextNode

from rag.assistant.citations import verify
from rag.assistant.context import Context, Source

NAMES = ["alpha", "beta", "gamma"]


def make_context(n_sources: int) -> Context:
    sources = []
    for n in range(1, n_sources + 1):
        node = TextNode(id_=f"paper/p{n}", text=f"Paper {n}", metadata={"kind": "paper", "title": f"Paper {n}"})
        sources.append(Source(n, [node], f"The {NAMES[n - 1]} method is fast."))
    return Context(sources)


def test_valid_citations_are_kept_in_order_of_use():
    result = verify("Beta is fast [2]. Alpha is fast [1]. Both are fast [1, 2].", make_context(3))
    assert [c.n for c in result.citations] == [2, 1]
    assert [c.ids[0] for c in result.citations] == ["paper/p2", "paper/p1"]
    assert result.text == "Beta is fast [2]. Alpha is fast [1]. Both are fast [1][2]."
    assert result.invalid == []


def test_citations_to_absent_sources_are_removed_and_reported():
    result = verify("Alpha is fast [1]. Made up [7]. Beta method [2, 9].", make_context(2))
    assert result.text == "Alpha is fast [1]. Beta method [2]."
    assert result.invalid == [7, 9] and result.dropped == ["Made up."]
    assert [c.n for c in result.citations] == [1, 2]


def test_abstention_is_detected():
    assert verify("The sources do not say.", make_context(2)).abstained
    assert not verify("Alpha is fast [1].", make_context(2)).abstained


def test_no_sources_means_no_citation_survives():
    result = verify("Paris [1].", Context())
    assert result.citations == [] and result.invalid == [1]


def test_citation_to_a_source_that_does_not_support_the_sentence_is_removed():
    node = TextNode(id_="paper/emc2", text="EMC2 negative sampling", metadata={"kind": "paper", "title": "EMC2"})
    context = Context([Source(1, [node], "Paper: EMC2: Efficient MCMC negative sampling for contrastive learning")])
    result = verify("The capital of France is Paris [1]. EMC2 uses MCMC negative sampling [1].", context)
    assert result.text == "EMC2 uses MCMC negative sampling [1]."
    assert result.unsupported == [1] and [c.n for c in result.citations] == [1]
    assert result.dropped == ["The capital of France is Paris."]


def test_the_leak_check_ignores_exactly_the_prompt_lines_written_as_format_examples():
    # leaks_prompt skips lines starting with "Example": the rules file must keep that word, and
    # imitating the example is an answer, not a leak.
    from rag.assistant.answer import leaks_prompt
    from rag.assistant.prompts import system_prompt
    from rag.config import PROMPTS_DIR

    system = system_prompt(PROMPTS_DIR)
    examples = [line for line in system.splitlines() if line.startswith("Example")]
    assert examples == ["Example of the format: <first fact> [2]. <second fact> [1]."]
    assert not leaks_prompt("Example of the format: <first fact> [2].", system)


def test_answers_that_repeat_the_system_prompt_are_detected():
    from rag.assistant.answer import leaks_prompt
    from rag.assistant.prompts import system_prompt
    from rag.config import PROMPTS_DIR

    system = system_prompt(PROMPTS_DIR)
    assert leaks_prompt("Sure. You are a research assistant.", system)
    assert leaks_prompt("My rules: use only facts stated in the sources; no outside knowledge.", system)
    assert not leaks_prompt("The sources do not say.", system)
    assert not leaks_prompt("EMC2 proposes efficient MCMC negative sampling [1].", system)


def test_a_reply_copying_a_worked_example_is_an_abstention_not_a_leak():
    # A small model with no answer sometimes writes out the system prompt's worked example instead.
    from rag.assistant.answer import PROMPT_WITHHELD, WORKED_EXAMPLE, check_reply
    from rag.assistant.prompts import system_prompt, worked_examples
    from rag.config import PROMPTS_DIR

    system, examples = system_prompt(PROMPTS_DIR), worked_examples(PROMPTS_DIR)
    copied = "No: widgets are never recycled [2]. The beta method is fast [2]."  # the example, then a source
    assert "No: widgets are never recycled [2]." in examples and examples in system
    reply = check_reply(copied, system, make_context(2), "can the runner be shared?", examples=examples)
    assert reply.abstained and reply.text != PROMPT_WITHHELD and reply.citations == []
    # Only the examples' answers count: a real answer may share a plain phrase with their made-up sources.
    limit = Context([Source(1, make_context(1).sources[0].nodes, "Set the depth limit to None to remove the limit.")])
    real = check_reply("Set it to None to remove the limit [1].", system, limit, "how?", examples=examples)
    assert not real.abstained and real.citations
    off = frozenset({WORKED_EXAMPLE})
    assert check_reply(copied, system, make_context(2), "q", disabled=off, examples=examples).text == PROMPT_WITHHELD
    # The instructions around the examples are still the prompt's own.
    leak = check_reply("Sure. You are a research assistant.", system, make_context(2), "q", examples=examples)
    assert leak.text == PROMPT_WITHHELD


def test_a_citation_after_the_full_stop_belongs_to_the_sentence_before():
    result = verify("The capital of France is Paris. [1] Alpha is fast. [1]", make_context(2))
    assert result.unsupported == [1] and [c.n for c in result.citations] == [1]
    assert result.text == "Alpha is fast [1]."


def _three_papers() -> Context:
    passages = [
        "Paper: EMC2: efficient MCMC negative sampling. Authors: Parameswaran Raman",
        "Paper: MADA: meta-adaptive optimizers through hyper-gradient descent. Authors: Parameswaran Raman",
        "Paper: COLLAGE: light-weight low-precision strategy for LLM training. Authors: Tao Yu",
    ]
    return Context(
        [
            Source(n, [TextNode(id_=f"paper/p{n}", text=p, metadata={"kind": "paper"})], p)
            for n, p in enumerate(passages, start=1)
        ]
    )


def test_each_inline_citation_in_a_list_is_checked_against_its_own_item():
    answer = "He wrote EMC2: efficient MCMC negative sampling [1], MADA: meta-adaptive optimizers [2] and COLLAGE [3]."
    result = verify(answer, _three_papers())
    assert [c.n for c in result.citations] == [1, 2, 3] and result.unsupported == []

    swapped = verify(
        "He wrote EMC2: efficient MCMC negative sampling [2], MADA: meta-adaptive optimizers [1].", _three_papers()
    )
    assert swapped.citations == [] and swapped.unsupported == [1, 2]


def test_a_citation_group_may_share_a_claim_but_each_source_must_hold_part_of_it():
    shared = verify(
        "Raman wrote EMC2 MCMC negative sampling and MADA meta-adaptive optimizers [1, 2].", _three_papers()
    )
    assert [c.n for c in shared.citations] == [1, 2]

    padded = verify(
        "Raman wrote EMC2 MCMC negative sampling and MADA meta-adaptive optimizers [1, 2, 3].", _three_papers()
    )
    assert [c.n for c in padded.citations] == [1, 2] and padded.unsupported == [3]


def _raman_papers() -> Context:
    titles = ["EMC2: efficient MCMC negative sampling", "MADA: meta-adaptive optimizers", "Variance-reduced methods"]
    return Context(
        [
            Source(
                n,
                [TextNode(id_=f"paper/p{n}", text=t, metadata={"kind": "paper", "title": t})],
                f"Paper: {t}. Authors: Parameswaran Raman",
            )
            for n, t in enumerate(titles, start=1)
        ]
    )


def test_a_list_of_bare_numbers_gets_the_names_of_its_verified_sources():
    result = verify("The papers by Parameswaran Raman are [1], [2], and [3].", _raman_papers())
    assert result.text == (
        "The papers by Parameswaran Raman are “EMC2: efficient MCMC negative sampling” [1], "
        "“MADA: meta-adaptive optimizers” [2], and “Variance-reduced methods” [3]."
    )


def test_only_verified_sources_are_named_and_written_names_are_not_repeated():
    # [9] is not in the context: it is removed, and the run that is left names only real sources;
    # EMC2 is named by the model already, so only [2] gets a name.
    result = verify("Parameswaran Raman wrote EMC2 [1], [9], [2].", _raman_papers())
    assert result.text == "Parameswaran Raman wrote EMC2 [1], “MADA: meta-adaptive optimizers” [2]."
    assert result.invalid == [9]
    dangling = verify("The papers by Parameswaran Raman are [1], [2] and [9].", _raman_papers())
    assert dangling.text.endswith("“MADA: meta-adaptive optimizers” [2].")
    # A single citation or a group supporting one claim is not a list.
    single = verify("Parameswaran Raman wrote it [2].", _raman_papers())
    assert single.text == "Parameswaran Raman wrote it [2]."
    group = verify("Parameswaran Raman wrote papers [1, 2].", _raman_papers())
    assert group.text == "Parameswaran Raman wrote papers [1][2]."
    spaced = verify("Parameswaran Raman wrote papers [1] [2].", _raman_papers())
    assert spaced.text == "Parameswaran Raman wrote papers [1] [2]."


def test_an_answer_of_numbers_only_becomes_a_list_of_names():
    result = verify("[1] [3]", _raman_papers())
    assert result.text == "“EMC2: efficient MCMC negative sampling” [1], “Variance-reduced methods” [3]"


def test_stemming_lets_a_reworded_claim_keep_its_citations():
    result = verify("The papers co-authored by Parameswaran Raman are [1], [2].", _raman_papers())
    assert [c.n for c in result.citations] == [1, 2] and result.unsupported == []


def test_postings_in_a_list_are_named_by_city():
    nodes = [
        TextNode(id_=f"posting/{c.lower()}", text="x", metadata={"kind": "posting", "city": c, "country": "IN"})
        for c in ("Bengaluru", "Gurugram")
    ]
    context = Context([Source(n, [node], "Job posting in India. Team: Amazon") for n, node in enumerate(nodes, 1)])
    result = verify("The postings in India are [1] and [2].", context)
    assert result.text == "The postings in India are the Bengaluru posting [1] and the Gurugram posting [2]."


def test_a_sentence_about_one_posting_must_cite_a_posting_in_its_city():
    def posting(n: int, city: str, text: str) -> Source:
        node = TextNode(id_=f"posting/{city.lower()}", text=text, metadata={"kind": "posting", "city": city})
        return Source(n, [node], text)

    context = Context(
        [
            posting(1, "Bengaluru", "Join the Machine Learning and Data Sciences team."),
            posting(2, "Madrid", "We look for a scientist with a strong machine learning background."),
        ]
    )
    # Every other word of the sentence stands in [2], the Madrid posting; only the city is wrong.
    question = "What does the posting want?"
    wrong = verify(
        "The Bengaluru posting wants a scientist with a strong machine learning background [2].", context, question
    )
    assert wrong.citations == [] and wrong.unsupported == [2] and "background" not in wrong.text
    right = verify(
        "The Madrid posting wants a scientist with a strong machine learning background [2].", context, question
    )
    assert [c.n for c in right.citations] == [2]


def test_an_uncited_sentence_is_cited_by_code_when_one_source_holds_it_and_dropped_otherwise():
    # Seen in the chat: two right, cited titles, then a wrong uncited claim about their areas.
    passages = [
        "Paper: Membership inference attacks. Authors: Aaron Roth. Research area: Privacy",
        "Paper: Multicalibration. Authors: Aaron Roth. Research area: Hallucination mitigation",
    ]
    context = Context(
        [
            Source(n, [TextNode(id_=f"paper/p{n}", text=p, metadata={"kind": "paper"})], p)
            for n, p in enumerate(passages, 1)
        ]
    )
    result = verify(
        "Aaron Roth co-authored Membership inference attacks [1] and Multicalibration [2]. "
        "They both fall under the research area of Privacy.",
        context,
        "Which papers did Aaron Roth co-author, and in which research areas?",
    )
    assert result.text == "Aaron Roth co-authored Membership inference attacks [1] and Multicalibration [2]."
    assert result.dropped == ["They both fall under the research area of Privacy."]
    uncited = verify("Multicalibration is in the Hallucination mitigation area.", context)
    assert uncited.text == "Multicalibration is in the Hallucination mitigation area [2]." and uncited.auto_cited == [2]


def test_a_cited_sentence_must_find_its_new_words_in_its_sources():
    # "ICML 2024" is in the source and in the question; "Vienna" is in neither.
    node = TextNode(id_="overview/g", text="", metadata={"kind": "overview"})
    context = Context([Source(1, [node], "Amazon papers at ICML 2024 lean toward the theoretical.")])
    result = verify("ICML 2024 is held in Vienna [1].", context, "In which city will ICML 2024 be held?")
    assert result.citations == [] and result.unsupported == [1] and result.text == ""
    assert verify("ICML 2024 papers lean toward the theoretical [1].", context, "What do they lean toward?").citations


def test_a_cited_sentence_must_find_the_questions_premise_in_its_sources():
    # Every new word is the title of [1]; "won a best paper award at ICML 2024" is only the question's.
    context = Context([_paper(1, "sl", "An efficient self-learning framework", "Hitesh Tulsiani")])
    question = "Which Amazon paper at ICML 2024 won a best paper award?"
    wrong = verify(
        "The paper “An efficient self-learning framework” [1] won a best paper award at ICML 2024.", context, question
    )
    assert wrong.citations == [] and wrong.unsupported == [1] and "award" not in wrong.text
    right = verify("Hitesh Tulsiani wrote the paper [1].", context, "Who wrote the self-learning framework paper?")
    assert [c.n for c in right.citations] == [1]
    # The entry's name is not the premise: "requires a degree" must stand in the posting, cited or not.
    node = TextNode(id_="posting/barcelona", text="", metadata={"kind": "posting", "city": "Barcelona"})
    team = Context([Source(1, [node], "You will lead the PRIMAS team of applied scientists.")])
    asked = "What degree does the Barcelona posting require?"
    for answer in ("The Barcelona posting requires a degree in applied science [1].", "It needs applied science."):
        assert verify(answer, team, asked).citations == []
    # A paper's title states what it is about, so it may hold what the question asks.
    emc2 = Context(
        [_paper(1, "emc2", "EMC2: Efficient MCMC negative sampling for contrastive learning", "Chung Yiu Yau")]
    )
    title = "EMC2 addresses the problem of efficient MCMC negative sampling for contrastive learning [1]."
    assert [c.n for c in verify(title, emc2, "What problem does EMC2 address in contrastive learning?").citations] == [
        1
    ]
    # One word of the question's may be its paraphrase ("stands for"), the rest stands in the source.
    overview = Context([Source(1, [node], "ICML, the International Conference on Machine Learning.")])
    stands = "ICML stands for International Conference on Machine Learning [1]."
    assert [c.n for c in verify(stands, overview, "What does ICML stand for?").citations] == [1]


def test_abstentions_become_one_plain_sentence():
    result = verify("The sources do not mention the GPU. The sources do not say.", make_context(1))
    assert result.text == "The sources do not say." and result.abstained


def test_a_source_named_only_by_its_number_gets_its_name():
    result = verify("The paper written by Parameswaran Raman about MCMC is [1].", _raman_papers())
    assert (
        result.text
        == "The paper written by Parameswaran Raman about MCMC is “EMC2: efficient MCMC negative sampling” [1]."
    )
    named = verify("The paper is EMC2 [1].", _raman_papers())
    assert named.text == "The paper is EMC2 [1]."


def test_a_sentence_of_the_questions_own_words_states_nothing():
    question = "What is the application deadline for the paper on MCMC?"
    result = verify("The application deadline for the paper on MCMC is [1].", _raman_papers(), question)
    assert result.text == "" and result.citations == [] and result.dropped
    assert verify("[1]", _raman_papers(), question).citations == []
    # When the question asks which entry, the number is the answer, and it gets its name.
    named = verify("The paper on MCMC is [1].", _raman_papers(), "Which paper is on MCMC?")
    assert named.text == "The paper on MCMC is “EMC2: efficient MCMC negative sampling” [1]."
    assert [c.n for c in named.citations] == [1]


def test_the_number_of_a_source_is_not_a_fact_it_states():
    question = "How many citations has the paper on MCMC received?"
    result = verify("The paper on MCMC has received 1 citation [1].", _raman_papers(), question)
    assert result.citations == [] and result.dropped == ["The paper on MCMC has received 1 citation."]


def test_each_citation_carries_the_passage_sentences_that_support_it():
    node = TextNode(id_="posting/madrid-1", text="", metadata={"kind": "posting", "city": "Madrid"})
    passage = (
        "At Amazon, we are customer-centric. You will be joining the Tamale team to work on Haul.\n"
        "The role improves the endless scroll experience. Travel is limited."
    )
    context = Context([Source(1, [node], passage)])
    result = verify(
        "The hire joins the Tamale team [1]. It improves the endless scroll experience [1].",
        context,
        "Which team will the Madrid hire join, and what does it improve?",
    )
    (citation,) = result.citations
    assert [text for _, _, text in citation.support] == [
        "You will be joining the Tamale team to work on Haul.",
        "The role improves the endless scroll experience.",
    ]
    assert all(passage[start:end] == text for start, end, text in citation.support)
    assert citation.as_json()["support"][0] == {"start": 36, "end": 88, "text": citation.support[0][2]}


def test_a_papers_supporting_line_is_the_one_holding_the_fact_not_its_title():
    title = "MADA: Meta-adaptive optimizers through hyper-gradient descent"
    passage = f"Paper: {title}\nAuthors: Kaan Ozkara, Parameswaran Raman\nResearch area: Learning algorithms"
    node = TextNode(id_="paper/mada", text="", metadata={"kind": "paper", "title": title})
    context = Context([Source(1, [node], passage)])
    area = verify(f"“{title}” is listed under Learning algorithms [1].", context)
    assert [text for _, _, text in area.citations[0].support] == ["Research area: Learning algorithms"]
    author = verify(f"Parameswaran Raman is an author of “{title}” [1].", context)
    assert [text for _, _, text in author.citations[0].support] == ["Authors: Kaan Ozkara, Parameswaran Raman"]
    about = verify("MADA proposes meta-adaptive optimizers through hyper-gradient descent [1].", context)
    assert [text for _, _, text in about.citations[0].support] == [f"Paper: {title}"]


def _paper(n: int, slug: str, title: str, authors: str, extra: str = "") -> Source:
    node = TextNode(id_=f"paper/{slug}", text=title, metadata={"kind": "paper", "title": title})
    return Source(n, [node], f"Paper: {title}\nAuthors: {authors}\n{extra}".strip())


def test_a_sentence_about_one_paper_must_cite_a_source_about_that_paper():
    dp = "Differentially private bias-term fine-tuning of foundation models"
    context = Context(
        [
            _paper(1, "dp", dp, "Zhiqi Bu, Yu-Xiang Wang", "Figure caption: training 2 – 30 times as fast."),
            _paper(2, "transfer", "Transferring knowledge from large foundation models", "Shikai Qiu, Boran Han"),
        ]
    )
    question = f"Who are the authors of “{dp}”?"
    wrong = verify(f"The authors of “{dp}” are Shikai Qiu and Boran Han [2].", context, question)
    assert wrong.unsupported == [2] and wrong.citations == [] and "Shikai" not in wrong.text
    right = verify(f"The authors of “{dp}” are Zhiqi Bu and Yu-Xiang Wang [1].", context, question)
    assert [c.n for c in right.citations] == [1] and right.unsupported == []
    # A sentence naming two papers is a comparison: the rule does not apply.
    both = verify("Shikai Qiu wrote “Transferring knowledge from large foundation models” [2].", context)
    assert [c.n for c in both.citations] == [2]


def test_a_caption_naming_the_paper_may_be_cited_for_it():
    title = "EMC2: Efficient MCMC negative sampling for contrastive learning"
    caption = TextNode(id_="caption/emc2", text="c", metadata={"kind": "caption", "title": "Figure"})
    context = Context(
        [
            _paper(1, "emc2", title, "Chung Yiu Yau"),
            Source(2, [caption], "In “EMC2”, the sampler converges globally at a rate of one over T."),
        ]
    )
    result = verify("EMC2's sampler converges globally at a rate of one over T [2].", context)
    assert [c.n for c in result.citations] == [2] and result.unsupported == []


def test_a_number_must_stand_in_the_cited_source_beside_what_it_counts():
    emc2 = _paper(1, "emc2", "EMC2: Efficient MCMC negative sampling", "Chung Yiu Yau, Mingyi Hong")
    emc2 = Source(1, emc2.nodes, emc2.passage + "\nAuthor order: first Chung Yiu Yau, last Mingyi Hong (5 authors)")
    context = Context([emc2])
    question = "How many citations has the EMC2 paper received?"
    wrong = verify("The EMC2 paper has received 5 citations [1].", context, question)
    assert wrong.citations == [] and "5 citations" not in wrong.text
    right = verify("The EMC2 paper has 5 authors [1].", context, "How many authors does the EMC2 paper have?")
    assert [c.n for c in right.citations] == [1] and right.text == "The EMC2 paper has 5 authors [1]."


def _one_posting() -> Context:
    text = (
        "The International Technology group owns delivery to the varied customers of the world. "
        "We do this through partnerships with other teams. You will be joining the Tamale team to work on Haul. "
        "Tamale builds a discovery-driven shopping experience. We want a scientist with a strong "
        "machine learning background."
    )
    meta = {"kind": "posting", "city": "Madrid", "region": "M", "country": "ES"}
    return Context([Source(1, [TextNode(id_="posting/g/madrid-1", text=text, metadata=meta)], text)])


def test_a_claim_is_held_by_one_place_of_a_source_not_by_words_scattered_over_it():
    """Class: a sentence whose words are each somewhere in the cited posting, but nowhere together."""
    question = "Which team is hiring in Madrid?"
    scattered = "The team hiring in Madrid is the International Machine Learning team [1]."
    assert verify(scattered, _one_posting(), question).citations == []
    assert verify(scattered, _one_posting(), question, frozenset({"sentence-support"})).citations  # the rule's worth
    held = verify("The Madrid team is the Tamale team, working on Haul [1].", _one_posting(), question)
    assert [c.n for c in held.citations] == [1]


def _install_doc() -> Context:
    text = "Installation\nInstall it with pipx:\n```bash\npipx install click-tool\n```\nThen run it."
    meta = {"kind": "chunk", "title": "install.md"}
    return Context([Source(1, [TextNode(id_="chunk/install.md/0", text=text, metadata=meta)], text)])


def test_a_code_block_is_kept_whole_when_a_source_holds_it_and_citations_never_go_inside():
    """Class: commands in answers about documentation, which sentence-by-sentence checking would cut."""
    answer = "Install it with pipx [1]:\n```bash\npipx install click-tool [1]\n```"
    result = verify(answer, _install_doc(), "How do I install it with pipx?")
    assert "```bash\npipx install click-tool\n```" in result.text and "[1]" in result.text.split("```")[0]
    made_up = verify("Install it with pipx [1]:\n```bash\npipx install other-tool\n```", _install_doc())
    assert "```" not in made_up.text and "pipx install other-tool" in "".join(made_up.dropped)


def test_a_code_blocks_indentation_is_shown_as_the_source_has_it():
    """Class: code in answers about documentation; indentation is code, not a gap a removal left."""
    code = "```python\n@click.group()\ndef cli():\n    pass\n```"
    text = f"Groups\nDefine a group:\n{code}"
    meta = {"kind": "chunk", "title": "groups.md"}
    context = Context([Source(1, [TextNode(id_="chunk/groups.md/0", text=text, metadata=meta)], text)])
    result = verify(f"Define a group [1]:\n{code}", context, "How do I define a group?")
    assert code in result.text and result.clean
