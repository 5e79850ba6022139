"""`pip install .` works, not only `-e`: prompts, the bundled guide and the gold exam come with the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_wheel_installed_elsewhere_finds_its_prompts_corpus_and_exam(tmp_path):
    # Built from a copy, so the build leaves nothing in the checkout.
    source = tmp_path / "source"
    skip = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__", "results", "test-output")
    shutil.copytree(ROOT, source, ignore=skip)
    run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", source
    )
    wheel = next((tmp_path / "dist").glob("rag_guides-*.whl"))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    target = Path(
        run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel)
    # One name in site-packages: every folder of the project installs inside `rag`.
    assert {p.name for p in target.iterdir()} - {"bin"} == {"rag", wheel.name.split("-py3")[0] + ".dist-info"}
    # The dependencies come from this environment's site-packages (on PYTHONPATH, so its editable
    # install of the checkout is not loaded); the project itself only from the wheel.
    deps = [p for p in sys.path if Path(p).name == "site-packages"] or [sysconfig.get_paths()["purelib"]]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(deps), "RAG_DATA_DIR": str(tmp_path / "data")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    python = venv / "bin" / "python"
    where = run(
        python, "-c", "import rag.config as c; print(c.PROMPTS_DIR); print(c.BUNDLED_CORPUS)", env=env, cwd=elsewhere
    )
    assert str(ROOT) not in where and all(Path(p).exists() for p in where.split())
    # Every module imports from the wheel alone, so no import names a folder outside `rag`.
    every = "import importlib, pkgutil, rag\nfor m in pkgutil.walk_packages(rag.__path__, 'rag.'):\n"
    every += "    importlib.import_module(m.name)"
    run(python, "-c", every, env=env, cwd=elsewhere)
    parsed = run(python, "-m", "rag.cli", "parse", where.split()[1], "--json", env=env, cwd=elsewhere)
    assert len(parsed.splitlines()) >= 30 and json.loads(parsed.splitlines()[0])["kind"] == "overview"
    run(
        python,
        "-c",
        "from rag.assistant.prompts import system_prompt; from rag.config import PROMPTS_DIR; "
        "assert 'square brackets' in system_prompt(PROMPTS_DIR)",
        env=env,
        cwd=elsewhere,
    )
    # The gold exam ships too: a saved run is compared against it and reported without the model.
    saved = elsewhere / "run.json"
    run(
        python,
        "-c",
        f"""
import json
from rag.eval.exam import GOLD_EXAM, load_exam
from rag.eval.metrics import ItemResult, score
items = [ItemResult(q.id, q.kind, q.answer, q.answer, q.sources) for q in load_exam(GOLD_EXAM)]
result = score(items) | {{"config": {{"mode": "rag", "retriever": "hybrid", "prompt": "exam", "model": "m"}}}}
result |= {{"timestamp": "t", "items": [i.__dict__ | {{"correct": i.correct}} for i in items]}}
open({str(saved)!r}, "w").write(json.dumps(result))
""",
        env=env,
        cwd=elsewhere,
    )
    out = run(
        python,
        "-m",
        "rag.cli",
        "exam",
        "compare-saved",
        saved,
        "--report",
        elsewhere / "report",
        env=env,
        cwd=elsewhere,
    )
    assert "| rag/hybrid/exam | 1.000" in out and (elsewhere / "report" / "report.md").exists()
