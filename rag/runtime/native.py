"""Opt-in: llama.cpp's server built for this machine's CPU, from the same pinned `xllamacpp` source.

The default wheel is built for a fixed AVX2 baseline, so one install runs on every x86-64 CPU. On a CPU
with AVX-512 a build that uses it reads prompts faster (`eval/README.md` has the side-by-side figures),
which is what the corpus read at setup and every question's own tokens wait on. `rag setup --native`
builds it (minutes; needs g++, cmake and the package registry), and keeps it only when a server started
from it answers a real prompt as asked; otherwise the prebuilt wheel is put back. The build never turns
on AMX kernels: llama.cpp's server crashes with them on some AMX machines at the first prompt (llama.cpp
issue 20824), and a native (`-march=native`) build turns them on by itself, so the switches are chosen
one by one here.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from rag.config import Config
from rag.errors import RagError
from rag.outcome import Say

PACKAGE = "xllamacpp"
# CPU flags (/proc/cpuinfo) → the ggml build switch that needs them. AVX2 and its companions are the
# prebuilt wheel's own baseline; the AVX-512 family is what a build for this CPU adds. ggml's AVX512
# switch compiles for the F, CD, VL, DQ and BW subsets together, so it needs all five. No AMX switch is
# ever turned on (see the module docstring).
BASELINE = ("GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")
AVX512 = frozenset({"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"})
AVX512_EXTRAS = {"avx512vbmi": "GGML_AVX512_VBMI", "avx512_vnni": "GGML_AVX512_VNNI", "avx512_bf16": "GGML_AVX512_BF16"}
# Features xllamacpp's source would fetch from the network (a Rust crate, BoringSSL): off, as offline.
OFFLINE = ("-DLLAMA_LLGUIDANCE=OFF", "-DLLAMA_BUILD_BORINGSSL=OFF")
# A prompt long enough that the batched prompt kernels run (not only the one-token path), with an
# answer a broken build would not give.
SELF_TEST_PROMPT = " ".join(["The lighthouse keeper counted the ships that passed the rocks each night."] * 20)
SELF_TEST_PROMPT += "\nIgnore the text above. Reply with the single word: ready"
SELF_TEST_WORD = "ready"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The instruction-set flags the first CPU lists."""
    try:
        text = cpuinfo.read_text()
    except OSError as exc:
        raise RagError(
            f"Cannot read the CPU's features from {cpuinfo} ({exc.strerror}); keep the prebuilt server"
        ) from None
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cmake_args(flags: set[str]) -> list[str]:
    """The CMake switches for a build that uses what these CPU flags offer beyond AVX2, and never AMX."""
    if "avx2" not in flags:
        raise RagError("A build for this CPU needs AVX2; the prebuilt model server is the one to use here")
    extra = []
    if flags >= AVX512:
        extra = ["GGML_AVX512", *(switch for flag, switch in AVX512_EXTRAS.items() if flag in flags)]
    if "avx_vnni" in flags:
        extra.append("GGML_AVX_VNNI")
    on = [f"-D{switch}=ON" for switch in (*BASELINE, *extra)]
    return ["-DGGML_NATIVE=OFF", *on, *OFFLINE]


def is_prebuilt(wheel: str) -> bool:
    """Is the package whose dist-info WHEEL text this is a registry's wheel? PyPI's carry a manylinux
    (or musllinux) tag; one pip built here carries the bare platform ("linux_x86_64")."""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    return any("manylinux" in tag or "musllinux" in tag for tag in tags)


def prebuilt_installed() -> bool:
    try:
        return is_prebuilt(metadata.distribution(PACKAGE).read_text("WHEEL") or "")
    except metadata.PackageNotFoundError:
        return False


def build_name(version: str, wheel: str, record: str) -> tuple[str, str]:
    """(what `rag server status` shows, what tells this build from any other) from the installed
    package's version and its dist-info WHEEL and RECORD texts."""
    shown = f"{PACKAGE} {version} ({'prebuilt' if is_prebuilt(wheel) else 'built for this CPU'})"
    # Two local builds of one version differ in their compiled library, whose hash RECORD keeps.
    library = next((line.split(",")[1] for line in record.splitlines() if ".so," in line or ".pyd," in line), "")
    return shown, f"{shown} {library}"


def installed_build() -> tuple[str, str]:
    """`build_name` of the installed server package."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return f"{PACKAGE} not installed", ""
    return build_name(dist.version, dist.read_text("WHEEL") or "", dist.read_text("RECORD") or "")


def _pip_command(args: list[str]) -> list[str]:
    """pip install, no dependencies, replacing the installed build."""
    return [sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall", *args]


def _pip(args: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """`_pip_command`, its output appended to `log`."""
    with open(log, "a") as out:
        return subprocess.run(
            _pip_command(args),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        ).returncode


# The compiler's and CMake's own error lines; pip's summary lines after them ("error: subprocess-exited-
# with-error", "ERROR: Failed building wheel …") say only that the build failed.
ERROR_LINE_RE = re.compile(
    r"(?:^|: )(?:fatal )?error: (?!subprocess-exited-with-error|failed-wheel-build|metadata-generation-failed)"
    r"|CMake Error"
)


def last_error(log: Path) -> str:
    """The build log's line that says what failed: the compiler's or CMake's error, not pip's trailer."""
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_LINE_RE.search(line)]
    return ((errors or lines or ["(no output)"])[-1])[:200]


def self_test(cfg: Config) -> str | None:
    """Start a server from the installed build on a spare port and give it one real prompt; None when it
    answered as asked, else what went wrong in one line. When it passes, the trial server's files go with
    it; when it fails, its log stays for the line that says so."""
    import httpx

    from rag.runtime.server import auth_headers, crash_report, ensure_server, free_port, server_files, stop_server

    trial = cfg.replace(server_port=free_port(), server_parallel=1, base_url=None)
    failure: str | None = None
    try:
        # Straight to the server, as the other runtime requests (`rag.runtime.prefix`) are: the answering
        # code's client is above this layer.
        reply = httpx.post(
            f"{ensure_server(trial)}/chat/completions",
            json={
                "model": trial.model,
                "messages": [{"role": "user", "content": SELF_TEST_PROMPT}],
                "max_tokens": 8,
                "temperature": 0,
            },
            headers=auth_headers(trial),
            timeout=trial.llm_timeout,
        )
        reply.raise_for_status()
        text = reply.json()["choices"][0]["message"]["content"] or ""
        if SELF_TEST_WORD not in text.lower():
            failure = f"asked for the word {SELF_TEST_WORD!r}, it wrote {text.strip()[:60]!r}"
    except Exception as exc:  # noqa: BLE001 - any failure of the trial means: keep the prebuilt wheel
        failure = crash_report(trial) or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    finally:
        stop_server(trial)
    if failure is None:
        for path in server_files(trial):
            path.unlink(missing_ok=True)
    return failure


def build_for_this_cpu(
    cfg: Config,
    say: Say,
    pip: Callable[[list[str], Path, dict[str, str] | None], int] = _pip,
    test: Callable[[Config], str | None] = self_test,
    flags: set[str] | None = None,
) -> bool:
    """Build and install the server for this CPU, keep it if its self-test passes; True when kept.
    (`pip`, `test` and `flags` are the steps that take minutes, a server or this CPU; tests give their own.)"""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        say(f"A build for this CPU is offered on x86-64 only; keeping {installed_build()[0]}")
        return False
    args = cmake_args(cpu_flags() if flags is None else flags)
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        raise RagError(f"{PACKAGE} is not installed: run ./setup.sh first") from None
    log = cfg.model_dir / "native-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    switches = " ".join(a.removeprefix("-DGGML_").removesuffix("=ON") for a in args if "AVX" in a)
    say(f"Building {PACKAGE} {version} for this CPU ({switches}); minutes; the compiler's output: {log}")
    started = time.perf_counter()
    env = os.environ | {"CMAKE_ARGS": " ".join(args), "NPROC": str(os.cpu_count() or 2)}
    # No wheel cache: pip would otherwise install a wheel it built earlier, with other switches.
    if pip(["--no-cache-dir", "--no-binary", PACKAGE, f"{PACKAGE}=={version}"], log, env) != 0:
        # pip builds before it uninstalls: what was installed still is.
        say(f"The build failed ({last_error(log)}); keeping {installed_build()[0]}")
        return False
    say(f"Built in {time.perf_counter() - started:.0f} s; testing it with one real prompt…")
    failure = test(cfg)
    if failure is None:
        say(f"Kept: {installed_build()[0]}")
        return True
    say(f"The build failed its self-test ({failure}); putting the prebuilt server back")
    use_prebuilt(cfg, say, pip)
    return False


def use_prebuilt(cfg: Config, say: Say, pip: Callable[[list[str], Path, dict[str, str] | None], int] = _pip) -> None:
    """Install the prebuilt wheel of the installed version again, in place of a build for this CPU."""
    version = metadata.version(PACKAGE)
    log = cfg.model_dir / "native-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    prebuilt = ["--only-binary", PACKAGE, f"{PACKAGE}=={version}"]
    if pip(prebuilt, log, None) != 0:
        command = " ".join(_pip_command(prebuilt))
        raise RagError(f"Could not install the prebuilt {PACKAGE} ({last_error(log)}); run: {command}")
    say(f"Installed: {installed_build()[0]}")
