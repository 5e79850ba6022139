"""Citations are checked in code: only numbers of sources really in the context survive.

`verify` applies named rules in the order of `RULES`; each guards against one class of answer, and
each name is a switch in RAG_DISABLED_RULES, so `rag exam` can measure what a rule is worth.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from rag.assistant.context import Context, Source
from rag.assistant.names import cities, label_of, short_name
from rag.assistant.questions import TOPIC_END, TOPIC_VERBS, alternatives, asks_for_entry
from rag.assistant.schema import KIND_NOUNS, LAYOUT_WORDS, PAPER, POSTING
from rag.assistant.text import (
    CITATION_RE,
    DENIAL_RE,
    cited_numbers,
    joined,
    last_sentence,
    ordered_terms,
    sentence_parts,
    sentence_spans,
    sentences,
    terms,
)

T = TypeVar("T")

# Two or more bare numbers in a row, "[1], [2] and [3]" (or "[1] [3]"): a list naming none of its items.
BARE_LIST_RE = re.compile(r"\[\d+\](?:(?:\s*,\s*(?:and\s+)?|\s*;\s*|\s+and\s+|[ \t]+)\[\d+\])+")
# A source named by its number only: "The paper written by X is [1]." or "[1] proposes …".
BARE_REFERENCE_RE = re.compile(
    r"(?:\b(?:is|are|was|were|titled|called|named|paper|posting)\s*:?|:)[ \t]*\[(\d+)\](?=[ \t]*(?:[.!?,;]|$))"
    r"|^[ \t]*\[(\d+)\](?=[ \t]+[a-z])",
    re.M,
)
# What an abstaining sentence looks like; every abstention is shown as UNSUPPORTED.
ABSTAIN_RE = re.compile(
    r"(?:sources?|documents?) (do|does) not (say|contain|mention|provide|specify|state|include)"
    r"|not (mentioned|stated) in the (?:sources|documents)"
    r"|no (information|mention) (about|of|on)",
    re.I,
)
UNSUPPORTED = "The sources do not say."
# A fenced code block of an answer is checked as one unit, set aside before sentences are split.
FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.S)
INLINE_CODE_RE = re.compile(r"`[^`\n]+`")
CODE_MARK_RE = re.compile(r"\x00code(\d+)\x00")
SNIPPET_CHARS = 300


@dataclass(frozen=True)
class Citation:
    """A verified citation: the source number and the entries behind it."""

    n: int
    ids: tuple[str, ...]
    kind: str
    label: str
    snippet: str
    # The sentences of the source's passage that support what the citation is attached to, chosen by
    # the same check that kept the citation: (start, end) offsets into the passage, and their text.
    support: tuple[tuple[int, int, str], ...] = ()

    def as_json(self) -> dict:
        return {
            "n": self.n,
            "id": self.ids[0],
            "ids": list(self.ids),
            "kind": self.kind,
            "label": self.label,
            "snippet": self.snippet,
            "support": [{"start": start, "end": end, "text": text} for start, end, text in self.support],
        }


@dataclass(frozen=True)
class Verified:
    """The answer with invalid citations and unsupported sentences removed, and what was cited."""

    text: str
    citations: list[Citation]
    invalid: list[int]
    abstained: bool
    unsupported: list[int] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # sentences no source supports
    auto_cited: list[int] = field(default_factory=list)  # sources cited by code for an uncited sentence
    model_citations: int = 0  # citations the answer came with, to sources or not
    supported_sentences: int = 0  # shown sentences stating a fact with a verified citation
    fact_sentences: int = 0  # shown sentences stating a fact
    # A "Yes" the cited source says the other way, and nothing else wrong with it: (source, its sentences).
    denials: list[tuple[int, str]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing had to be removed: every citation and every sentence held."""
        return not (self.invalid or self.unsupported or self.dropped)


# The word that opens an answer to a yes/no question ("Yes, passing --help returns exit code 0 [1]."):
# no source says "yes", so it is not a word of the claim.
ANSWER_PARTICLE_RE = re.compile(r"^\s*(yes|no)\s*[,;:.!]", re.I)


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer as the sentence rules read it."""

    words: set[str]  # its content words and numbers, without its citations' numbers
    new: set[str]  # those not in the question (all of them without a question)
    restated: set[str]  # those it takes from the question
    numbers: set[str]  # numbers among its new words, with a question (code-written answers state counts)
    question: str
    about: Callable[[Source], bool] | None  # the test a cited source must pass when it names one entry
    opens_list: bool  # it ends with ":", introducing what follows
    yes_or_no: bool = False  # it opens with "Yes" or "No": what it restates of the question is its claim
    text: str = ""  # the sentence, without its citations

    @classmethod
    def of(cls, text: str, question: str, about: Callable[[Source], bool] | None) -> Claim:
        # "Yes, …" answers the question; the words after it are the claim a source must hold.
        words = terms(ANSWER_PARTICLE_RE.sub(" ", CITATION_RE.sub(" ", text)))
        asked = terms(question)
        new = words - asked
        numbers = {t for t in new if t.isdigit()} if question else set()
        opens_list = text.rstrip().endswith(":")
        yes_or_no = bool(ANSWER_PARTICLE_RE.match(text))
        plain = CITATION_RE.sub(" ", text)
        return cls(words, new, words & asked, numbers, question, about, opens_list, yes_or_no, plain)

    @property
    def says_yes(self) -> bool:
        """It opens with "Yes"."""
        particle = ANSWER_PARTICLE_RE.match(self.text)
        return bool(particle) and particle.group(1).lower() == "yes"

    @property
    def states_words(self) -> bool:
        """Not a bullet, a list number, or source numbers alone."""
        return any(not t.isdigit() for t in self.words)


# ---------------------------------------------------------------------------------------------------
# The rules. Each check returns True when what it guards against is absent (code-citations mends the
# code instead); `verify` skips a rule whose name is disabled.

CITED_ENTRY = "cited-entry"


def cites_an_entry(n: int, sources: dict[int, Source]) -> bool:
    """Rule "cited-entry" guards against a citation to an entry not in the context ("[7]" of five
    sources): the number is removed and reported as invalid. Switched off, it stays as written,
    still naming no source."""
    return n in sources


CLAIM_SHARE = "claim-share"
# A source supports a claim holding this share of its words; in a group like "[1, 2]" each source
# needs only its part of that share, as long as the group together holds it.
MIN_SHARED = 0.5


def holds_its_claim(
    n: int, group: list[int], claims: list[set[str]], source_terms: dict[int, set[str]], asked: set[str]
) -> bool:
    """Rule "claim-share" guards against a citation to a source that does not hold what it is attached
    to: the text since the previous citation in its sentence (so "EMC2 [1], MADA [2]" checks each
    title against its own source) or the whole sentence. What the claim adds to the question is
    enough when the sentence restates a long question ("The minimum number of stars … is 20 [2]");
    the premise rule checks the restated part."""
    if not claims:
        return True
    together = set().union(*(source_terms[g] for g in group))
    for claim in claims:
        for part in (claim, claim - asked):
            if not part:
                continue
            share = len(part & source_terms[n]) / len(part)
            if share >= MIN_SHARED:
                return True
            if len(group) > 1 and share >= MIN_SHARED / len(group) and len(part & together) >= MIN_SHARED * len(part):
                return True
    return False


NAMED_ENTRY = "named-entry"
# A sentence names a paper by its short name before a colon of at most this many words ("EMC2"),
# or by this share of its title's words.
SHORT_NAME_WORDS = 3
TITLE_SHARE = 0.75


def cites_the_named_entry(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "named-entry" guards against a sentence naming one entry that cites another: "The authors
    of “A” are … [2]" with [2] another paper, whose names are in [2] but not as A's; "The Bengaluru
    posting asks for …" citing the Madrid posting. One cited source must be about the named entry."""
    return claim.about is None or any(claim.about(source) for source in cited)


def _named_entry(sentence: str, sources: dict[int, Source]) -> Callable[[Source], bool] | None:
    """What a sentence naming exactly one entry must cite, as a test of a source: a source about that
    paper (the paper, or a caption naming it), or a posting in the one posting city it names."""
    paper = _paper_named(sentence, sources)
    if paper is not None:
        return lambda source: _mentions(source, paper)
    held = terms(sentence)
    named = {c for s in sources.values() if s.kind == POSTING for c in cities(s) if terms(c) <= held and terms(c)}
    if len(named) == 1:
        city = named.pop()
        return lambda source: city in cities(source)
    return None


def _paper_named(sentence: str, sources: dict[int, Source]) -> Source | None:
    """The one paper of the context a sentence is about, if it names exactly one."""
    named = [s for s in sources.values() if s.kind == PAPER and _names_title(sentence, s)]
    return named[0] if len(named) == 1 else None


def _short_name(title: str) -> set[str]:
    """The terms of a title's short name before a colon ("EMC2"), when it has one of SHORT_NAME_WORDS at most."""
    short = terms(title.split(":")[0]) if ":" in title else set()
    return short if len(short) <= SHORT_NAME_WORDS else set()


def _names_title(text: str, source: Source) -> bool:
    title = label_of(source)
    held = terms(text)
    short = _short_name(title)
    if short and short <= held:
        return True
    words = terms(title)
    return bool(words) and len(words & held) >= TITLE_SHARE * len(words)


def _mentions(source: Source, paper: Source) -> bool:
    """Is `paper` what `source` says something about: the paper itself, or an entry naming it (a caption)?"""
    return source.n == paper.n or _names_title(source.passage, paper)


BARE_NUMBER = "bare-number"


def answers_which_entry(claim: Claim, kept: list[int]) -> bool:
    """Rule "bare-number" guards against a sentence of source numbers alone ("[1]") answering a
    question that does not ask which entry: "[1]" does not answer "under which area does EMC2 appear?"."""
    return not (kept and claim.question and not asks_for_entry(claim.question))


QUESTION_ECHO = "question-echo"
# Words that wrap a restated question without answering it: "The docs recommend using the interactive
# input libraries [2]." to "Which libraries do the docs recommend?" adds only "using".
WRAPPING_WORDS = terms(
    "use uses using used provide provides provided allow allows offer offers include includes including "
    "mention mentions mentioned describe describes described explain explains explained cover covers "
    "discuss discusses information details detail way ways method methods following"
)


ONE_OF_TWO = "one-of-two"


def names_one_of_two(claim: Claim, answer_sides: set[int], sources: list[Source]) -> bool:
    """Rule "one-of-two" serves questions that offer two things ("Briefcase or Nuitka — which one gives
    you an .msi installer?", "options or arguments: which are recommended for files?"): a sentence made
    of the question's words that names one of them and not the other has chosen, and that choice is
    its claim, not an echo — when the sources tie that one closer to the rest of the question
    (`favoured_side`), and the answer's sentences do not name both (`answer_sides`, from `sides_named`:
    "Options are … [1]. Arguments are … [2]." chose nothing). Switched off, such a sentence is an echo."""
    sides = alternatives(claim.question)
    if sides is None or len(answer_sides) != 1 or NEGATED_RE.search(claim.question):
        return False  # under a negation ("which one isn't …") closeness favours the wrong one
    named = [k for k, side in enumerate(sides) if side & claim.words]
    return len(named) == 1 and named[0] == favoured_side(sides, claim.question, sources)


def favoured_side(sides: tuple[set[str], set[str]], question: str, sources: list[Source]) -> int | None:
    """Which of the two things the sources tie closer to the rest of the question: the one whose best
    sentence naming it (and not the other, and denying nothing) holds more of the question's other
    words; None when they tie. "Briefcase builds an .msi installer" favours Briefcase for "Briefcase
    or Nuitka — which one gives you an .msi installer?"."""
    rest = terms(question) - sides[0] - sides[1]
    # A sentence that denies ("Briefcase cannot build an .msi") ties nothing to the question's words.
    said = [
        terms(sentence)
        for source in sources
        for sentence in sentences(source.passage)
        if not DENIAL_RE.search(sentence)
    ]
    best = [
        max((len(rest & words) for words in said if side & words and not other & words), default=-1)
        for side, other in (sides, sides[::-1])
    ]
    return None if best[0] == best[1] else best.index(max(best))


def sides_named(sentences: list[str], question: str) -> set[int]:
    """Which of the two things the question offers (0, 1) the answer's sentences made of the question's
    words name: "Briefcase gives you an .msi [1]. Nuitka builds one-file executables [1]." chose one."""
    sides = alternatives(question)
    if sides is None:  # most questions offer no two things: no sentence need be read (verify runs per draft)
        return set()
    echoes = [c.words for s in sentences if not states_more_than_the_question(c := Claim.of(s, question, None), [])]
    return {k for k, side in enumerate(sides) if any(side & words for words in echoes)}


def states_more_than_the_question(claim: Claim, kept: list[int]) -> bool:
    """Rule "question-echo" guards against a sentence made only of the question's words (and words
    that wrap them, WRAPPING_WORDS): "The deadline of the Bengaluru posting is [1]." states nothing,
    unless the question asks which entry it is (the source's number is then the answer, and its name
    is written in), the sentence opens a list, or it answers yes or no (the restated question is then
    what it claims, and the premise rule checks it)."""
    if claim.new - WRAPPING_WORDS or claim.yes_or_no or not claim.question or claim.opens_list:
        return True
    return bool(kept and asks_for_entry(claim.question))


NUMBER_ANCHOR = "number-anchor"
# A number must stand within this many words of another word of its sentence in a cited source.
NUMBER_REACH = 3


def numbers_anchored(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "number-anchor" guards against a number the cited sources do not state of what the sentence
    counts: "5 citations" is not "(5 authors)". Each number must stand in a cited source near another
    word of the sentence."""
    if not claim.numbers:
        return True
    words = claim.words - claim.numbers
    sequences = [ordered_terms(source.stated()) for source in cited]
    return all(
        any(
            term == number and words & set(sequence[max(0, i - NUMBER_REACH) : i + NUMBER_REACH + 1])
            for sequence in sequences
            for i, term in enumerate(sequence)
        )
        for number in claim.numbers
    )


QUESTION_PREMISE = "question-premise"
# Of what a sentence takes from the question, the cited sources must hold this share, or all but
# this many words (one may be the question's paraphrase, "stands for").
MIN_ASKED = 0.5
PREMISE_SLACK = 1
# The topic a yes/no question asks an entry to be about: no word of it may be missing behind a "Yes".
ASKED_TOPIC_RE = re.compile(rf"\b(?:{TOPIC_VERBS})\s+(?P<topic>.+?){TOPIC_END}", re.I)


def premise_held(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "question-premise" guards against a premise of the question that no cited source states,
    made to look true by a title: "“A” [2] won a best paper award" where [2] holds the title only.
    The cited postings' places are set aside (they say which posting, not that the premise is true of
    it); a paper's title stays, as it states what the paper is about. A sentence whose own answer
    stands in a cited document passage's text ("… is 20 [2]" to "what is the minimum number of stars
    …") is not held to the question's wording, unless the premise is the answer (a yes or no, which
    entry) or says which entry it is about (a paper's or posting's: "the DP fine-tuning paper"). Behind a
    "Yes", no word of the topic the question asks about ("is the X paper about tokenizers?") may be
    missing: it is what the yes affirms."""
    if not (claim.yes_or_no or asks_for_entry(claim.question)) and _answer_in_text(claim, cited):
        return True
    places = [terms(label_of(source)) for source in cited if source.kind == POSTING]
    # The title words a question names a cited paper by ("the Fewer truncations paper") say which paper;
    # what it asks of the paper is the premise.
    named = [_naming_words(claim.question, source) for source in cited if source.kind == PAPER]
    premise = claim.restated - set().union(*places, *named)
    missing = premise - held
    # "Is the data preparation paper about tokenizers?" — "Yes, …": the topic is what the yes affirms.
    topic = ASKED_TOPIC_RE.search(claim.question) if claim.says_yes else None
    if topic and terms(topic.group("topic")) - terms(LAYOUT_WORDS) & missing:
        return False
    return len(missing) <= PREMISE_SLACK or len(premise & held) >= MIN_ASKED * len(premise)


def _naming_words(question: str, paper: Source) -> set[str]:
    """The words the question names the paper by: its short name before a colon ("EMC2"), else two of its
    title's words in a row before "paper" ("the Fewer truncations paper")."""
    title, asked = ordered_terms(label_of(paper)), ordered_terms(question)
    short = _short_name(label_of(paper))
    if short and short <= set(asked):
        return short
    pairs = set(zip(title, title[1:], strict=False))
    triples = zip(asked, asked[1:], asked[2:], strict=False)
    return {w for a, b, c in triples if (a, b) in pairs and c == PAPER for w in (a, b)}


def _answer_in_text(claim: Claim, cited: list[Source]) -> bool:
    """Do a cited document passage's adjacent sentences (not its header lines) hold every new word of the claim?"""
    if not claim.new:
        return False
    documents = [source for source in cited if source.kind not in KIND_NOUNS]
    return any(claim.new <= set().union(*w) for source in documents for w in _windows(header_and_body(source)[1]))


SENTENCE_SUPPORT = "sentence-support"
# Of a claim's new words that a cited source holds, this share must stand within this many adjacent
# sentences of it (beside its header and title lines), not scattered over the whole passage.
SUPPORT_WINDOW = 2
WINDOW_SHARE = 0.75


def held_in_a_window(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "sentence-support" guards against a sentence whose words are scattered across the cited
    passage ("the International Machine Learning team" from a posting that says "International" in
    one paragraph and "machine learning" in another). Each cited source contributes its one best
    place, so a list citing several sources is checked item by item."""
    covered: set[str] = set()
    for source in cited:
        covered |= max((claim.new & window for window in sentence_windows(source)), key=len, default=set())
    in_windows = claim.new & set().union(*(window for source in cited for window in sentence_windows(source)))
    return len(covered) >= WINDOW_SHARE * len(in_windows)


def sentence_windows(source: Source) -> list[set[str]]:
    """The terms of each run of SUPPORT_WINDOW adjacent sentences of a source, each with its header lines
    (the entry's kind, place or title), which every sentence of it is about."""
    head, body = header_and_body(source)
    return [head.union(*window) for window in _windows(body)]


def _windows(held: list[T]) -> list[list[T]]:
    """Each run of SUPPORT_WINDOW adjacent sentences (all of them when there are no more)."""
    if len(held) <= SUPPORT_WINDOW:
        return [held]
    return [held[i : i + SUPPORT_WINDOW] for i in range(len(held) - SUPPORT_WINDOW + 1)]


def header_and_body(source: Source) -> tuple[set[str], list[set[str]]]:
    """The terms of a source's header lines (its number and kind, its place or title), and of each
    sentence of the text below them; the source is rendered once for both."""
    lines = source.stated().split("\n")
    heading = 2 if source.kind == PAPER else 1  # a paper's "Paper: <title>" line names what it is about
    return terms(" ".join(lines[:heading])), [terms(s) for s in sentences("\n".join(lines[heading:]))]


POLARITY = "polarity"


def same_polarity(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "polarity" guards against a yes or no that the source says the other way: "Yes, Click
    supports multi-character short options" from "Multi-character short option names are not
    supported". The cited sentences (SUPPORT_WINDOW adjacent ones) that hold most of the claim's words
    must deny it exactly when the answer does ("No, …", or a "not" of its own)."""
    if not claim.yes_or_no:
        return True
    particle = ANSWER_PARTICLE_RE.match(claim.text)
    rest = claim.text[particle.end() :] if particle else claim.text
    said_no = bool(particle and particle.group(1).lower() == "no")
    if said_no and not DENIAL_RE.search(rest) and claim.new:
        return True  # "No, bad input returns exit code 2": a No that states another value, checked as any claim
    denied = said_no or bool(DENIAL_RE.search(rest))
    best = holding_window(claim, cited)
    return best is None or denied == bool(DENIAL_RE.search(best))


def holding_window(claim: Claim, cited: list[Source]) -> str | None:
    """The cited sentences (SUPPORT_WINDOW adjacent ones) that hold most of the claim's words, or None
    when none holds any."""
    found = [
        (len(claim.words & set().union(*(terms(s) for s in window))), " ".join(window))
        for source in cited
        for window in _windows(sentences(source.passage))
    ]
    best = max(found, key=lambda scored: scored[0], default=None)
    return None if best is None or best[0] == 0 else best[1]


def denial_of(claim: Claim, source: Source) -> str | None:
    """The sentence of `source` that denies a "Yes, …" claim, or None: what "No" rests on."""
    particle = ANSWER_PARTICLE_RE.match(claim.text)
    if not claim.yes_or_no or not particle or particle.group(1).lower() != "yes":
        return None
    if DENIAL_RE.search(claim.text[particle.end() :]):
        return None
    window = holding_window(claim, [source])
    if not window:
        return None
    # Of those sentences, the one that denies: "No" quotes it alone.
    denying = [s for s in sentences(window) if DENIAL_RE.search(s) and claim.words & terms(s)]
    return denying[0] if denying else None


NEW_WORDS = "new-words"
# A cited sentence's sources must hold this share of its new words (those not in the question).
MIN_NEW = 0.5


def new_words_held(claim: Claim, cited: list[Source], held: set[str]) -> bool:
    """Rule "new-words" guards against a sentence that leans on the question's words for its support:
    "ICML 2024 is held in Vienna [1]" shares "ICML 2024" with the overview, not "Vienna"."""
    return not claim.new or len(claim.new & held) >= MIN_NEW * len(claim.new)


UNCITED = "uncited"
# An uncited sentence is kept only when one source holds this share of its words and of its new words.
MIN_UNCITED = 0.75


def source_holding_it(claim: Claim, sources: dict[int, Source], source_terms: dict[int, set[str]]) -> int | None:
    """Rule "uncited" guards against an uncited sentence (or one whose citations all failed): it is
    kept only when one source holds nearly all of it, or a document passage holds its answer (every
    new word, in adjacent sentences) and half of it, and code then cites that source; else dropped.
    Switched off, such a sentence is shown as written, uncited. Returns that source's number."""
    best, best_share = None, 0.0
    for n, held in source_terms.items():
        share = len(claim.words & held) / len(claim.words)
        fits = not claim.new or len(claim.new & held) >= MIN_UNCITED * len(claim.new)
        holds = share >= MIN_UNCITED and fits
        answers = share >= MIN_SHARED and _answer_in_text(claim, [sources[n]])
        if (holds or answers) and share > best_share:
            best, best_share = n, share
    return best


FOLLOWING_CITATION = "following-citation"


def following_citations(parts: list[str]) -> list[list[int]]:
    """Rule "following-citation" serves answers that cite once for a whole paragraph: "Fact A. Fact B [1]."
    or "Fact A. Fact B. The source for this is [1].". An uncited sentence is checked, by the rules a
    cited one passes, against the sources of the next citation in its paragraph before code looks for
    another source. Switched off, it is left to "uncited". Returns, for each part of `sentence_parts`,
    those numbers."""
    following: list[list[int]] = [[] for _ in parts]
    upcoming: list[int] = []
    for i in range(len(parts) - 1, -1, -1):
        if i % 2:  # a break: a new line starts a new paragraph
            upcoming = [] if "\n" in parts[i] else upcoming
            continue
        following[i] = upcoming
        if first := CITATION_RE.search(parts[i]):
            upcoming = cited_numbers(first)
    return following


CODE_BLOCK = "code-block"


def source_holds_code(block: str, passages: list[str]) -> bool:
    """Rule "code-block" guards against a fenced code block no source holds verbatim (whitespace and
    citations aside): it is removed whole, never cut line by line as sentences would be."""
    code = " ".join(FENCE_RE.sub(lambda m: m.group(1), code_without_citations(block)).split())
    return bool(code) and any(code in passage for passage in passages)


CODE_CITATIONS = "code-citations"
EXISTENCE_NAMES = "existence-names"  # `name_what_exists`
ECHOED_NAME = "echoed-name"  # `names_source` given the question


def code_without_citations(code: str) -> str:
    """Rule "code-citations" guards against a citation inside a code fence or inline code, where it
    would read as part of the code: it is removed, with the blanks before it."""
    return re.sub(rf"[ \t]*(?:{CITATION_RE.pattern})", "", code)


# Rules of a sentence and the sources it cites (or the one source code would cite for it).
Grounding = Callable[[Claim, list[Source], set[str]], bool]
NAMING: tuple[tuple[str, Grounding], ...] = ((NAMED_ENTRY, cites_the_named_entry),)
GROUNDING: tuple[tuple[str, Grounding], ...] = (
    (NUMBER_ANCHOR, numbers_anchored),
    (QUESTION_PREMISE, premise_held),
    (SENTENCE_SUPPORT, held_in_a_window),
    (POLARITY, same_polarity),
    (NEW_WORDS, new_words_held),
)
# Every rule of `verify`, in the order it applies them: each citation's numbers, then each sentence,
# then its cited sources (or the source code cites for it), then the code of the answer.
RULES: tuple[str, ...] = (
    CITED_ENTRY,
    CLAIM_SHARE,
    NAMED_ENTRY,
    BARE_NUMBER,
    QUESTION_ECHO,
    ONE_OF_TWO,
    *(name for name, _ in GROUNDING),
    FOLLOWING_CITATION,
    UNCITED,
    CODE_BLOCK,
    CODE_CITATIONS,
    EXISTENCE_NAMES,
    ECHOED_NAME,
)


def verify(answer: str, context: Context, question: str = "", disabled: frozenset[str] = frozenset()) -> Verified:
    """Keep a citation `[n]` only if source n is in the context and supports what it is attached to;
    keep a sentence only if a verified citation supports it, by the rules of `RULES` not `disabled`.

    Numbers that name no source are reported as `invalid`, real sources that fail a rule as
    `unsupported`; both are removed from the text. A sentence left without a citation is cited by
    code when one source holds nearly all of it, and dropped otherwise. An abstaining sentence
    becomes "The sources do not say.". Without a `question` every word counts as new (code-written
    answers, whose words may all be the question's).
    """
    check = _Verification(context, question, disabled)
    answer, blocks = _hold_code(answer)
    parts = sentence_parts(_cite_before_stop(answer))
    check.sides = sides_named(parts[::2], question)
    following = following_citations(parts)
    text = "".join(
        part if CODE_MARK_RE.fullmatch(part) else check.sentence(part, following[i]) for i, part in enumerate(parts)
    )
    # Tidied before the code goes back: a block's indentation is the code's, not a removal's gap.
    text = check.restore_code(_tidy_removals(_collapse_abstentions(text)), blocks).strip()
    given = "" if ECHOED_NAME in disabled else question  # words that name nothing when a sentence echoes them
    text = name_bare_references(name_bare_lists(text, check.sources), check.sources, given)
    if EXISTENCE_NAMES not in disabled:
        text = name_what_exists(text, check.sources, question, given)
    citations = [_citation(check.sources[n], check.claims_for.get(n, [])) for n in check.used]
    return Verified(
        text,
        citations,
        sorted(set(check.invalid)),
        bool(ABSTAIN_RE.search(text)),
        sorted(set(check.unsupported)),
        check.dropped,
        check.auto_cited,
        check.model_citations,
        check.supported_sentences,
        check.fact_sentences,
        check.denials,
    )


# Each kept citation number, with the claims it was checked against.
Checked = list[tuple[int, list[set[str]]]]


class _Verification:
    """One answer's check against one context: what the rules decided so far, in the order they did."""

    def __init__(self, context: Context, question: str, disabled: frozenset[str]):
        self.context = context
        self.sources = context.by_number()
        # Without the "[n]" of the header: the number of a source is not a fact it states.
        self.source_terms = {n: terms(s.stated()) for n, s in self.sources.items()}
        self.question = question
        self.asked = terms(question)
        self.disabled = disabled
        self.used: list[int] = []
        self.invalid: list[int] = []
        self.unsupported: list[int] = []
        self.dropped: list[str] = []
        self.auto_cited: list[int] = []
        self.claims_for: dict[int, list[set[str]]] = {}  # what each kept citation was checked against
        self.model_citations = 0
        self.supported_sentences = 0
        self.fact_sentences = 0
        self.denials: list[tuple[int, str]] = []
        self.sides: set[int] = set()  # which of the two things the question offers the answer names

    def on(self, rule: str) -> bool:
        return rule not in self.disabled

    def sentence(self, sentence: str, following: list[int] | None = None) -> str:
        """The sentence with its verified citations, cited by code, or "" when no source supports it;
        `following` are the numbers of the next citation in its paragraph."""
        if not sentence.strip():  # a break between sentences
            return sentence
        if ABSTAIN_RE.search(sentence):
            return UNSUPPORTED
        text, checked = self.citations(sentence)
        kept = [n for n, _ in checked]
        claim = Claim.of(text, self.question, _named_entry(text, self.sources))
        if kept and not self._holds(NAMING, claim, kept):
            self.unsupported.extend(kept)
            text, checked, kept = CITATION_RE.sub(" ", text), [], []
            claim = replace(claim, opens_list=text.rstrip().endswith(":"))
        if not claim.states_words:
            if self.on(BARE_NUMBER) and not answers_which_entry(claim, kept):
                self.unsupported.extend(kept)
                return ""
            self._accept(kept, checked)
            return text
        echo = not states_more_than_the_question(claim, kept)
        chose = (
            echo
            and self.on(ONE_OF_TWO)
            and names_one_of_two(claim, self.sides, self._cited(kept) or self.context.sources)
        )
        if self.on(QUESTION_ECHO) and echo and not chose:
            self.unsupported.extend(kept)
            self.dropped.append(_tidy_removals(CITATION_RE.sub("", text)))
            return ""
        if kept:
            if self._holds(GROUNDING, claim, kept):
                self.fact_sentences += 1
                self.supported_sentences += 1
                self._accept(kept, checked)
                return text
            self._note_denials(claim, kept)
            self.unsupported.extend(kept)
            text = CITATION_RE.sub(" ", text)
        return self._cite_by_code(claim, text, following or [])

    def citations(self, sentence: str) -> tuple[str, Checked]:
        """The sentence with each citation cut to its numbers that hold, and those numbers, each with
        the claims it was checked against: the text since the previous citation, and the sentence."""
        sentence_claim = terms(CITATION_RE.sub(" ", sentence))
        pieces: list[str] = []
        kept_here: Checked = []
        previous_end = 0
        for match in CITATION_RE.finditer(sentence):
            segment_claim = terms(CITATION_RE.sub(" ", sentence[previous_end : match.start()]))
            claims = [c for c in (segment_claim, sentence_claim) if c]
            pieces += [sentence[previous_end : match.start()], self._numbers(cited_numbers(match), claims, kept_here)]
            previous_end = match.end()
        pieces.append(sentence[previous_end:])
        return "".join(pieces), kept_here

    def _numbers(self, numbers: list[int], claims: list[set[str]], kept_here: Checked) -> str:
        """One citation's numbers that hold, written back as "[1][2]"."""
        self.model_citations += len(numbers)
        if self.on(CITED_ENTRY):
            self.invalid.extend(n for n in numbers if not cites_an_entry(n, self.sources))
        group = [n for n in numbers if n in self.sources]
        kept = []
        for n in group:
            if self.on(CLAIM_SHARE) and not holds_its_claim(n, group, claims, self.source_terms, self.asked):
                self.unsupported.append(n)
                continue
            kept.append(n)
        kept_here.extend((n, claims) for n in kept)
        shown = kept if self.on(CITED_ENTRY) else [n for n in numbers if n not in self.sources or n in kept]
        return "".join(f"[{n}]" for n in shown)

    def _cited(self, numbers: list[int]) -> list[Source]:
        return [self.sources[n] for n in numbers]

    def _holds(self, rules: tuple[tuple[str, Grounding], ...], claim: Claim, numbers: list[int]) -> bool:
        """Do the sources `numbers` hold the claim by each of `rules` that is on?"""
        cited = self._cited(numbers)
        held = set().union(*(self.source_terms[n] for n in numbers))
        return all(rule(claim, cited, held) for name, rule in rules if self.on(name))

    def _note_denials(self, claim: Claim, numbers: list[int]) -> None:
        """Keep what a source says against a "Yes" that failed the polarity rule alone: a source it cited, or
        the one that holds it when it cited another."""
        others = tuple((name, rule) for name, rule in GROUNDING if name != POLARITY)
        if not self.on(POLARITY) or not self._holds(others, claim, numbers):
            return
        for n in numbers:
            denial = denial_of(claim, self.sources[n])
            if denial and (n, denial) not in self.denials:
                self.denials.append((n, denial))

    def _accept(self, numbers: list[int], checked: Checked) -> None:
        for n in numbers:
            if n not in self.used:
                self.used.append(n)
        for n, claims in checked:
            self.claims_for.setdefault(n, []).extend(c - self.asked or c for c in claims)

    def _cite_by_code(self, claim: Claim, text: str, following: list[int]) -> str:
        """An uncited sentence with the one source that holds it cited — the paragraph's next citation,
        or the source that holds nearly all of it — or "" (and dropped)."""
        if not self.on(UNCITED):
            self.fact_sentences += 1
            return text
        best = next((n for n in following if self.on(FOLLOWING_CITATION) and self._leans_on(claim, n)), None)
        if best is None:
            best = source_holding_it(claim, self.sources, self.source_terms)
            if best is not None and not self._holds(NAMING + GROUNDING, claim, [best]):
                if self._holds(NAMING, claim, [best]):  # a "Yes" citing the wrong source, denied by the right one
                    self._note_denials(claim, [best])
                best = None
        if best is None:
            self.dropped.append(_tidy_removals(CITATION_RE.sub("", text)))
            return ""
        self.fact_sentences += 1
        self.auto_cited.append(best)
        if best not in self.used:
            self.used.append(best)
        self.claims_for.setdefault(best, []).append(claim.new or claim.words)
        return re.sub(r"^(.*?)[ \t]*([.!?:]?)[ \t]*$", rf"\1 [{best}]\2", text.rstrip(), flags=re.S)

    def _leans_on(self, claim: Claim, n: int) -> bool:
        """Does source `n` hold the claim as it would have to, had the sentence cited it?"""
        if n not in self.sources:
            return False
        shares = not self.on(CLAIM_SHARE) or holds_its_claim(n, [n], [claim.words], self.source_terms, self.asked)
        return shares and self._holds(NAMING + GROUNDING, claim, [n])

    def restore_code(self, text: str, blocks: list[str]) -> str:
        """Each fenced block back in its place when a source holds it, else removed whole (and dropped);
        the citations inside blocks and inline code removed."""
        passages = [" ".join(CITATION_RE.sub(" ", s.passage).split()) for s in self.context.sources]

        def put_back(match: re.Match[str]) -> str:
            block = blocks[int(match.group(1))]
            shown = (code_without_citations(block) if self.on(CODE_CITATIONS) else block).strip()
            if not self.on(CODE_BLOCK) or source_holds_code(block, passages):
                return shown
            self.dropped.append(shown)
            return ""

        text = CODE_MARK_RE.sub(put_back, text)
        if not self.on(CODE_CITATIONS):
            return text
        return INLINE_CODE_RE.sub(lambda m: code_without_citations(m.group(0)), text)


def _hold_code(answer: str) -> tuple[str, list[str]]:
    """The answer with each fenced block set aside (a line of its own), and the blocks."""
    blocks: list[str] = []

    def hold(match: re.Match[str]) -> str:
        blocks.append(match.group(0))
        return f"\n\x00code{len(blocks) - 1}\x00\n"

    return FENCE_RE.sub(hold, answer), blocks


def _collapse_abstentions(text: str) -> str:
    """One "The sources do not say." however often the answer said it, and nothing else if that is all."""
    if UNSUPPORTED not in text:
        return text
    first = text.index(UNSUPPORTED) + len(UNSUPPORTED)
    text = text[:first] + text[first:].replace(UNSUPPORTED, "")
    return text


def _tidy_removals(text: str) -> str:
    """Mend what removed citations leave behind: double spaces, ", ," and a list ending "… [2] and."."""
    text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    text = re.sub(r"([,;])(?:[ \t]*[,;])+", r"\1", text)
    text = re.sub(r"(\])[,;]?[ \t]+(?:and|or)([.!?])", r"\1\2", text)
    return re.sub(r"[,;]([.!?])", r"\1", text).strip()


def _cite_before_stop(answer: str) -> str:
    """ "Paris. [1]" → "Paris [1]." so a citation stays with the sentence it follows."""
    return re.sub(r"([.!?])((?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+)", r"\2\1", answer)


def name_bare_lists(text: str, sources: dict[int, Source]) -> str:
    """ "The papers are [1], [2] and [3]." → "The papers are “EMC2…” [1], “MADA…” [2] and “…” [3]."

    A small model often lists sources by number only, which tells a reader nothing. The names are
    written here, in code, from the sources the citations were verified against, so a list can only
    name entries that were in the context (asking the model to name them made it repeat planted
    text). An item whose name the model already wrote just before its number is left as it is.
    """

    def name_run(match: re.Match[str]) -> str:
        preceding = last_sentence(text[: match.start()]).split("]")[-1]
        run = match.group(0)
        if re.fullmatch(r"(?:\[\d+\][ \t]*)+", run):
            if terms(preceding):
                return run  # "Paris [1] [2]": two sources for one claim, not a list
            run = re.sub(r"\][ \t]+\[", "], [", run)  # an answer that is only "[1] [3]"
        first = True

        def name_one(number: re.Match[str]) -> str:
            nonlocal first
            source = sources.get(int(number.group(1)))
            already_named = first and source is not None and names_source(preceding, source)
            first = False
            if source is None or already_named:
                return number.group(0)
            return f"{short_name(source)} {number.group(0)}"

        return re.sub(r"\[(\d+)\]", name_one, run)

    return BARE_LIST_RE.sub(name_run, text)


def name_bare_references(text: str, sources: dict[int, Source], given: str = "") -> str:
    """ "The paper written by Di Wu is [1]." → "… is “REPOFORMER: …” [1]."; "[2] proposes" → "“EMC2…” [2] proposes".

    Written in code from the verified source, like `name_bare_lists`, unless the sentence names it already.
    """

    def name_one(match: re.Match[str]) -> str:
        number = int(match.group(1) or match.group(2))
        source = sources.get(number)
        sentence = last_sentence(text[: match.start()])
        if source is None or names_source(sentence, source, given):
            return match.group(0)
        marker = f"[{number}]"
        return match.group(0).replace(marker, f"{short_name(source)} {marker}", 1)

    return BARE_REFERENCE_RE.sub(name_one, text)


# "Yes, there is a paper about X [16].", "There are two postings on Y [3][5]": a sentence saying that
# entries exist, its citations at its end.
EXISTS_SENTENCE_RE = re.compile(
    r"\bthere\s+(?:is|are|was|were)\b[^.!?\n]*?(?P<cites>(?:[ \t]*\[\d+\])+)[ \t]*(?=[.!?]|$)", re.I | re.M
)
# The questions it answers: whether the index holds something ("is there any work on X?", "anything on
# Y?", "are there papers about Z?", "got anything on …", "do you have anything on …").
EXISTS_QUESTION_RE = re.compile(
    r"^\s*(?:(?:is|are)\s+there|any(?:thing)?|(?:have\s+you\s+)?got\s+anything|do\s+(?:you|the\s+\w+)\s+have)\b", re.I
)
NEGATED_RE = re.compile(r"\b(?:no|not|none|never)\b|n[’']t\b", re.I)


def name_what_exists(text: str, sources: dict[int, Source], question: str = "", given: str = "") -> str:
    """ "Yes, there is work on optimizers [30]." → "Yes, there is work on optimizers: “MADA: …” [30]."

    Rule "existence-names" serves questions whether the index holds something ("is there any work on
    X?", "anything about Y?"): the small model answers that there is, and cites it by number only,
    which does not tell the reader what it is. Code writes the name of each entry the sentence cites
    (papers and postings; a document section is not an entry a reader asked for), unless the
    sentence names it already or says there is none; only for such a question. The words of `given`
    (the question, unless rule "echoed-name" is off) name nothing: "Yes, there is work on meta-adaptive
    optimizers [1]." restates "is there work on meta-adaptive optimizers?" and still leaves the title
    ("Meta-adaptive optimizers by hyper-gradients") out.
    """
    if not EXISTS_QUESTION_RE.match(question):
        return text

    def name_them(match: re.Match[str]) -> str:
        sentence = last_sentence(text[: match.start()]) + match.group(0)
        if NEGATED_RE.search(sentence):
            return match.group(0)
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", match.group("cites"))]
        cited = [sources[n] for n in numbers if n in sources]
        if not cited or any(s.kind not in (PAPER, POSTING) or names_source(sentence, s, given) for s in cited):
            return match.group(0)
        names = joined([f"{short_name(s)} [{s.n}]" for s in cited])
        return match.group(0)[: match.start("cites") - match.start()].rstrip() + f": {names}"

    return EXISTS_SENTENCE_RE.sub(name_them, text)


# A text names a source holding this share of the words of its name.
NAME_SHARE = 0.5


def names_source(text: str, source: Source, given: str = "") -> bool:
    """Does `text` already name the source: half the words of its title, or of the part before a
    colon ("EMC2" for "EMC2: Efficient MCMC negative sampling…"), or a posting's city? Words `given`
    holds do not count, except for a posting, whose name is its city: rule "echoed-name" serves "which
    paper …?" answered as "The paper that studies target networks is [12].", which restates the
    question's words and still leaves the reader with a number, so code writes the title in."""
    name = terms(" ".join(cities(source)) if source.kind == POSTING else label_of(source).split(":")[0])
    said = terms(text)
    if given and source.kind != POSTING:  # a posting's name is its city: "the job in Seattle" names it
        said -= terms(given)
    return bool(name) and len(name & said) >= NAME_SHARE * len(name)


def _citation(source: Source, claims: list[set[str]]) -> Citation:
    snippet = source.passage if len(source.passage) <= SNIPPET_CHARS else source.passage[: SNIPPET_CHARS - 3] + "…"
    return Citation(source.n, tuple(source.ids), source.kind, label_of(source), snippet, support_spans(source, claims))


def support_spans(source: Source, claims: list[set[str]]) -> tuple[tuple[int, int, str], ...]:
    """For each claim, the sentence (or line) of the passage that supports it; shorter wins a tie.

    An answer names its entry by title, so the words of the title identify rather than support: the
    sentence holding most of the claim's other words wins, else the one holding most of its words
    outside the title line, else the title line itself.
    """
    held = [(start, end, text, terms(text)) for text, start, end in sentence_spans(source.passage)]
    held = [sentence for sentence in held if sentence[3]]
    title = terms(label_of(source)) if source.kind == PAPER else set()
    beyond_title = [s for s in held if not title or s[3] - title - {"paper"}]
    spans = set()
    for claim in claims:
        for wanted, candidates in ((claim - title, held), (claim, beyond_title), (claim, held)):
            scored = [(len(wanted & held), -len(text), (start, end, text)) for start, end, text, held in candidates]
            best = max(scored, default=None)
            if best and best[0] > 0:
                spans.add(best[2])
                break
    return tuple(sorted(spans))
