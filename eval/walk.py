"""The walk of one question: which of the project's files `Assistant.stream` enters, in order.

    python -m rag.eval.walk "Which papers did Parameswaran Raman co-author?"
    python -m rag.eval.walk "What does EMC2 propose?" --reply "EMC2 proposes efficient MCMC negative sampling [1]."

A measure of how the answer path is layered: a pipeline that runs one way through its stages enters
each file once or twice; a file entered again and again is a stage that calls back into an earlier
one. Runs without the real model: the bundled corpus is indexed in a temporary directory and the
model is a local endpoint that streams `--reply` to every request. The question is asked once
untraced (loading the index, the corpus context and every cache), then again, traced, with the
answer cache cleared.

A stay is a run of consecutive events in one file (the innermost of the project's frames on the
stack); a return is a stay in a file the walk had already left.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import CodeType, FrameType

ROOT = Path(__file__).resolve().parent.parent  # the checkout: assistant/, ingest/, eval/, rag/, ui/
DEFAULT_REPLY = "The sources do not say."
# The shared base below the stages: words and sentences, the entry schema, display names.
BASE = {"assistant/text.py", "assistant/schema.py", "assistant/names.py"}


# The checkout's own code (its .venv and tests are not the product).
PROJECT_FOLDERS = {"assistant", "ingest", "eval", "rag", "ui", "prompts"}


@dataclass
class Stay:
    file: str
    functions: list[str] = field(default_factory=list)


MAX_PERIOD = 6  # the longest run of stays a loop repeats that is counted once


@dataclass
class Walk:
    """The stays of one walk; a loop's repeated stays (A B A B …, up to MAX_PERIOD stays a turn)
    counted once, so the figures follow the code's layering, not how many sources a loop visits."""

    raw: list[Stay]

    @property
    def stays(self) -> list[Stay]:
        return _without_repeats(self.raw)

    @property
    def returns(self) -> int:
        seen: set[str] = set()
        count = 0
        for stay in self.stays:
            count += stay.file in seen
            seen.add(stay.file)
        return count

    def entered(self) -> Counter[str]:
        return Counter(stay.file for stay in self.stays)

    def summary(self) -> dict:
        entered = self.entered()
        return {
            "stays": len(self.stays),
            "returns": self.returns,
            "files": len(entered),
            "entered_more_than_twice": {f: n for f, n in entered.most_common() if n > 2},
            "events": len(self.raw),
            "sequence": [stay.file for stay in self.stays],
        }


def _without_repeats(stays: list[Stay]) -> list[Stay]:
    """The stays with each block that repeats the block just before it removed, and neighbours in
    one file merged."""
    merged = [Stay(s.file, list(s.functions)) for s in stays]
    changed = True
    while changed:
        changed = False
        for period in range(1, MAX_PERIOD + 1):
            i = 0
            while i + 2 * period <= len(merged):
                block = [s.file for s in merged[i : i + period]]
                if block == [s.file for s in merged[i + period : i + 2 * period]]:
                    for kept, repeat in zip(merged[i : i + period], merged[i + period : i + 2 * period], strict=True):
                        kept.functions += [f for f in repeat.functions if f not in kept.functions]
                    del merged[i + period : i + 2 * period]
                    changed = True
                else:
                    i += 1
    return merged


class _Tracer:
    """A profile hook that follows the innermost counted frame and records each change of file.

    `stages` only: the files of assistant/ are the pipeline's stages, but for the shared base below
    them (BASE) and the accessors of their data (properties such as `Source.kind`); a call into those,
    or into ingest/ or rag/, is part of the stay of the stage that made it. Else every project file
    counts (not tests, not this file).
    """

    def __init__(self, root: Path, stages: bool):
        self.root = str(root) + "/"
        self.own = str(Path(__file__).resolve())
        self.stages = stages
        self.stays: list[Stay] = []
        self._names: dict[str, str | None] = {}
        self._accessors = _accessors() if stages else set()

    def _name(self, code: CodeType) -> str | None:
        """The file of `code` relative to the checkout, when it counts."""
        if code in self._accessors:
            return None
        path = code.co_filename
        if path not in self._names:
            name = path[len(self.root) :] if path.startswith(self.root) else ""
            counted = bool(name) and path != self.own and name.split("/")[0] in PROJECT_FOLDERS
            if self.stages:
                counted = counted and name.startswith("assistant/") and name not in BASE
            self._names[path] = name if counted else None
        return self._names[path]

    def _innermost(self, frame: FrameType | None) -> str | None:
        while frame is not None:
            if (name := self._name(frame.f_code)) is not None:
                return name
            frame = frame.f_back
        return None

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and (name := self._name(frame.f_code)) is not None:
            self._enter(name, frame.f_code.co_name)
        elif event == "return" and self._name(frame.f_code) is not None:
            self._left(frame)

    def _left(self, frame: FrameType) -> None:
        """Back in the caller's stage, if the caller is in one."""
        if (name := self._innermost(frame.f_back)) is not None:
            self._enter(name, None)

    def _enter(self, name: str, function: str | None) -> None:
        if not self.stays or self.stays[-1].file != name:
            self.stays.append(Stay(name))
        if function and function not in self.stays[-1].functions:
            self.stays[-1].functions.append(function)


def _accessors() -> set[CodeType]:
    """The code of every property of the classes of assistant/: reading a field of a stage's data."""
    codes = set()
    for path in sorted((ROOT / "assistant").glob("*.py")):
        module = importlib.import_module(f"rag.assistant.{path.stem}")
        for cls in (v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__):
            codes |= {p.fget.__code__ for p in vars(cls).values() if isinstance(p, property) and p.fget}
    nested = list(codes)
    while nested:  # and the comprehensions inside them
        inner = [c for code in nested for c in code.co_consts if isinstance(c, CodeType)]
        codes.update(inner)
        nested = inner
    return codes


def _endpoint(reply: str) -> str:
    """A local OpenAI-compatible endpoint that streams `reply`, word by word, to every request."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in reply.split(" "):
                delta = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def walk(question: str, reply: str = DEFAULT_REPLY, mode: str = "corpus", data_dir: Path | None = None):
    """The traced walk of `question` through `Assistant.stream`, and the answer it gave."""
    from rag.assistant.answer import Assistant, final_answer
    from rag.assistant.retrieve import HybridRetriever
    from rag.config import load_config
    from rag.ingest.embed import MiniLMEmbedding
    from rag.ingest.load import load_entries
    from rag.ingest.store import ingest_entries

    with tempfile.TemporaryDirectory() as tmp:
        data = data_dir or Path(tmp) / "data"
        cfg = load_config(env={}, data_dir=data).replace(base_url=_endpoint(reply), context_mode=mode)
        embedder = MiniLMEmbedding()
        if data_dir is None or not (data / "chroma").exists():
            ingest_entries(cfg, load_entries(list(cfg.corpus)), embedder=embedder)
        assistant = Assistant(cfg, retriever=HybridRetriever(cfg, embedder=embedder))
        final_answer(assistant.stream(question))  # untraced: loads the index, the corpus, the caches
        assistant._cache.clear()
        tracers = [_Tracer(ROOT, stages=True), _Tracer(ROOT, stages=False)]

        def profile(frame: FrameType, event: str, arg: object) -> None:
            for tracer in tracers:
                tracer(frame, event, arg)

        sys.setprofile(profile)
        try:
            answer = final_answer(assistant.stream(question))
        finally:
            sys.setprofile(None)
    return Walk(tracers[0].stays), Walk(tracers[1].stays), answer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("question")
    parser.add_argument("--reply", default=DEFAULT_REPLY, help="what the scripted model answers")
    parser.add_argument("--mode", default="corpus", choices=("corpus", "retrieved"), help="context mode")
    parser.add_argument("--data-dir", type=Path, help="an index to reuse (built there when missing)")
    parser.add_argument("--functions", action="store_true", help="list the functions entered in each stay")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    traced, every_file, answer = walk(args.question, args.reply, args.mode, args.data_dir)
    summary = traced.summary()
    if args.json:
        every = every_file.summary()
        every.pop("sequence")
        shown = summary | {"every_file": every, "answered_by": answer.answered_by, "answer": answer.answer}
        print(json.dumps(shown, indent=2))
        return
    print(f"answer ({answer.answered_by}{', ' + answer.rule if answer.rule else ''}): {answer.answer}")
    for name, figures in (("stages", summary), ("every file", every_file.summary())):
        many = ", ".join(f"{f} ×{n}" for f, n in figures["entered_more_than_twice"].items()) or "none"
        print(
            f"{name}: stays {figures['stays']}, returns {figures['returns']}, files {figures['files']}"
            f" ({figures['events']} stays with every turn of a loop)"
        )
        print(f"  entered more than twice: {many}")
    print("the stages' walk:")
    for i, stay in enumerate(traced.stays, 1):
        functions = f"  {', '.join(stay.functions)}" if args.functions else ""
        print(f"{i:3} {stay.file}{functions}")


if __name__ == "__main__":
    main()
