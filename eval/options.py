"""The names `rag exam` accepts, in a module light enough for the CLI to import when it parses flags."""

MODES = ("rag", "chat", "closed-book", "oracle", "naive")
SCORINGS = ("text", "logprobs", "permuted", "cyclic")
AGGREGATE_NAMES = ("mean-prob", "sum-logprob")
