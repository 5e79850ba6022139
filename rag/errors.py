"""The errors shown to users: one line that says what went wrong and what to do next."""


class RagError(Exception):
    """An error the user can act on; the CLI prints it as one line, the UI as a message."""


NOT_INGESTED = "No index '{collection}' in {where}; run `rag ingest` first"
SERVER_DOWN = (
    "Cannot reach the model server at {endpoint}: {reason}. "
    "Start it with `rag server start`, or set OPENAI_BASE_URL to a running endpoint"
)
MODEL_MISSING = (
    "The local model is not installed at {path}; run `rag setup` (or set OPENAI_BASE_URL to use a hosted endpoint)"
)
