"""Prompt templates are plain files in `prompts/`, loaded by name and filled by placeholder."""

from __future__ import annotations

import hashlib
import re
import string
from pathlib import Path

from rag.errors import RagError


def template_path(prompts_dir: Path, name: str) -> Path:
    return prompts_dir / f"{name}.md"


def placeholders(template: str) -> set[str]:
    """The named `{fields}` a template expects."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def read_template(prompts_dir: Path, name: str) -> str:
    path = template_path(prompts_dir, name)
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RagError(f"Prompt '{name}' not found at {path}") from exc


def render(prompts_dir: Path, name: str, **values: str) -> str:
    """Fill prompt `name` with `values`; every placeholder must be given, and no extra one."""
    return fill(read_template(prompts_dir, name), name, **values)


def fill(template: str, name: str, **values: str) -> str:
    """Fill the text of prompt `name`, already read, with `values`, as `render` does."""
    expected = placeholders(template)
    if expected != set(values):
        missing, extra = expected - set(values), set(values) - expected
        raise RagError(f"Prompt {name}.md: missing values {sorted(missing)}, unused values {sorted(extra)}")
    return template.format(**values).strip()


def system_prompt(prompts_dir: Path, abstain: bool = True) -> str:
    """The system prompt; `abstain=False` leaves out the rule that lets the model say the sources do not
    say (`abstain_rule.md`), for the second ask after an abstention."""
    rule = render(prompts_dir, "abstain_rule") if abstain else ""
    rules = render(prompts_dir, "citation_rules", abstain_rule=rule)
    examples = worked_examples(prompts_dir)
    return re.sub(r"\n{3,}", "\n\n", render(prompts_dir, "system", citation_rules=rules, worked_examples=examples))


def worked_examples(prompts_dir: Path) -> str:
    """The system prompt's answers to questions about made-up sources (`worked_examples.md`): a model
    that copies one has not answered, and has not leaked an instruction either."""
    return render(prompts_dir, "worked_examples")


def example_answers(examples: str) -> str:
    """The worked examples' answers (their "Answer:" lines), without the made-up sources and questions,
    whose plain phrases ("to remove the limit") a real answer may share."""
    return "\n".join(line.removeprefix("Answer:") for line in examples.splitlines() if line.startswith("Answer:"))


def answer_messages(
    prompts_dir: Path, prompt: str, sources: str, question: str, abstain: bool = True
) -> tuple[str, list[dict[str, str]]]:
    """The system prompt and the chat messages of one model answer: the system prompt, then prompt file
    `prompt` filled in with the sources' text and the question."""
    system = system_prompt(prompts_dir, abstain)
    user = render(prompts_dir, prompt, context=sources, question=question)
    return system, [{"role": "system", "content": system}, {"role": "user", "content": user}]


def prompts_fingerprint(prompts_dir: Path) -> str:
    """A hash of every prompt file: answers, cache entries and votes name the prompts they came from."""
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(prompts_dir.glob("*.md")))).hexdigest()
