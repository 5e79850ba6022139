"""The opt-in build for this CPU: which switches it turns on, which build is installed, what it says."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from rag.config import Config
from rag.errors import RagError
from rag.runtime.native import (
    build_for_this_cpu,
    build_name,
    cmake_args,
    cpu_flags,
    last_error,
    self_test,
    use_prebuilt,
)

AVX2_ONLY = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}
AVX512 = {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"}
# An Intel Xeon with AVX-512 and AMX (the kind of machine where a native build crashed at the first prompt).
AMX_XEON = AVX2_ONLY | AVX512 | {"avx512vbmi", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8"}
PREBUILT_WHEEL = "Wheel-Version: 1.0\nTag: cp310-abi3-manylinux_2_17_x86_64\nTag: cp310-abi3-manylinux2014_x86_64\n"
LOCAL_WHEEL = "Wheel-Version: 1.0\nTag: cp310-abi3-linux_x86_64\n"


def test_an_avx512_cpu_gets_its_avx512_kernels_and_never_amx():
    args = cmake_args(AMX_XEON)
    assert "-DGGML_NATIVE=OFF" in args  # a native build would turn AMX on by itself
    assert {"-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON", "-DGGML_AVX_VNNI=ON"} <= set(args)
    assert not [a for a in args if "AMX" in a]


def test_an_avx2_cpu_gets_the_baseline_only():
    args = cmake_args(AVX2_ONLY)
    assert "-DGGML_AVX2=ON" in args and not [a for a in args if "AVX512" in a or "VNNI" in a]


def test_avx512_needs_all_five_subsets_that_ggml_compiles_for():
    # A Knights Landing CPU lists avx512f and avx512cd but not VL, DQ or BW: ggml's AVX512 build would not run.
    assert not [a for a in cmake_args(AVX2_ONLY | {"avx512f", "avx512cd", "avx512_vnni"}) if "AVX512" in a]


def test_the_build_reaches_for_nothing_online():
    assert {"-DLLAMA_LLGUIDANCE=OFF", "-DLLAMA_BUILD_BORINGSSL=OFF"} <= set(cmake_args(AVX2_ONLY))


def test_a_cpu_without_avx2_is_refused_in_one_line():
    with pytest.raises(RagError, match="needs AVX2"):
        cmake_args({"sse4_2", "avx"})


def test_the_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512f amx_int8\n\nprocessor\t: 1\n"
    )
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512f", "amx_int8"}
    with pytest.raises(RagError, match="Cannot read the CPU's features"):
        cpu_flags(tmp_path / "missing")


def test_the_build_name_says_prebuilt_or_built_here_and_tells_two_local_builds_apart():
    record = "xllamacpp/__init__.py,sha256=aaa,10\nxllamacpp/xllamacpp.abi3.so,sha256={},100\n"
    prebuilt = build_name("1.0", PREBUILT_WHEEL, record.format("p"))
    avx512, avx512_vnni = (build_name("1.0", LOCAL_WHEEL, record.format(h)) for h in ("x", "y"))
    assert prebuilt[0] == "xllamacpp 1.0 (prebuilt)"
    assert avx512[0] == avx512_vnni[0] == "xllamacpp 1.0 (built for this CPU)"
    assert len({prebuilt[1], avx512[1], avx512_vnni[1]}) == 3  # each saves its own prompt prefixes


def test_a_failed_builds_compiler_error_is_what_is_said(tmp_path):
    log = tmp_path / "native-build.log"
    log.write_text(
        "  g++ -O3 -Werror=implicit-function-declaration -c ggml.c\n"
        "  ggml/src/ggml.c:12:10: fatal error: foo.h: No such file or directory\n"
        "  gmake[2]: *** [ggml.o] Error 1\n"
        "  error: subprocess-exited-with-error\n"
        "  note: This error originates from a subprocess, and is likely not a problem with pip.\n"
        "  ERROR: Failed building wheel for xllamacpp\n"
        "error: failed-wheel-build-for-install\n"
        "╰─> xllamacpp\n"
    )
    assert last_error(log) == "ggml/src/ggml.c:12:10: fatal error: foo.h: No such file or directory"


def test_a_self_test_that_cannot_start_a_server_fails_in_one_line(cfg, tmp_path):
    # No model file where this config looks: the trial server cannot start, so the build is not kept.
    failure = self_test(cfg.replace(model_dir=tmp_path / "no-models"))
    assert failure and "\n" not in failure and "model" in failure.lower()


class Steps:
    """The two slow steps of a build, as a test scripts them: pip's exit codes, the self-test's verdict."""

    def __init__(self, pip_codes: list[int], failure: str | None):
        self.pip_codes, self.failure, self.pip_calls, self.said = pip_codes, failure, [], []

    def pip(self, args: list[str], log: Path, env: dict[str, str] | None) -> int:
        self.pip_calls.append((args, env))
        if "--no-binary" in args:
            log.write_text("ggml.c:1:2: error: unknown type name 'foo'\nerror: failed-wheel-build-for-install\n")
        return self.pip_codes.pop(0)

    def build(self, cfg: Config) -> bool:
        return build_for_this_cpu(cfg, self.said.append, self.pip, lambda _cfg: self.failure, flags=AMX_XEON)


x86_only = pytest.mark.skipif(platform.machine().lower() not in {"x86_64", "amd64"}, reason="built on x86-64 only")


@x86_only
def test_a_build_that_passes_its_self_test_is_kept(cfg):
    steps = Steps([0], failure=None)
    assert steps.build(cfg) is True
    ((args, env),) = steps.pip_calls
    assert {"--no-binary", "--no-cache-dir"} <= set(args)  # compiled now, with these switches, not from a cache
    assert "-DGGML_AVX512=ON" in env["CMAKE_ARGS"] and "AMX" not in env["CMAKE_ARGS"]
    assert steps.said[-1].startswith("Kept: xllamacpp")


@x86_only
def test_a_failed_build_keeps_what_was_installed_and_says_the_compilers_error(cfg):
    steps = Steps([1], failure=None)
    assert steps.build(cfg) is False
    assert len(steps.pip_calls) == 1  # pip builds before it uninstalls: nothing to put back
    assert "error: unknown type name 'foo'" in steps.said[-1] and "keeping xllamacpp" in steps.said[-1]


@x86_only
def test_a_build_that_fails_its_self_test_is_replaced_by_the_prebuilt_wheel(cfg):
    steps = Steps([0, 0], failure="The model server crashed (signal SIGSEGV at 10:00:00)")
    assert steps.build(cfg) is False
    assert "--only-binary" in steps.pip_calls[1][0]
    assert "SIGSEGV" in steps.said[-2] and "putting the prebuilt server back" in steps.said[-2]
    assert steps.said[-1].startswith("Installed: xllamacpp")


@x86_only
def test_when_the_prebuilt_wheel_cannot_be_put_back_the_error_gives_the_command(cfg):
    with pytest.raises(RagError, match="--only-binary xllamacpp xllamacpp=="):
        Steps([0, 1], failure="garbage").build(cfg)


def test_the_prebuilt_wheel_is_put_back_on_request(cfg):
    steps = Steps([0], failure=None)
    use_prebuilt(cfg, steps.said.append, steps.pip)
    ((args, env),) = steps.pip_calls
    assert "--only-binary" in args and env is None  # no build switches: the registry's wheel
    assert steps.said[-1].startswith("Installed: xllamacpp")
