"""The passage of a document that answers a question, judged by the model one passage at a time,
when it wrote no verified answer of its own (off by default: `Config.quote_passages`).

A 1.5B model often says "The sources do not say." with the answer in its prompt. Asked of one passage
"Does this passage state the answer?", its probability of "Yes" was highest for the passage holding
the answer on 4 of the 8 blind Click dev items where that passage was a candidate (offered all at
once as lettered options, its choice was near chance). So when an abstention stands after the second
ask, the shown document sections' sentences and whole code blocks closest to the question (the
embedder's cosine) are judged in turn, and the one with the likeliest "Yes", if likely enough, is the
answer: quoted, with its source's number, and checked as any answer is. On the blind Click exam it
mended 1 answer and showed 3 passages that did not answer, hence off. Entries of a guide (papers,
postings) are left to the rules of code that read their fields.

`denial_answer` (rule "denied-yes", on) is the other answer this module writes from a source's own
sentence: "No", quoting the sentence that denies a model's "Yes".
"""

from __future__ import annotations

import math
import re

import numpy as np
import openai

from rag.assistant.citations import Verified, verify
from rag.assistant.context import Context, Source, neutralise, without_heading
from rag.assistant.excerpts import Part, parts_of, similarities
from rag.assistant.llm import chat_once, letter_logprobs
from rag.assistant.names import label_of
from rag.assistant.prompts import render, system_prompt
from rag.assistant.schema import CHUNK, TITLE
from rag.config import Config
from rag.errors import RagError
from rag.ingest.embed import MiniLMEmbedding

QUOTE = "quote"  # the `rule` of an answer it wrote; on with RAG_QUOTE_PASSAGES=1
CANDIDATES = 4  # passages judged, closest to the question first: each costs one short model call
# The "Yes" probability (the first token's, as the model gave it) a passage needs to be the answer. On
# the blind Click dev half, passages holding the answer scored 0.70–0.93 and the best of passages
# that did not 0.58–0.88; below this the abstention stands.
MIN_YES = 0.85
MIN_PART_CHARS = 15  # shorter parts ("Example:") answer nothing on their own
MAX_PART_CHARS = 600  # a longer part is no quote a person reads as an answer
GAP = "\n…\n"  # how an excerpt marks the sentences it left out (assistant/excerpts.py)
LIST_MARK_RE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
YES, NO = "YES", "NO"  # the replies judged, as `letter_logprobs` reads tokens (upper case)


def quoted_answer(
    client: openai.OpenAI,
    cfg: Config,
    question: str,
    asked: str,
    context: Context,
    embedder: MiniLMEmbedding,
    abstain: bool,
) -> Verified | None:
    """The passage judged likeliest to state the answer, quoted and verified, or None. Each prompt
    starts as the ask before it did (its system prompt, with or without the abstain rule by `abstain`,
    the sources and `question`), so the server's cached prompt covers all but the passage; `asked`
    (the question as searched) ranks and checks the passages."""
    shown = context.shown()
    quotes: dict[str, Verified] = {}
    for part in candidate_parts(asked, context, embedder):
        said = " ".join(part.text.split())
        if said in quotes:  # overlapping chunks hold some sentences twice
            continue
        checked = verify(_quoted(part, shown[part.source]), context, asked, cfg.disabled)
        if checked.clean and checked.citations:  # only a quote the check keeps is judged: it is shown as it is
            quotes[said] = checked
        if len(quotes) == CANDIDATES:
            break
    system, sources = system_prompt(cfg.prompts_dir, abstain), context.text()
    best, best_yes = None, 0.0
    for said, checked in quotes.items():
        prompt = render(cfg.prompts_dir, QUOTE, context=sources, question=question, passage=said)
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        try:
            choice = chat_once(client, cfg, messages, max_tokens=1, logprobs=True, top_logprobs=20)
        except RagError:  # an endpoint without log-probabilities: the abstention stands
            return None
        scores = letter_logprobs(choice, (YES, NO), normalise=False)
        if scores is None:
            return None
        yes = math.exp(scores[YES])
        if yes >= MIN_YES and yes > best_yes:  # a tie goes to the passage closer to the question
            best, best_yes = checked, yes
    return best


def candidate_parts(question: str, context: Context, embedder: MiniLMEmbedding) -> list[Part]:
    """The shown document sections' sentences and code blocks, closest to the question first; an
    excerpt's parts on either side of a gap stay apart, and a list item loses its bullet."""
    shown = context.shown()
    parts: list[Part] = []
    for i, source in enumerate(shown):
        if source.kind != CHUNK:
            continue
        for piece in without_heading(source.passage, source.nodes[0]).split(GAP):
            for part in parts_of(i, piece):
                text = part.text if part.code else LIST_MARK_RE.sub("", part.text).strip()
                if MIN_PART_CHARS <= len(text) <= MAX_PART_CHARS:
                    parts.append(Part(part.source, len(parts), text, part.code))
    if not parts:
        return []
    titles = [str(source.nodes[0].metadata.get(TITLE, "")) for source in shown]
    scores = similarities(question, parts, titles, embedder)
    return [parts[int(k)] for k in np.argsort(-scores, kind="stable")]


def _quoted(part: Part, source: Source) -> str:
    """A sentence in quotation marks, or a code block under its source's name, with the source's number."""
    if part.code:
        return f"{neutralise(label_of(source))} [{source.n}]:\n{part.text}"
    return f"“{part.text}” [{source.n}]"


DENIED_YES = "denied-yes"  # its name in RAG_DISABLED_RULES


def denial_answer(replies: list[Verified], context: Context, asked: str, disabled: frozenset[str]) -> Verified | None:
    """Rule "denied-yes" serves yes/no questions whose answer is no: a small model says "Yes, Click
    supports multi-character short options [1]" where [1] says "Multi-character short option names are
    not supported". When the only thing the check found wrong with a "Yes" is that the sentences it
    rests on deny it (in a source it cited, or in the one that holds it when it cited another), the
    answer is "No", quoting them — checked as any answer is."""
    if DENIED_YES in disabled:
        return None
    for reply in replies:
        for n, denial in reply.denials:
            checked = verify(f"No: “{denial}” [{n}]", context, asked, disabled)
            if checked.clean and checked.citations and not checked.abstained:
                return checked
    return None
