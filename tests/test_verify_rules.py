"""Each rule of `verify`: what it rejects, what it keeps, and what its RAG_DISABLED_RULES switch lets through."""

from __future__ import annotations

from dataclasses import replace

from llama_index.core.schema import TextNode

from rag.assistant import citations
from rag.assistant.citations import verify
from rag.assistant.context import Context, Source


def _source(n: int, kind: str, passage: str, **meta: str) -> Source:
    node = TextNode(id_=f"{kind}/{n}", text=passage, metadata={"kind": kind, **meta})
    return Source(n, [node], passage)


def _paper(n: int, title: str, authors: str, extra: str = "") -> Source:
    return _source(n, "paper", f"Paper: {title}\nAuthors: {authors}\n{extra}".strip(), title=title)


def _off(rule: str) -> frozenset[str]:
    return frozenset({rule})


METHODS = Context([_source(n, "paper", f"The {w} method is fast.", title=w) for n, w in ((1, "alpha"), (2, "beta"))])
LISTED = Context(
    [
        _source(1, "paper", "Paper: EMC2: efficient MCMC negative sampling. Authors: Parameswaran Raman"),
        _source(2, "paper", "Paper: MADA: meta-adaptive optimizers through hyper-gradient descent. Authors: Tao Yu"),
        _source(3, "paper", "Paper: COLLAGE: light-weight low-precision strategy for LLM training. Authors: Tao Yu"),
    ]
)
MCMC = Context([_paper(1, "EMC2: efficient MCMC negative sampling", "Parameswaran Raman")])


def test_every_rule_is_a_switch_of_the_answer_path():
    from rag.assistant.answer import SWITCHABLE_RULES

    assert set(citations.RULES) <= SWITCHABLE_RULES
    assert len(set(citations.RULES)) == len(citations.RULES) == 17


def test_cited_entry_removes_a_number_no_source_has():
    result = verify("Alpha is fast [1, 7].", METHODS)
    assert result.text == "Alpha is fast [1]." and result.invalid == [7] and [c.n for c in result.citations] == [1]
    off = verify("Alpha is fast [1, 7].", METHODS, disabled=_off(citations.CITED_ENTRY))
    assert off.text == "Alpha is fast [1][7]." and off.invalid == [] and [c.n for c in off.citations] == [1]


def test_claim_share_checks_each_citation_of_a_list_against_its_own_item():
    right = verify("He wrote EMC2: efficient MCMC negative sampling [1], MADA: meta-adaptive optimizers [2].", LISTED)
    assert [c.n for c in right.citations] == [1, 2] and right.unsupported == []
    swapped = "He wrote EMC2: efficient MCMC negative sampling [2], MADA: meta-adaptive optimizers [1]."
    assert verify(swapped, LISTED).citations == [] and verify(swapped, LISTED).unsupported == [1, 2]
    assert [c.n for c in verify(swapped, LISTED, disabled=_off(citations.CLAIM_SHARE)).citations] == [2, 1]


def test_named_entry_wants_a_source_about_the_entry_the_sentence_names():
    dp = "Differentially private bias-term fine-tuning of foundation models"
    context = Context(
        [
            _paper(1, dp, "Zhiqi Bu, Yu-Xiang Wang"),
            _paper(2, "Transferring knowledge from large foundation models", "Shikai Qiu, Boran Han"),
        ]
    )
    wrong = f"The authors of “{dp}” are Shikai Qiu and Boran Han [2]."
    result = verify(wrong, context)
    assert result.citations == [] and result.unsupported == [2] and "Shikai" not in result.text
    right = verify(f"The authors of “{dp}” are Zhiqi Bu and Yu-Xiang Wang [1].", context)
    assert [c.n for c in right.citations] == [1]
    assert [c.n for c in verify(wrong, context, disabled=_off(citations.NAMED_ENTRY)).citations] == [2]


def test_bare_number_keeps_a_number_alone_only_as_the_answer_to_which_entry():
    deadline = "What is the application deadline for the paper on MCMC?"
    result = verify("[1]", MCMC, deadline)
    assert result.text == "" and result.citations == [] and result.unsupported == [1]
    assert [c.n for c in verify("[1]", MCMC, "Which paper is on MCMC?").citations] == [1]
    assert [c.n for c in verify("[1]", MCMC, deadline, _off(citations.BARE_NUMBER)).citations] == [1]


def test_one_of_two_keeps_a_sentence_that_chooses_between_what_the_question_offers():
    docs = Context([_source(1, "chunk", "Use arguments for subcommands, URLs or files. Options are for the rest.")])
    asked = "options or arguments: which are recommended for subcommands, urls, or files?"
    chosen = "Arguments are recommended for subcommands, URLs or files [1]."
    assert verify(chosen, docs, asked).text == chosen
    # naming both is no choice, in one sentence or in two; switched off, a choice made of the question's
    # words is an echo
    assert verify("Options or arguments are recommended for files [1].", docs, asked).text == ""
    both = "Options are recommended for subcommands, URLs or files [1]. " + chosen
    assert verify(both, docs, asked).text == ""
    assert verify(chosen, docs, asked, _off(citations.ONE_OF_TWO)).text == ""
    # the sources must tie the chosen one closer to the rest of the question; not under a negation
    assert verify("Options are recommended for subcommands, URLs or files [1].", docs, asked).text == ""
    one_sentence = Context([_source(1, "chunk", "Use arguments for subcommands, URLs or files, options for the rest.")])
    assert verify(chosen, one_sentence, asked).text == ""
    negated = "options or arguments: which are not recommended for subcommands, urls, or files?"
    assert verify("Options are not recommended for subcommands, URLs or files [1].", docs, negated).text == ""
    # a sentence that denies is no evidence for a choice
    denied = Context([_source(1, "chunk", "Arguments cannot be used for subcommands, URLs or files. Options can.")])
    assert verify(chosen, denied, asked).text == ""
    # an answer naming the other one in a sentence of its own words has still chosen
    told = chosen + " Options are for the rest [1]."
    assert verify(told, docs, asked).text == told
    # the choice is still a claim its source must hold: favoured, but not in the same words
    favoured = Context([_source(1, "chunk", "Arguments suit subcommands, URLs or files. Options are for the rest.")])
    assert verify("Arguments are mandatory for subcommands, URLs or files [1].", favoured, asked).text == ""


def test_question_echo_drops_a_sentence_of_the_questions_own_words():
    question = "What is the application deadline for the paper on MCMC?"
    echo = "The application deadline for the paper on MCMC is [1]."
    result = verify(echo, MCMC, question)
    assert result.text == "" and result.dropped == ["The application deadline for the paper on MCMC is."]
    named = verify("The paper on MCMC is [1].", MCMC, "Which paper is on MCMC?")
    assert named.text == "The paper on MCMC is “EMC2: efficient MCMC negative sampling” [1]."
    assert [c.n for c in verify(echo, MCMC, question, _off(citations.QUESTION_ECHO)).citations] == [1]
    # Words that only wrap the question's own add nothing either.
    libraries = Context([_source(1, "chunk", "Interactive input libraries: Textual and prompt-toolkit.")])
    asked = "which interactive input libraries do the docs recommend?"
    assert verify("The docs recommend using the interactive input libraries [1].", libraries, asked).text == ""
    named = verify(
        "The docs recommend Textual and prompt-toolkit as interactive input libraries [1].", libraries, asked
    )
    assert [c.n for c in named.citations] == [1]


def test_a_yes_or_no_answer_is_its_restated_question_checked_as_the_premise():
    context = Context([_source(1, "chunk", "Passing --help returns exit code 0. Bad input returns exit code 2.")])
    question = "does passing --help give exit code 0?"
    assert verify("Yes, passing --help gives exit code 0. [1]", context, question).text == (
        "Yes, passing --help gives exit code 0 [1]."
    )
    assert verify("Yes, passing --verbose gives colour output [1].", context, question).citations == []
    # Without the "Yes", the same words only echo the question.
    assert verify("Passing --help gives exit code 0 [1].", context, question).citations == []


def test_a_yes_to_a_topic_wants_every_word_of_the_topic_in_the_cited_source():
    """Class: yes/no questions about what an entry is about; one missing word is not a paraphrase there."""
    context = Context(
        [_paper(1, "Fewer truncations improve language modeling", "Hantian Ding", "Research area: Data preparation")]
    )
    question = "is the data preparation paper about tokenizers?"
    assert verify("Yes, the data preparation paper is about tokenizers [1].", context, question).citations == []
    right = verify("Yes, the data preparation paper is about truncations [1].", context, "is it about truncations?")
    assert [c.n for c in right.citations] == [1]
    off = verify(
        "Yes, the data preparation paper is about tokenizers [1].", context, question, _off(citations.QUESTION_PREMISE)
    )
    assert [c.n for c in off.citations] == [1]


def test_polarity_wants_a_yes_or_no_the_cited_sentence_says_the_same_way():
    note = "Multi-character short option names are not supported. Use a long option like --debug."
    context = Context([_source(1, "chunk", note)])
    question = "Does click support multi-character short options like -dbg?"
    wrong = "Yes, click supports multi-character short options like -dbg [1]."
    assert verify(wrong, context, question).citations == []
    right = verify("No, multi-character short options are not supported [1].", context, question)
    assert [c.n for c in right.citations] == [1]
    assert [c.n for c in verify(wrong, context, question, _off(citations.POLARITY)).citations] == [1]
    # The denial may stand in the sentence after the one that names the thing.
    nargs = Context(
        [
            _source(
                1,
                "chunk",
                "Options can take several values. To make an option take multiple values, pass in nargs. "
                "You may pass any positive integer, but not -1. Each value is converted by the option's type.",
            )
        ]
    )
    asked, yes = "can I use nargs=-1 on an option?", "Yes, you can use nargs=-1 on an option [1]."
    assert verify(yes, nargs, asked).citations == []
    assert [c.n for c in verify(yes, nargs, asked, _off(citations.POLARITY)).citations] == [1]
    # A "No" that states another value is checked as any claim, not by the source's denial.
    codes = Context([_source(1, "chunk", "Passing --help returns exit code 0. Bad input returns exit code 2.")])
    other = verify("No, bad input returns exit code 2 [1].", codes, "does bad input give exit code 0?")
    assert [c.n for c in other.citations] == [1]


def test_a_long_question_restated_holds_its_citation_by_the_answer_it_adds():
    rules = (
        "To make it into the lists above, a project must be actively maintained and must have a "
        "reasonable number of stars (at least 20)."
    )
    context = Context([_source(1, "chunk", rules), _source(2, "chunk", "Other projects extend Click.")])
    question = "what is the minimum number of GitHub stars a third-party project needs to get listed in the docs?"
    right = "The minimum number of GitHub stars a third-party project needs to get listed in the docs is 20 [1]."
    assert [c.n for c in verify(right, context, question).citations] == [1]
    assert verify(right.replace("[1]", "[2]"), context, question).citations == []  # [2] holds no "20"
    # An entry's question words say which entry: a paper holding the names is not "the DP paper".
    paper = Context([_paper(1, "Repository-level code completion", "Di Wu; Wasi Ahmad")])
    asked = "who are the authors of the DP fine-tuning paper"
    assert verify("The authors of the DP fine-tuning paper are Di Wu and Wasi Ahmad [1].", paper, asked).citations == []


def test_number_anchor_wants_a_number_beside_what_it_counts():
    extra = "Author order: first Chung Yiu Yau, last Mingyi Hong (5 authors)"
    context = Context([_paper(1, "EMC2: Efficient MCMC negative sampling", "Chung Yiu Yau, Mingyi Hong", extra)])
    question = "How many citations has the EMC2 paper received?"
    wrong = "The EMC2 paper has received 5 citations [1]."
    assert verify(wrong, context, question).citations == []
    right = verify("The EMC2 paper has 5 authors [1].", context, "How many authors does the EMC2 paper have?")
    assert right.text == "The EMC2 paper has 5 authors [1]." and [c.n for c in right.citations] == [1]
    # The premise rule stops it too ("citations … received" is nowhere in [1]): off, number-anchor alone does.
    assert verify(wrong, context, question, _off(citations.QUESTION_PREMISE)).citations == []
    both = frozenset({citations.NUMBER_ANCHOR, citations.QUESTION_PREMISE})
    assert [c.n for c in verify(wrong, context, question, both).citations] == [1]


def test_question_premise_is_not_made_true_by_a_cited_title():
    context = Context([_paper(1, "An efficient self-learning framework", "Hitesh Tulsiani")])
    question = "Which Amazon paper at ICML 2024 won a best paper award?"
    wrong = "The paper “An efficient self-learning framework” [1] won a best paper award at ICML 2024."
    result = verify(wrong, context, question)
    assert result.citations == [] and result.unsupported == [1] and "award" not in result.text
    right = verify("Hitesh Tulsiani wrote the paper [1].", context, "Who wrote the self-learning framework paper?")
    assert [c.n for c in right.citations] == [1]
    assert [c.n for c in verify(wrong, context, question, _off(citations.QUESTION_PREMISE)).citations] == [1]


def test_the_title_words_a_question_names_a_paper_by_are_not_its_premise():
    """Class: a question about a named paper the guide says nothing more of, answered with its title."""
    context = Context([_paper(1, "Fewer truncations improve language modeling", "Hantian Ding")])
    question = "what datasets did the Fewer truncations paper evaluate on?"
    wrong = "The Fewer truncations paper evaluated on language modeling datasets [1]."
    assert verify(wrong, context, question).citations == []
    assert [c.n for c in verify(wrong, context, question, _off(citations.QUESTION_PREMISE)).citations] == [1]
    right = verify(
        "The Fewer truncations paper is by Hantian Ding [1].", context, "who wrote the Fewer truncations paper?"
    )
    assert [c.n for c in right.citations] == [1]


def test_sentence_support_wants_the_words_together_in_one_place_of_the_passage():
    text = (
        "The International Technology group owns delivery to the varied customers of the world. "
        "We do this through partnerships with other teams. You will be joining the Tamale team to work on Haul. "
        "Tamale builds a discovery-driven shopping experience. We want a scientist with a strong "
        "machine learning background."
    )
    context = Context([_source(1, "posting", text, city="Madrid", country="ES")])
    question = "Which team is hiring in Madrid?"
    scattered = "The team hiring in Madrid is the International Machine Learning team [1]."
    assert verify(scattered, context, question).citations == []
    held = verify("The Madrid team is the Tamale team, working on Haul [1].", context, question)
    assert [c.n for c in held.citations] == [1]
    assert [c.n for c in verify(scattered, context, question, _off(citations.SENTENCE_SUPPORT)).citations] == [1]


def test_new_words_must_stand_in_the_cited_source():
    context = Context([_source(1, "overview", "Amazon papers at ICML 2024 lean toward the theoretical.")])
    question = "In which city will ICML 2024 be held?"
    result = verify("ICML 2024 is held in Vienna [1].", context, question)
    assert result.citations == [] and result.unsupported == [1] and result.text == ""
    kept = verify("ICML 2024 papers lean toward the theoretical [1].", context, "What do they lean toward?")
    assert [c.n for c in kept.citations] == [1]
    off = verify("ICML 2024 is held in Vienna [1].", context, question, _off(citations.NEW_WORDS))
    assert off.text == "ICML 2024 is held in Vienna [1]."


def test_uncited_is_cited_by_code_when_one_source_holds_it_and_dropped_otherwise():
    areas = ("Membership inference attacks", "Privacy"), ("Multicalibration", "Hallucination mitigation")
    context = Context(
        [
            _source(n, "paper", f"Paper: {title}. Authors: Aaron Roth. Research area: {area}")
            for n, (title, area) in enumerate(areas, start=1)
        ]
    )
    held = verify("Multicalibration is in the Hallucination mitigation area.", context)
    assert held.text == "Multicalibration is in the Hallucination mitigation area [2]." and held.auto_cited == [2]
    wrong = "Multicalibration falls under the research area of Privacy."
    result = verify(wrong, context)
    assert result.text == "" and result.dropped == [wrong]
    off = verify(wrong, context, disabled=_off(citations.UNCITED))
    assert off.text == wrong and off.citations == [] and off.fact_sentences == 1


def test_uncited_cites_the_document_passage_that_holds_the_answer_to_a_restated_question():
    metadata = (
        "A compiled executable carries no package metadata, so version_option raises an error. "
        "Add --include-distribution-metadata=hello-cli to the build command."
    )
    context = Context([_source(1, "chunk", metadata), _source(2, "chunk", "Install Nuitka in the environment.")])
    question = "what Nuitka flag fixes version_option failing because the package isn't installed?"
    answer = "The flag that fixes version_option failing is --include-distribution-metadata=hello-cli [2]."
    result = verify(answer, context, question)
    assert result.auto_cited == [1] and result.text.endswith("hello-cli [1].")


def test_an_answer_that_speaks_to_the_reader_is_held_by_the_sources_plain_instruction():
    # "you can", "if you", "your": an answer's way of addressing the asker, no fact a source must hold.
    doc = "If a list is passed to envvar, the first environment variable found is picked."
    context = Context(
        [_source(1, "chunk", doc), _source(2, "chunk", "Options can be pulled from environment variables.")]
    )
    question = "can an option read its value from an env var, and what if I give it several names?"
    answer = "If you give your option several names, the first environment variable found is picked."
    result = verify(answer, context, question)
    assert result.auto_cited == [1] and result.text.endswith("is picked [1].")


def test_one_citation_for_a_paragraph_is_checked_for_each_of_its_sentences():
    counting = "To count the occurrence of an option, set count=True. Counting is commonly used for verbosity."
    context = Context([_source(1, "chunk", counting), _source(2, "chunk", "The -v option enables verbose mode.")])
    question = "how do I count repeated -vvv flags?"
    for answer in (
        "To tally how often an option appears, set count=True. Counting is used for verbosity [1].",
        "To tally how often an option appears, set count=True. Counting is used for verbosity. The source is [1].",
    ):
        result = verify(answer, context, question)
        assert result.text.startswith("To tally how often an option appears, set count=True [1]. Counting is used for")
        assert result.dropped == [] or result.dropped == ["The source is."]
        off = verify(answer, context, question, disabled=_off(citations.FOLLOWING_CITATION))
        assert "count=True" not in off.text
    # The next citation in another paragraph, or one whose source does not hold it, is no support.
    split = "To tally how often an option appears, set count=True.\nThe -v option enables verbose mode [2]."
    assert "count=True" not in verify(split, context, question).text


def test_where_a_piece_sits_in_its_document_is_no_number_it_states():
    tuples = _source(1, "chunk", "By setting nargs to a number, each item of the tuple has one type.", title="")
    tuples.nodes[0].metadata["title"] = "options.md › Multi Value Options as Tuples (part 1)"
    context = Context([tuples])
    question = "can I use nargs=-1 on an option?"
    assert verify("Yes, you can use nargs=-1 on an option [1].", context, question).text == ""
    assert verify("You can set nargs to a number [1].", context, question).text.endswith("[1].")


def _install_doc() -> Context:
    text = "Installation\nInstall it with pipx:\n```bash\npipx install click-tool\n```\nThen run it."
    return Context([_source(1, "chunk", text, title="install.md")])


def test_code_block_is_kept_whole_only_when_a_source_holds_it():
    held = verify("Install it with pipx [1]:\n```bash\npipx install click-tool\n```", _install_doc())
    assert held.text.endswith("```bash\npipx install click-tool\n```") and held.dropped == []
    made_up = "Install it with pipx [1]:\n```bash\npipx install other-tool\n```"
    result = verify(made_up, _install_doc())
    assert "```" not in result.text and result.dropped == ["```bash\npipx install other-tool\n```"]
    assert "pipx install other-tool" in verify(made_up, _install_doc(), disabled=_off(citations.CODE_BLOCK)).text


def test_code_citations_are_removed_from_fences_and_inline_code():
    answer = "Run `pipx install click-tool [1]` to install it with pipx [1].\n```bash\npipx install click-tool [1]\n```"
    result = verify(answer, _install_doc())
    assert result.text.startswith("Run `pipx install click-tool` to install it with pipx [1].")
    assert result.text.endswith("```bash\npipx install click-tool\n```")
    off = verify(answer, _install_doc(), disabled=_off(citations.CODE_CITATIONS))
    assert "`pipx install click-tool [1]`" in off.text and "click-tool [1]\n```" in off.text


def test_a_yes_its_source_denies_is_answered_no_with_the_denying_sentence():
    """Class: yes/no questions whose answer is no, where a small model says yes (rule "denied-yes")."""
    from rag.assistant.quote import DENIED_YES, denial_answer

    note = "Short options take one dash. Multi-character short option names are not supported. Use --debug."
    context = Context([_source(1, "chunk", note)])
    question = "Does click support multi-character short options like -dbg?"
    replies = [verify("Yes, click supports multi-character short options like -dbg [1].", context, question)]
    assert replies[0].denials == [(1, "Multi-character short option names are not supported.")]
    answer = denial_answer(replies, context, question, frozenset())
    assert answer is not None and answer.text == "No: “Multi-character short option names are not supported.” [1]"
    assert denial_answer(replies, context, question, frozenset({DENIED_YES})) is None
    # A "Yes" with something else wrong (a claim its source does not hold) is not turned into a "No".
    unheld = verify("Yes, click supports multi-character short options in the config file [1].", context, question)
    assert unheld.denials == [] and denial_answer([unheld], context, question, frozenset()) is None
    # Nor is a "Yes" whose source agrees.
    agrees = Context([_source(1, "chunk", "Short options take one dash. Click supports short options like -d.")])
    kept = verify("Yes, click supports short options like -d [1].", agrees, "Does click support short options like -d?")
    assert kept.citations and kept.denials == []


def test_a_yes_citing_the_wrong_source_is_denied_by_the_source_that_holds_it():
    """Class: the same, when the "Yes" cites a source that does not hold it and the one that does denies it."""
    from rag.assistant.quote import denial_answer

    overview = _source(1, "chunk", "Adding options to commands is done with the option decorator.")
    nargs_text = "To make an option take multiple values, pass in nargs. You may pass any positive integer, but not -1."
    nargs = _source(2, "chunk", nargs_text)
    context, question = Context([overview, nargs]), "can i use nargs=-1 on an option?"
    replies = [verify("Yes, you can use `nargs=-1` on an option [1].", context, question)]
    assert replies[0].citations == [] and replies[0].denials == [(2, "You may pass any positive integer, but not -1.")]
    answer = denial_answer(replies, context, question, frozenset())
    assert answer is not None and answer.text == "No: “You may pass any positive integer, but not -1.” [2]"
    # Not when the source that would deny it is about another paper than the one the "Yes" names.
    kestrel = _paper(1, "KESTREL: Low-latency speech recognition", "Priya R", "KESTREL runs on phones.")
    walker_text = "WALKER node classification does not need many labels."
    walker = _paper(2, "WALKER: Label-efficient node classification", "Elena F", walker_text)
    other = verify(
        "Yes, KESTREL node classification does need many labels [1].",
        Context([kestrel, walker]),
        "does KESTREL node classification need many labels?",
    )
    assert other.citations == [] and other.denials == []


def test_existence_names_writes_the_name_of_what_a_there_is_sentence_cites():
    optimizers = Context([_paper(1, "MADA: meta-adaptive optimizers", "Kaan Ozkara", "MADA is a unified optimizer.")])
    said, asked = "There is a unified optimizer [1].", "is there any work on optimizers?"
    named = verify(said, optimizers, asked)
    assert named.text == "There is a unified optimizer: “MADA: meta-adaptive optimizers” [1]." and named.clean
    already = "Yes, MADA shows there is a unified optimizer [1]."  # the sentence names it before "there is"
    assert verify(already, optimizers, asked).text == already
    assert verify(said, optimizers, "what does MADA propose?").text == said  # not a question of existence
    assert verify(said, optimizers, asked, _off(citations.EXISTENCE_NAMES)).text == said
    # a sentence that only restates the question's words has not named the paper
    title = "Meta-adaptive optimizers by hyper-gradients"
    meta = Context([_paper(1, title, "Kaan Ozkara", "A unified optimizer.")])
    restated = "Yes, there is work on meta-adaptive optimizers [1]."
    asked = "is there work on meta-adaptive optimizers?"
    assert verify(restated, meta, asked).text == f"Yes, there is work on meta-adaptive optimizers: “{title}” [1]."
    assert verify(restated, meta, asked, _off(citations.ECHOED_NAME)).text == restated


def test_echoed_name_writes_the_title_in_when_the_sentence_only_restates_the_question():
    targets = Context([_paper(1, "Learning the target network in function space", "Ray Jiang")])
    asked = "Which paper studies target networks in reinforcement learning?"
    said = "The paper that studies target networks in reinforcement learning is [1]."
    named = verify(said, targets, asked)
    assert named.text == (
        "The paper that studies target networks in reinforcement learning is "
        "“Learning the target network in function space” [1]."
    )
    assert verify(said, targets, asked, _off(citations.ECHOED_NAME)).text == said
    # words the answer brings itself still name it, beside the question's
    own = "The paper learning the target network in function space is [1]."
    assert verify(own, targets, "Which paper is about target networks?").text == own
    # a posting's name is its city, which the question may name and the answer echo
    seattle = Context([_source(1, "posting", "Seattle, WA, USA. Build ranking models.", city="Seattle")])
    said = "Yes, there is a job in Seattle [1]."
    assert verify(said, seattle, "is there a job in Seattle?").text == said


def test_a_second_ask_is_kept_only_when_its_code_spans_stand_in_the_sources_it_cites():
    """Class: unanswerable questions where the second ask ("a source above holds the answer") invents a value."""
    from rag.assistant.answer import RETRY_CODE, retry_states_only_held_code

    runner = "Use CliRunner.invoke to run a command. The result holds the exit code and the output. # Runs"
    other = "A timeout is set with the `timeout` parameter of `Popen.wait`."  # in the context, not cited
    context = Context([_source(1, "chunk", runner), _source(2, "chunk", other)])
    invented = verify("To stop a hanging `CliRunner.invoke`, use its `timeout` parameter [1].", context, "timeout?")
    assert invented.citations and not retry_states_only_held_code(invented, context)
    assert retry_states_only_held_code(invented, context, disabled=frozenset({RETRY_CODE}))
    # The question's own code restated is no invention; a plain word of the question is not code it wrote.
    assert not retry_states_only_held_code(invented, context, "how do I set a timeout on CliRunner.invoke?")
    restated = replace(invented, text="No: `nargs=-1` is not taken by `CliRunner.invoke` [1].")  # as if verified
    assert retry_states_only_held_code(restated, context, "can I pass nargs=-1 to CliRunner.invoke?")
    assert not retry_states_only_held_code(restated, context, "can I pass nargs to CliRunner.invoke?")
    held = verify("Run the command with `CliRunner.invoke`; the result holds the exit code [1].", context, "how?")
    assert held.citations and retry_states_only_held_code(held, context)
    # A span inside a longer word, or a symbol that is only a comment mark, is not held.
    for said in ("The result holds the `exit` code and the output [1].", "The result holds the exit code `#` [1]."):
        partial = verify(said.replace("`exit`", "`exi`"), context, "what does the result hold?")
        assert partial.citations and not retry_states_only_held_code(partial, context)
