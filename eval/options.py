"""The names and lists `rag exam` and `rag bench` accept, in a module light enough for the CLI to import
when it parses flags."""

from rag.errors import RagError

MODES = ("rag", "chat", "closed-book", "oracle", "naive")
SCORINGS = ("text", "logprobs", "permuted", "cyclic")
AGGREGATE_NAMES = ("mean-prob", "sum-logprob")
MIN_CORPUS_SIZE = 10


def corpus_sizes(text: str) -> list[int]:
    """`--sizes 1000,10000`: the synthetic corpora `rag bench` builds, in entries."""
    try:
        sizes = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise RagError("give sizes as comma-separated whole numbers, e.g. 1000,10000") from None
    if any(s < MIN_CORPUS_SIZE for s in sizes):
        raise RagError(f"each size must be at least {MIN_CORPUS_SIZE} entries")
    return sizes


def crowd_sizes(text: str) -> list[int]:
    """`--users 1,4,8`: how many chat users ask the page at once, one crowd per number; 0 is left out."""
    try:
        return [int(v) for v in text.split(",") if v.strip() and int(v) > 0]
    except ValueError:
        raise RagError("give counts as comma-separated whole numbers, e.g. 1,4,8") from None
