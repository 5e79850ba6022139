"""Opt-in: llama.cpp's server built for this machine's CPU, from the same pinned `xllamacpp` source.

The default wheel is built for a fixed AVX2 baseline, so one install runs on every x86-64 CPU. On a CPU
with AVX-512 a build that uses it reads prompts faster (`eval/README.md` has the side-by-side figures),
which is what the corpus read at setup and every question's own tokens wait on. `rag setup --native`
builds it (minutes, with the machine's compiler), and keeps it only when a server started from it writes
one real completion; otherwise the prebuilt wheel is put back. The build never turns on AMX kernels:
llama.cpp's server crashes with them on some AMX machines at the first prompt (llama.cpp issue 20824),
and a native (`-march=native`) build turns them on by itself, so the flags are chosen one by one here.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from rag.config import Config
from rag.errors import RagError
from rag.outcome import Say

PACKAGE = "xllamacpp"
# CPU flag in /proc/cpuinfo → the ggml build switch that uses it. AVX2 and its companions are the
# prebuilt wheel's own baseline; the AVX-512 family is what a build for this CPU adds. No AMX switch
# is ever turned on (see the module docstring).
BASELINE = ("GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")
EXTRA_SWITCHES = {
    "avx512f": "GGML_AVX512",
    "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_vnni": "GGML_AVX512_VNNI",
    "avx512_bf16": "GGML_AVX512_BF16",
    "avx_vnni": "GGML_AVX_VNNI",
}
# Features xllamacpp's source would fetch from the network (a Rust crate, BoringSSL): off, as offline.
OFFLINE = ("-DLLAMA_LLGUIDANCE=OFF", "-DLLAMA_BUILD_BORINGSSL=OFF")
SELF_TEST_PROMPT = "Reply with the single word: ready"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The instruction-set flags the first CPU lists."""
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cmake_args(flags: set[str]) -> list[str]:
    """The CMake switches for a build that uses what these CPU flags offer beyond AVX2, and never AMX."""
    if "avx2" not in flags:
        raise RagError("A build for this CPU needs AVX2; the prebuilt model server is the one to use here")
    extra = [switch for flag, switch in EXTRA_SWITCHES.items() if flag in flags]
    if "GGML_AVX512" not in extra:
        # The AVX-512 sub-switches only take effect with AVX-512 itself.
        extra = [switch for switch in extra if not switch.startswith("GGML_AVX512")]
    on = [f"-D{switch}=ON" for switch in (*BASELINE, *extra)]
    return ["-DGGML_NATIVE=OFF", *on, *OFFLINE]


def installed_build() -> str:
    """What `rag server status` and the saved prefixes' names say of the installed server build:
    its version, and whether it is the prebuilt wheel or one built on this machine."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return "not installed"
    tags = [
        line.split(":", 1)[1].strip()
        for line in (dist.read_text("WHEEL") or "").splitlines()
        if line.startswith("Tag:")
    ]
    # PyPI's wheels carry a manylinux tag; one pip built here carries the bare platform ("linux_x86_64").
    prebuilt = any("manylinux" in tag or "musllinux" in tag for tag in tags)
    return f"{PACKAGE} {dist.version} ({'prebuilt' if prebuilt else 'built for this CPU'})"


def _pip(args: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """pip install (no dependencies, replacing the installed build), its output appended to `log`."""
    with open(log, "a") as out:
        return subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--force-reinstall", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        ).returncode


def _last_error(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("error", "cmake error", "fatal"))]
    return ((errors or lines or ["(no output)"])[-1])[:200]


def self_test(cfg: Config) -> str | None:
    """Start a server from the installed build on a spare port and ask it for one real completion;
    None when it answered, else what went wrong in one line."""
    from rag.assistant.llm import make_client
    from rag.runtime.server import free_port, stop_server

    trial = cfg.replace(server_port=free_port(), server_parallel=1, base_url=None)
    try:
        client = make_client(trial)
        reply = client.chat.completions.create(
            model=trial.model,
            messages=[{"role": "user", "content": SELF_TEST_PROMPT}],
            max_tokens=8,
            temperature=0,
        )
        text = (reply.choices[0].message.content or "").strip()
        return None if text else "the server answered with nothing"
    except Exception as exc:  # noqa: BLE001 - any failure of the trial means: keep the prebuilt wheel
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    finally:
        stop_server(trial)


def build_for_this_cpu(cfg: Config, say: Say) -> bool:
    """Build and install the server for this CPU, keep it if its self-test passes; True when kept."""
    if platform.machine().lower() not in {"x86_64", "amd64"}:
        say(f"A build for this CPU is offered on x86-64 only; keeping {installed_build()}")
        return False
    args = cmake_args(cpu_flags())
    version = metadata.version(PACKAGE)
    log = cfg.model_dir / "native-build.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    switches = " ".join(a.removeprefix("-DGGML_").removesuffix("=ON") for a in args if "AVX" in a)
    say(f"Building {PACKAGE} {version} for this CPU ({switches}); minutes; the compiler's output: {log}")
    started = time.perf_counter()
    env = os.environ | {"CMAKE_ARGS": " ".join(args), "NPROC": str(os.cpu_count() or 2)}
    prebuilt = ["--only-binary", PACKAGE, f"{PACKAGE}=={version}"]
    if _pip(["--no-binary", PACKAGE, f"{PACKAGE}=={version}"], log, env) != 0:
        say(f"The build failed, keeping the prebuilt server: {_last_error(log)}")
        _pip(prebuilt, log)
        return False
    say(f"Built in {time.perf_counter() - started:.0f} s; testing it with one real completion…")
    failure = self_test(cfg)
    if failure is None:
        say(f"Kept: {installed_build()}")
        return True
    say(f"The build failed its self-test ({failure}); putting the prebuilt server back")
    if _pip(prebuilt, log) != 0:
        raise RagError(f"Could not put the prebuilt {PACKAGE} back ({_last_error(log)}): run ./setup.sh again")
    return False
