"""The opt-in build for this CPU: which switches it turns on, and which build is installed."""

from __future__ import annotations

import pytest

from rag.errors import RagError
from rag.runtime.native import _last_error, cmake_args, cpu_flags, installed_build, self_test

AVX2_ONLY = {"sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"}
# An Intel Xeon with AVX-512 and AMX (the machine where a native build crashed at the first prompt).
AMX_XEON = AVX2_ONLY | {
    "avx512f",
    "avx512vbmi",
    "avx512_vnni",
    "avx512_bf16",
    "avx_vnni",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
}


def test_an_avx512_cpu_gets_its_avx512_kernels_and_never_amx():
    args = cmake_args(AMX_XEON)
    assert "-DGGML_NATIVE=OFF" in args  # a native build would turn AMX on by itself
    assert {"-DGGML_AVX512=ON", "-DGGML_AVX512_VNNI=ON", "-DGGML_AVX512_BF16=ON", "-DGGML_AVX_VNNI=ON"} <= set(args)
    assert not [a for a in args if "AMX" in a]


def test_an_avx2_cpu_gets_the_baseline_only():
    args = cmake_args(AVX2_ONLY)
    assert "-DGGML_AVX2=ON" in args and not [a for a in args if "AVX512" in a or "VNNI" in a]


def test_avx512_sub_features_without_avx512_itself_are_left_off():
    assert not [a for a in cmake_args(AVX2_ONLY | {"avx512_vnni"}) if "AVX512" in a]


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


def test_the_installed_build_says_whether_it_is_the_prebuilt_wheel():
    # The project installs the prebuilt wheel; a build for this CPU would say so instead.
    assert installed_build().startswith("xllamacpp ")
    assert installed_build().endswith(("(prebuilt)", "(built for this CPU)"))


def test_a_self_test_that_cannot_start_a_server_fails_in_one_line(cfg, tmp_path):
    # No model file where this config looks: the trial server cannot start, so the build is not kept.
    failure = self_test(cfg.replace(model_dir=tmp_path / "no-models"))
    assert failure and "\n" not in failure and "model" in failure.lower()


def test_a_failed_builds_last_error_line_is_what_is_said(tmp_path):
    log = tmp_path / "native-build.log"
    log.write_text("Building wheel\n  error: command 'g++' failed: No such file\n  note: This error originates\n\n")
    assert _last_error(log) == "error: command 'g++' failed: No such file"
